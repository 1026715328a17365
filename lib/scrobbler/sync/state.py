"""What the last sync saw of Simkl, kept in addon_data: the server's activity timestamps (never the
local clock), whether the first full pull is done, and whether the import was offered (or is still to be), per
login; and, for the status view only, when the last sync ended on this device's clock.

Another login starts the sync over with a full pull (the other account's sync changed Kodi's marks meanwhile),
but the accounts already asked about Kodi's history are remembered: the question is asked once per account."""
import os
from typing import Optional

from ..files import read_json, write_json

STATE_FILE = "sync_state.json"


class SyncState:
    def __init__(self, folder: str, account: str):
        self.path = os.path.join(folder, STATE_FILE)
        self.account = account
        data = read_json(self.path)
        offered = [name for name in data.get("offered") or [] if isinstance(name, str)]
        if data.get("import_offered") and data.get("account") not in offered:  # a file from before 0.5.0
            offered.append(data.get("account"))
        self._offered = offered
        if data.get("account") != account:
            data = {"account": account}  # another login: start over with a full pull
        self.activities: Optional[dict] = data.get("activities")
        self.full_done: bool = bool(data.get("full_done"))
        # A full sync found Kodi's history to offer, and the question has not been asked yet (it waits until
        # nothing plays; Kodi may quit meanwhile): the next sync is a full one, and asks.
        self.import_due: bool = bool(data.get("import_due"))
        synced_at = data.get("synced_at")
        self.synced_at: Optional[float] = (float(synced_at) if isinstance(synced_at, (int, float))
                                           and not isinstance(synced_at, bool) else None)

    @property
    def import_offered(self) -> bool:
        """Whether this account was asked about Kodi's history (in this login or an earlier one)."""
        return self.account in self._offered

    def offered(self) -> None:
        """This account was asked about Kodi's history: never again, whoever logs in between."""
        if self.account not in self._offered:
            self._offered.append(self.account)

    def save(self) -> None:
        data = {"account": self.account, "activities": self.activities, "full_done": self.full_done,
                "offered": self._offered, "import_due": self.import_due, "synced_at": self.synced_at}
        write_json(self.path, data)
