"""Simkl scrobbler for Kodi: everything below lib/scrobbler is plain Python except kodi.py and playback/player.py."""
