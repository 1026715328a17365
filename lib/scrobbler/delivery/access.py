"""How a script reaches the service's outbox: it runs in an interpreter of its own (RunScript, the context
menu), so it opens the queue's file and wakes the service's sender with a Kodi notification."""
import os
import time

from .. import config, kodi
from ..simkl.account import current_owner
from .outbox import Outbox


def open_outbox(clock=time.time):
    """The queue as the account logged in now sees it (see Outbox's `account`)."""
    return Outbox(os.path.join(kodi.profile_dir(), config.OUTBOX_FILE), clock=clock, log=kodi.warn,
                  account=current_owner)


def request_flush():
    """Wake the service's sender through a Kodi notification."""
    kodi.hand_over(config.FLUSH_MESSAGE)
