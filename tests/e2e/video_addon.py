"""The test video add-on plugin.video.simkltest (a folder beside this file) and the plugin:// URLs it plays."""
import json
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import urlencode

PLUGIN_ID = "plugin.video.simkltest"
PLUGIN_DIR = Path(__file__).resolve().parent / PLUGIN_ID


def plugin_url(stream: str, title: str, year: Optional[int] = None, ids: Optional[Dict[str, str]] = None,
               listitem_ids: Optional[Dict[str, str]] = None) -> str:
    """An item that resolves to `stream` as a movie `title` (`year`). `ids` goes into the Home window
    property script.trakt.ids before resolving; `listitem_ids` into the resolved item's property
    service.scrobbler.simkl.ids."""
    params = {"title": title, "stream": stream}
    if year is not None:
        params["year"] = str(year)
    if ids is not None:
        params["ids"] = json.dumps(ids)
    if listitem_ids is not None:
        params["listitem_ids"] = json.dumps(listitem_ids)
    return "plugin://%s/play?%s" % (PLUGIN_ID, urlencode(params))
