#!/usr/bin/env python3
"""Build (or add a release to) a static Kodi repository: dist/repo/ by default.

    python tools/build_repo.py --repo-url https://USER.github.io/REPO/ [--out DIR] [--addon-zip ZIP]
                               [--client-id ID] [--auth v1|v2]

The folder it writes, for any static web host (GitHub Pages, a plain web server) at --repo-url:

    repository.scrobbler.simkl-<v>.zip     the repository add-on: what a user installs from a zip file
    index.html                             links that zip and every other file at the top, so Kodi's file
                                           manager can browse the address (Add source)
    addons.xml, addons.xml.md5             every published version of both add-ons, and its checksum
    <id>/<id>-<version>.zip (+ .sha256)    each add-on's zips, older versions kept
    <id>/<asset>                           the icon, fanart and screenshots addons.xml names

Kodi reads a repository add-on's <dir> (info, checksum, datadir zip="true", hashes) and takes an add-on's
zip from <datadir>/<id>/<id>-<version>.zip and its art from <artdir or datadir>/<id>/<asset path>
(xbmc/addons/Repository.cpp, xbmc/addons/addoninfo/AddonInfoBuilder.cpp). With <hashes>sha256</hashes>
it checks each zip against <zip>.sha256 before installing it.

The add-on zip is built from the tree with tools/build_zip.py, or --addon-zip publishes one built before
(an older release, say). Publishing into an existing folder adds the new zips and keeps the older ones; a
version already published with other content is refused: Kodi would never fetch it again.
Standard library only.
"""

import argparse
import hashlib
import html
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY_ID = "repository.scrobbler.simkl"
REPOSITORY_NAME = "Simkl Scrobbler repository"
# The repository add-on's own version: raise it when its addon.xml changes (a new address, say), so that
# Kodi updates it from the repository it points at.
REPOSITORY_VERSION = "1.0.0"
HASH = "sha256"  # of each zip, beside it as <zip>.sha256 (the <hashes> Kodi 19 and later read)

REPOSITORY_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<addon id="{id}" name="{name}" version="{version}" provider-name="{provider}">
    <requires>
        <import addon="xbmc.addon" version="12.0.0"/>
    </requires>
    <extension point="xbmc.addon.repository" name="{name}">
        <dir>
            <info compressed="false">{url}addons.xml</info>
            <checksum>{url}addons.xml.md5</checksum>
            <datadir zip="true">{url}</datadir>
            <hashes>{hash}</hashes>
        </dir>
    </extension>
    <extension point="xbmc.addon.metadata">
        <summary lang="en_GB">Simkl Scrobbler and its updates</summary>
        <description lang="en_GB">Install Simkl Scrobbler from here; Kodi then keeps it up to date.</description>
        <platform>all</platform>
        <license>{license}</license>
        <source>{source}</source>
        <assets>
            <icon>icon.png</icon>
            <fanart>fanart.jpg</fanart>
        </assets>
    </extension>
</addon>
"""
REPOSITORY_ASSETS = {"icon.png": "resources/icon.png", "fanart.jpg": "resources/fanart.jpg"}

# Kodi's file manager lists an http source from its index page, and Kodi then keeps that listing: a file of
# the folder the listing leaves out cannot be opened for a while (CFile::Open asks the directory cache), so
# the page links every file and folder at the top, addons.xml.md5 too, not only the zip to install.
INDEX_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{name}</title></head>
<body><h1>{name}</h1>
<p>In Kodi: Add-ons, Install from zip file, then <a href="{zip}">{zip}</a>.</p>
<ul>
{links}
</ul>
</body></html>
"""


def _load_build_zip():
    spec = importlib.util.spec_from_file_location("build_zip", str(Path(__file__).resolve().parent / "build_zip.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_zip = _load_build_zip()
BuildError = build_zip.BuildError


def repo_url(url):
    """The repository's address as Kodi will use it: http(s), ending in a slash."""
    url = (url or "").strip()
    if not url:
        raise BuildError("no repository address: give the one the folder will be served from, "
                         "e.g. make repo REPO_URL=https://USER.github.io/REPO/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise BuildError("the repository's address (REPO_URL) must start with https:// (or http://), "
                         "e.g. make repo REPO_URL=https://USER.github.io/REPO/; got %r" % url)
    return url if url.endswith("/") else url + "/"


def version_key(version):
    """Kodi's order of x.y.z versions (an optional ~suffix comes before the release, a +suffix after it)."""
    match = re.match(r"^([0-9.]+)(?:([+~])(.*))?$", version)
    if match is None:
        return (0,), 0, version
    numbers = tuple(int(part) for part in match.group(1).split(".") if part.isdigit())
    return numbers, {"~": -1, None: 0, "+": 1}[match.group(2)], match.group(3) or ""


def _manifest(zip_path):
    """The (id, version, addon.xml text) of an add-on zip: one top folder named after the id, holding addon.xml."""
    with zipfile.ZipFile(str(zip_path)) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
        if len(tops) != 1:
            raise BuildError("%s: expected one top folder, found %s" % (zip_path, ", ".join(sorted(tops))))
        addon_id = tops.pop()
        try:
            text = archive.read(addon_id + "/addon.xml").decode("utf-8")
        except KeyError:
            raise BuildError("%s: no %s/addon.xml" % (zip_path, addon_id)) from None
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise BuildError("%s: addon.xml is not valid XML: %s" % (zip_path, exc)) from exc
    if root.get("id") != addon_id or not root.get("version"):
        raise BuildError("%s: addon.xml's id %r does not match its folder %r, or it has no version"
                         % (zip_path, root.get("id"), addon_id))
    return addon_id, root.get("version"), text


def _assets(manifest_text):
    """The asset paths (icon, fanart, screenshots...) an addon.xml names."""
    root = ET.fromstring(manifest_text.encode("utf-8"))
    return sorted({asset.text.strip() for assets in root.iter("assets") for asset in assets
                   if asset.text and asset.text.strip()})


def _news(manifest_text):
    root = ET.fromstring(manifest_text.encode("utf-8"))
    news = root.find("./extension/news")
    return news.text.strip() + "\n" if news is not None and news.text else ""


def _digest(path, name):
    return hashlib.new(name, Path(path).read_bytes()).hexdigest()


def _write_if_changed(path, data):
    path = Path(path)
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(str(tmp), str(path))


def publish(zip_path, out):
    """Put an add-on zip into the repository folder `out`: <id>/<id>-<version>.zip, its .sha256, its art.
    Returns the published zip's path. The same version with other bytes is refused."""
    addon_id, version, text = _manifest(zip_path)
    folder = Path(out) / addon_id
    target = folder / ("%s-%s.zip" % (addon_id, version))
    data = Path(zip_path).read_bytes()
    if target.is_file() and target.read_bytes() != data:
        raise BuildError("%s %s is already published with other content: raise its version "
                         "(Kodi never fetches a version it has seen again)" % (addon_id, version))
    _write_if_changed(target, data)
    _write_if_changed(target.with_name(target.name + "." + HASH), (_digest(target, HASH) + "\n").encode())
    news = _news(text)
    if news:
        _write_if_changed(folder / ("changelog-%s.txt" % version), news.encode("utf-8"))
    # The newest version's art is what Kodi shows for every version (one path per asset).
    newest = max(published_versions(folder, addon_id), key=version_key)
    if newest == version:
        with zipfile.ZipFile(str(zip_path)) as archive:
            for asset in _assets(text):
                try:
                    _write_if_changed(folder / asset, archive.read("%s/%s" % (addon_id, asset)))
                except KeyError:
                    raise BuildError("%s: addon.xml names %s, which the zip does not hold"
                                     % (zip_path, asset)) from None
    return target


def published_versions(folder, addon_id):
    pattern = re.compile(r"^%s-(.+)\.zip$" % re.escape(addon_id))
    return [match.group(1) for match in (pattern.match(path.name) for path in Path(folder).glob("*.zip")) if match]


def repository_addon(root, url, into):
    """Write the repository add-on's folder (addon.xml pointing at `url`, icon, fanart, licence) into `into`."""
    manifest, _ = build_zip.read_addon_xml(Path(root))
    metadata = manifest.find("./extension[@point='xbmc.addon.metadata']")

    def field(name):
        element = metadata.find(name) if metadata is not None else None
        return html.escape(element.text.strip() if element is not None and element.text else "", quote=True)

    folder = Path(into) / REPOSITORY_ID
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "addon.xml").write_text(REPOSITORY_XML.format(
        id=REPOSITORY_ID, name=REPOSITORY_NAME, version=REPOSITORY_VERSION,
        provider=html.escape(manifest.get("provider-name", ""), quote=True), url=html.escape(url, quote=True),
        hash=HASH, license=field("license"), source=field("source")), encoding="utf-8")
    for name, source in REPOSITORY_ASSETS.items():
        shutil.copyfile(str(Path(root) / source), str(folder / name))
    shutil.copyfile(str(Path(root) / "LICENSE.txt"), str(folder / "LICENSE.txt"))
    return folder


def zip_folder(folder, out_dir):
    """A byte-for-byte repeatable zip of an add-on folder (as tools/build_zip.py makes them)."""
    folder = Path(folder)
    addon_id = folder.name
    version = ET.parse(str(folder / "addon.xml")).getroot().get("version")
    zip_path = Path(out_dir) / ("%s-%s.zip" % (addon_id, version))
    names = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    with zipfile.ZipFile(str(zip_path), "w") as archive:
        archive.writestr(build_zip._zip_info(addon_id + "/", build_zip.DIR_MODE), b"")
        for name in names:
            archive.writestr(build_zip._zip_info("%s/%s" % (addon_id, name), build_zip.FILE_MODE),
                             (folder / name).read_bytes())
    return zip_path


def _strip_declaration(text):
    return re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", text).strip()


def write_index(out):
    """addons.xml (every version of every add-on published in `out`, oldest first) and addons.xml.md5."""
    out = Path(out)
    entries = []
    for folder in sorted(path for path in out.iterdir() if path.is_dir() and not path.name.startswith(".")):
        for version in sorted(published_versions(folder, folder.name), key=version_key):
            _, _, text = _manifest(folder / ("%s-%s.zip" % (folder.name, version)))
            entries.append(_strip_declaration(text))
    document = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<addons>\n%s\n</addons>\n' % "\n".join(entries)
    data = document.encode("utf-8")
    ET.fromstring(data)  # a listing Kodi cannot parse must never be published
    _write_if_changed(out / "addons.xml", data)
    _write_if_changed(out / "addons.xml.md5", (hashlib.md5(data).hexdigest() + "\n").encode())
    return out / "addons.xml"


def build(root, out, url, addon_zip=None, client_id=None, auth=None):
    """Publish the add-on (built from `root`, or `addon_zip`) and the repository add-on into `out`.
    Returns the repository add-on's zip at the top of `out` (what a user installs)."""
    url = repo_url(url)
    root, out = Path(root).resolve(), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if addon_zip is None:
            addon_zip = build_zip.build(root, Path(tmp) / "addon", client_id=client_id, auth=auth)
        publish(addon_zip, out)
        folder = repository_addon(root, url, Path(tmp) / "repository")
        published = out / REPOSITORY_ID / ("%s-%s.zip" % (REPOSITORY_ID, REPOSITORY_VERSION))
        # A published repository add-on stays as it is while its addon.xml is the same (new art alone is
        # no reason for a new version); another addon.xml (a new address) needs a new version.
        if not published.is_file() or _manifest(published)[2] != (folder / "addon.xml").read_text(encoding="utf-8"):
            if published.is_file():
                raise BuildError("%s %s is already published with another addon.xml (another REPO_URL?): raise "
                                 "REPOSITORY_VERSION in tools/build_repo.py" % (REPOSITORY_ID, REPOSITORY_VERSION))
            publish(zip_folder(folder, tmp), out)
    top = out / published.name
    _write_if_changed(top, published.read_bytes())
    for stale in out.glob(REPOSITORY_ID + "-*.zip"):
        if stale != top:
            stale.unlink()  # the top keeps only the newest repository zip: the one to install
    write_index(out)
    write_index_page(out, top.name)
    _write_if_changed(out / ".nojekyll", b"")  # GitHub Pages: serve the files as they are
    return top


def write_index_page(out, zip_name):
    """index.html: the repository zip to install, and a link to every file and folder at the top."""
    names = sorted(path.name + ("/" if path.is_dir() else "") for path in Path(out).iterdir()
                   if path.name != "index.html" and not path.name.startswith(".") and not path.name.endswith(".tmp"))
    links = "\n".join('<li><a href="{0}">{0}</a></li>'.format(html.escape(name, quote=True)) for name in names)
    page = INDEX_HTML.format(name=REPOSITORY_NAME, zip=html.escape(zip_name, quote=True), links=links)
    _write_if_changed(Path(out) / "index.html", page.encode("utf-8"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo-url", default=os.environ.get("REPO_URL"),
                        help="the address the folder will be served from (default: env REPO_URL)")
    parser.add_argument("--root", type=Path, default=ROOT, help="add-on source tree (default: repo root)")
    parser.add_argument("--out", type=Path, default=None, help="the repository folder (default: <root>/dist/repo)")
    parser.add_argument("--addon-zip", type=Path, help="publish this add-on zip instead of building one")
    parser.add_argument("--client-id", default=os.environ.get("CLIENT_ID"),
                        help="bake this Simkl client id into the built add-on (default: env CLIENT_ID)")
    parser.add_argument("--auth", choices=("v1", "v2"), help="bake this AUTH_FLOW into the built add-on")
    parser.add_argument("--unpack", type=Path, metavar="DIR",
                        help="also extract the repository add-on into DIR/%s/ (to check it)" % REPOSITORY_ID)
    args = parser.parse_args(argv)
    out = args.out if args.out is not None else args.root / "dist" / "repo"
    try:
        top = build(args.root, out, args.repo_url, addon_zip=args.addon_zip, client_id=args.client_id or None,
                    auth=args.auth)
        if args.unpack is not None:
            shutil.rmtree(str(args.unpack / REPOSITORY_ID), ignore_errors=True)
            with zipfile.ZipFile(str(top)) as archive:
                archive.extractall(str(args.unpack))
    except BuildError as exc:
        print("build_repo: error: %s" % exc, file=sys.stderr)
        return 1
    print(top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
