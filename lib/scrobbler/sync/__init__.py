"""Two-way sync between the user's Simkl lists and Kodi's library.

    remote.py   what Simkl has as watched: the activities gate and the all-items pulls, parsed
    library.py  Kodi's library over JSON-RPC: read in pages, written in batches
    plan.py     pure decisions: what Kodi must mark (or unmark), what Kodi can send to Simkl
    state.py    what the last sync saw of Simkl (its own timestamps), per login
    engine.py   one sync at a time: gate, pull, write, save; yields to playback and library scans
"""
