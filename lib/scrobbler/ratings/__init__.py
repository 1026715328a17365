"""Ratings kept the same in Kodi's library and on Simkl: the memo of what both agree on, and Kodi's changes."""
