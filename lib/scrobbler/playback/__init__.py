"""What was watched, decided in Kodi: player events, the watched rules, which title is playing, library marks."""
