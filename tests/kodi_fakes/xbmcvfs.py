"""Fake xbmcvfs on top of kodistubs: special://profile/addon_data maps to the test's profile folder."""
import os

import fakekodi
from fakekodi import load_stub, world

_stub = load_stub("xbmcvfs")
globals().update({k: v for k, v in vars(_stub).items() if not k.startswith("__")})


def translatePath(path):
    prefix = "special://profile/addon_data/%s/" % fakekodi.ADDON_ID
    if path.startswith(prefix):
        return os.path.join(world().profile_dir, path[len(prefix):])
    if path.startswith("special://"):
        raise ValueError("the fake Kodi does not map %r" % path)
    return path


def exists(path):
    return os.path.exists(translatePath(path))
