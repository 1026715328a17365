"""After a login, and from the status view: what to do with the watches another account left waiting.

Asked in a script, where the user is (the login script once it has handed the login to the service, or
the status view), never by the service and never over a playing video, nor between two items of a playlist:
then a notification says where to decide instead. Each waiting entry belongs to the account it was made for
(see the outbox); the user sends an account's waiting watches to the account logged in now, discards them, or
keeps them for their own account (Later, or Back).
"""
from .. import kodi
from ..delivery.access import open_outbox, request_flush
from ..simkl.account import current_owner
from . import handover_model as model


def after_login():
    """The login script's last step."""
    with open_outbox() as outbox:
        ask(outbox)


def ask(outbox):
    """One question per other account whose watches wait; returns how many entries were sent or discarded."""
    owner = current_owner()
    if owner is None:
        return 0
    changed = 0
    for kept in outbox.kept_for_others():
        if kodi.condition("Player.HasVideo") or kodi.playlist_goes_on():
            kodi.log("%d entries of another account wait; not asked while a video or a playlist plays" % kept.count)
            notice = model.not_now(kept, kodi.localize)
            kodi.notify(notice.message, heading=notice.heading)
            return changed
        labels = model.buttons(kodi.localize)
        answer = model.choice(kodi.yesnocustom_dialog(model.question(kept, owner.name, kodi.localize),
                                                      model.heading(kept, kodi.localize), labels["yes"], labels["no"],
                                                      labels["custom"]))
        count = 0
        if answer == model.SEND:
            count = outbox.hand_over(kept.account, owner)
            request_flush()
        elif answer == model.DISCARD:
            count = outbox.discard_for(kept.account)
        kodi.log("%d entries of another account waiting: %s (%d)" % (kept.count, answer, count))
        if count:
            kodi.notify(model.done_text(answer, count, owner.name, kodi.localize, kept))
        changed += count
    return changed
