"""Test video add-on: plugin://plugin.video.simkltest/play?stream=<url>&title=…&year=…&ids=<json>&listitem_ids=<json>

Resolves the item to `stream` with setResolvedUrl, as real video add-ons do, with a movie info tag
(title, year). `ids` (JSON) goes into the Home window property script.trakt.ids just before
resolving, the convention real add-ons use to hand ids to scrobblers; without `ids` the property is
left as it is (a real add-on's leftover describes the previous item). `listitem_ids` (JSON) is set as
the resolved item's property service.scrobbler.simkl.ids instead.
"""
import sys
from urllib.parse import parse_qsl, urlsplit

import xbmc
import xbmcgui
import xbmcplugin

HOME_WINDOW = 10000


def main(argv):
    handle = int(argv[1])
    action = urlsplit(argv[0]).path.strip("/")
    params = dict(parse_qsl(argv[2].lstrip("?")))
    if action != "play":
        xbmcplugin.endOfDirectory(handle)  # the add-on's root: an empty folder
        return
    if not params.get("stream"):
        xbmc.log("[plugin.video.simkltest] no stream in %s" % argv[2], xbmc.LOGWARNING)
        xbmcplugin.setResolvedUrl(handle, False, xbmcgui.ListItem(offscreen=True))
        return
    item = xbmcgui.ListItem(label=params.get("title", ""), path=params["stream"], offscreen=True)
    tag = item.getVideoInfoTag()
    info = {"mediatype": params.get("mediatype", "movie"), "title": params.get("title", "")}
    if params.get("year"):
        info["year"] = int(params["year"])
    if hasattr(tag, "setMediaType"):
        tag.setMediaType(info["mediatype"])
        tag.setTitle(info["title"])
        if "year" in info:
            tag.setYear(info["year"])
    else:
        item.setInfo("video", info)  # Kodi 19's InfoTagVideo has no setters (they came with Kodi 20)
    if params.get("listitem_ids"):
        item.setProperty("service.scrobbler.simkl.ids", params["listitem_ids"])
    if params.get("ids"):
        xbmcgui.Window(HOME_WINDOW).setProperty("script.trakt.ids", params["ids"])
    xbmcplugin.setResolvedUrl(handle, True, item)


if __name__ == "__main__":
    main(sys.argv)
