"""The service's entry: the start line is logged before the add-on's modules are imported, and the
ready line (service.Service.run) says how long the start-up took. Nothing here delays Kodi's own
start: Kodi runs each service in an interpreter of its own."""
import time

import xbmc

from . import config


def service():
    started = time.perf_counter(), time.thread_time()
    xbmc.log("[%s] service starting" % config.ADDON_ID, xbmc.LOGINFO)
    from .service import Service
    Service(started=started).run()
