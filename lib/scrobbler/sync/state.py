"""What the last sync saw of Simkl, kept in addon_data: the server's activity timestamps (never the
local clock), whether the first full pull is done, and whether the import was offered, per login."""
import json
import os
from typing import Optional

STATE_FILE = "sync_state.json"


class SyncState:
    def __init__(self, folder: str, account: str):
        self.path = os.path.join(folder, STATE_FILE)
        self.account = account
        data = self._read()
        if data.get("account") != account:
            data = {"account": account}  # another login: start over with a full pull
        self.activities: Optional[dict] = data.get("activities")
        self.full_done: bool = bool(data.get("full_done"))
        self.import_offered: bool = bool(data.get("import_offered"))

    def _read(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def save(self) -> None:
        data = {"account": self.account, "activities": self.activities, "full_done": self.full_done,
                "import_offered": self.import_offered}
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, self.path)
