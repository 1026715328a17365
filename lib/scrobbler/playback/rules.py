"""The rules a playback is judged by (playback/watch.py), as the user set them in the settings."""
from .. import kodi
from .watch import Rules

EXCLUDED_FOLDER_SLOTS = 12  # exclude_folder1..12 in settings.xml


def read_rules() -> Rules:
    settings = kodi.addon()  # one read of the settings file for all of them
    folders = tuple(f for f in (kodi.setting_str("exclude_folder%d" % n, settings=settings)
                                for n in range(1, EXCLUDED_FOLDER_SLOTS + 1)) if f)
    return Rules(threshold=max(1, min(100, kodi.setting_int("threshold", 80, settings))) / 100.0,
                 min_length=max(0, kodi.setting_int("min_length", 5, settings)) * 60.0,
                 movies=kodi.setting_bool("scrobble_movies", True, settings),
                 episodes=kodi.setting_bool("scrobble_episodes", True, settings),
                 exclude_http=kodi.setting_bool("exclude_http", settings=settings),
                 exclude_plugin=kodi.setting_bool("exclude_plugin", settings=settings),
                 excluded_folders=folders)
