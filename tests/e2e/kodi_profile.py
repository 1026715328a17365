"""Files of a private Kodi profile ($HOME/.kodi), written while Kodi is stopped."""
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Dict, List, Union

# Everything that talks to the network on its own is off; JSON-RPC over TCP stays on (loopback only).
GUI_SETTINGS = {
    "services.wsdiscovery": False,
    "services.zeroconf": False,
    "services.upnp": False,
    "services.upnpserver": False,
    "services.upnprenderer": False,
    "services.airplay": False,
    "services.webserver": False,
    "services.esenabled": True,
    "services.esallinterfaces": False,
    "general.addonupdates": 2,
    "general.addonnotifications": False,
    "lookandfeel.enablerssfeeds": False,
    # Start (and so return after playback) in Settings, not Home: Estuary's Home widgets refresh in a
    # worker thread after each library change, and in Kodi 20.1 that deadlocks with the renderer now
    # and then (abort in CGUITextureManager::ReleaseTexture from CDirectoryProvider::OnJobComplete).
    "lookandfeel.startupwindow": 10004,
}

SettingValue = Union[str, int, bool]


def kodi_dir(home: Path) -> Path:
    return Path(home) / ".kodi"


def write_profile(home: Path, jsonrpc_port: int, event_port: int, debug_log: bool = False) -> None:
    """asoundrc (null audio), guisettings.xml (no network services) and advancedsettings.xml (ports, log)."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    # Without any ALSA device Kodi retries opening one for seconds at start and before each playback.
    (home / ".asoundrc").write_text("pcm.!default { type null }\n", encoding="utf-8")
    userdata = kodi_dir(home) / "userdata"
    userdata.mkdir(parents=True, exist_ok=True)
    gui = userdata / "guisettings.xml"
    if not gui.is_file():
        # Without <resolutions> and <viewstates> Kodi 20 and 21 log the whole file as unreadable ("CSettings:
        # unable to load settings from special://masterprofile/guisettings.xml") though they apply it.
        gui.write_text('<settings version="2">\n    <resolutions />\n    <viewstates />\n</settings>\n',
                       encoding="utf-8")
    merge_settings_file(gui, dict(GUI_SETTINGS, **{"services.esport": event_port}))
    advanced = ET.Element("advancedsettings", version="1.0")
    ET.SubElement(advanced, "splash").text = "false"
    if debug_log:
        ET.SubElement(advanced, "loglevel").text = "1"
    jsonrpc = ET.SubElement(advanced, "jsonrpc")
    ET.SubElement(jsonrpc, "compactoutput").text = "true"
    ET.SubElement(jsonrpc, "tcpport").text = str(jsonrpc_port)
    ET.ElementTree(advanced).write(str(userdata / "advancedsettings.xml"), encoding="utf-8", xml_declaration=True)


def merge_settings_file(path: Path, values: Dict[str, SettingValue]) -> None:
    """Set values in a `<settings version="2">` file (Kodi's stored format), keeping every other entry."""
    path = Path(path)
    if path.is_file():
        root = ET.parse(str(path)).getroot()
    else:
        root = ET.Element("settings", version="2")
    existing = {element.get("id"): element for element in root.findall("setting")}
    for key, value in values.items():
        element = existing.get(key)
        if element is None:
            element = ET.SubElement(root, "setting", id=key)
        element.attrib.pop("default", None)  # Kodi marks untouched defaults; ours are real values
        element.text = _to_text(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(str(path), encoding="utf-8", xml_declaration=True)


def read_settings_file(path: Path) -> Dict[str, str]:
    if not Path(path).is_file():
        return {}
    return {element.get("id"): element.text or "" for element in ET.parse(str(path)).getroot().findall("setting")}


def _to_text(value: SettingValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def install_addon_dir(home: Path, source: Path) -> str:
    """Copy an unpacked add-on folder into the profile; return its id (the folder name)."""
    target = kodi_dir(home) / "addons" / Path(source).name
    if target.exists():
        shutil.rmtree(str(target))
    shutil.copytree(str(source), str(target))
    return target.name


def install_addon_zip(home: Path, zip_path: Path) -> List[str]:
    """Unpack an add-on zip into the profile as Kodi's "install from zip" would; return the top folder names."""
    addons = kodi_dir(home) / "addons"
    addons.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(str(zip_path)) as archive:
        tops = sorted({name.split("/", 1)[0] for name in archive.namelist() if "/" in name})
        for top in tops:
            if (addons / top).exists():
                shutil.rmtree(str(addons / top))
        archive.extractall(str(addons))
    return tops
