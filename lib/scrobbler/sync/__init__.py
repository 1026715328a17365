"""Two-way sync between the user's Simkl lists and Kodi's library.

    remote.py   what Simkl has as watched: the activities gate and the all-items pulls, parsed
    library.py  Kodi's library over JSON-RPC: read in pages (or only the items a delta names), written in batches
    index.py    where each title sits in Kodi's library, kept current from Kodi's notifications
    plan.py     pure decisions: what Kodi must mark (or unmark), what Kodi can send to Simkl
    state.py    what the last sync saw of Simkl (its own timestamps), per login
    engine.py   one sync at a time: gate, pull, write, save; yields to playback and library scans
    runner.py   when a sync runs, in its own thread, and what the user sees of it
"""
