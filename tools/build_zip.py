#!/usr/bin/env python3
"""Build the installable add-on zip: dist/<addon id>-<version>.zip.

The zip holds one top folder named after the add-on id with runtime files only:
addon.xml, the entry files, LICENSE.txt, resources/** and lib/**.py.
Standard library only, so it runs anywhere a Python 3.8+ is available.

    python tools/build_zip.py [--client-id ID] [--auth v1|v2] [--out-dir DIR] [--unpack DIR]

Without --auth the zip logs in as config.py says: Simkl's device login (v2); --auth v1 bakes the PIN login,
for a V1 app until Simkl ends it.
"""

import argparse
import json
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

ADDON_ID = "service.scrobbler.simkl"
CONFIG_PATH = "lib/scrobbler/config.py"
TOP_FILES_REQUIRED = ("addon.xml", "LICENSE.txt")
TOP_FILES_OPTIONAL = ("default.py", "service.py")
# Fixed metadata so two builds of the same tree give byte-identical zips.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
DIR_MODE = 0o040755
SKIP_DIRS = {"__pycache__"}
SKIP_SUFFIXES = (".pyc", ".pyo", "~", ".bak", ".orig", ".rej", ".swp")


class BuildError(Exception):
    """A problem in the source tree that makes the zip unusable."""


def read_addon_xml(root):
    path = root / "addon.xml"
    if not path.is_file():
        raise BuildError(f"{path} not found")
    try:
        tree = ET.parse(str(path)).getroot()
    except ET.ParseError as exc:
        raise BuildError(f"addon.xml is not valid XML: {exc}") from exc
    addon_id = tree.get("id")
    version = tree.get("version")
    if addon_id != ADDON_ID:
        raise BuildError(f"addon.xml id is {addon_id!r}, expected {ADDON_ID!r}")
    if not version:
        raise BuildError("addon.xml has no version attribute")
    return tree, version


def _wanted(rel_parts):
    """Whether a file (as path parts relative to its walk root) belongs in the zip."""
    if any(part.startswith(".") for part in rel_parts):
        return False
    if any(part in SKIP_DIRS for part in rel_parts[:-1]):
        return False
    return not rel_parts[-1].endswith(SKIP_SUFFIXES)


def _walk(base, root):
    """Files under base as posix paths relative to root, pruning dot and cache folders."""
    found = []
    for dirpath, dirnames, filenames in os.walk(str(base)):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS]
        for name in filenames:
            rel = Path(dirpath, name).relative_to(root)
            if _wanted(rel.parts):
                found.append(rel.as_posix())
    return found


def collect_files(root):
    """Sorted list of posix paths (relative to root) that make up the add-on."""
    files = []
    for name in TOP_FILES_REQUIRED:
        if not (root / name).is_file():
            raise BuildError(f"required file {name} is missing")
        files.append(name)
    files += [name for name in TOP_FILES_OPTIONAL if (root / name).is_file()]
    if (root / "resources").is_dir():
        files += _walk(root / "resources", root)
    if (root / "lib").is_dir():
        files += [path for path in _walk(root / "lib", root) if path.endswith(".py")]
    return sorted(set(files))


def referenced_files(addon_xml):
    """Files addon.xml points at: extension/item libraries and metadata assets."""
    refs = set()
    for element in addon_xml.iter():
        library = element.get("library")
        if library and element.tag in ("extension", "item"):
            refs.add(library)
    for assets in addon_xml.iter("assets"):
        for asset in assets:
            if asset.text and asset.text.strip():
                refs.add(asset.text.strip())
    return refs


def bake(text, name, value, path=CONFIG_PATH):
    """Replace the string value on the one line starting with '<name> = '."""
    prefix = f"{name} = "
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    if len(hits) != 1:
        raise BuildError(f"{path}: expected exactly one line starting with {prefix!r}, found {len(hits)}")
    i = hits[0]
    line = lines[i]
    ending = line[len(line.rstrip("\r\n")):]
    # Keep a trailing comment after a plain string literal; json.dumps gives a valid Python literal.
    match = re.match(r"""^(?:"[^"\\]*"|'[^'\\]*')(\s*#.*)?$""", line[len(prefix):].rstrip("\r\n"))
    comment = (match.group(1) or "") if match else ""
    lines[i] = f"{prefix}{json.dumps(value)}{comment}{ending}"
    return "".join(lines)


def _zip_info(name, mode):
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.create_system = 3  # unix, so the permission bits below are honoured everywhere
    info.external_attr = mode << 16
    if name.endswith("/"):
        info.external_attr |= 0x10  # MS-DOS directory flag
    else:
        info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build(root, out_dir, client_id=None, auth=None):
    """Write the zip and return its path. The source tree is only read."""
    root = Path(root).resolve()
    addon_xml, version = read_addon_xml(root)
    files = collect_files(root)

    missing = sorted(ref for ref in referenced_files(addon_xml) if ref not in files)
    if missing:
        raise BuildError(f"addon.xml references files that would not be in the zip: {', '.join(missing)}")

    overrides = {}
    if client_id is not None or auth is not None:
        if CONFIG_PATH not in files:
            raise BuildError(f"{CONFIG_PATH} is missing; cannot bake --client-id/--auth")
        text = (root / CONFIG_PATH).read_text(encoding="utf-8")
        if client_id is not None:
            text = bake(text, "CLIENT_ID", client_id)
        if auth is not None:
            text = bake(text, "AUTH_FLOW", auth)
        overrides[CONFIG_PATH] = text.encode("utf-8")

    dirs = set()
    for path in files:
        parts = path.split("/")[:-1]
        for depth in range(len(parts) + 1):
            dirs.add("/".join([ADDON_ID] + parts[:depth]) + "/")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{ADDON_ID}-{version}.zip"
    tmp_path = zip_path.with_name(zip_path.name + ".tmp")
    entries = [(d, None) for d in dirs] + [(f"{ADDON_ID}/{path}", path) for path in files]
    with zipfile.ZipFile(str(tmp_path), "w") as archive:
        for name, path in sorted(entries):
            if path is None:
                archive.writestr(_zip_info(name, DIR_MODE), b"")
            else:
                data = overrides.get(path)
                if data is None:
                    data = (root / path).read_bytes()
                archive.writestr(_zip_info(name, FILE_MODE), data)
    os.replace(str(tmp_path), str(zip_path))
    return zip_path


def unpack(zip_path, dest, root):
    """Extract the zip into dest, replacing an earlier unpacked copy of the add-on there."""
    dest = Path(dest)
    target = (dest / ADDON_ID).resolve()
    if target.exists():
        # A checkout is often named after the add-on id: never delete a source tree.
        if target == root or target in root.parents or (target / ".git").exists():
            raise BuildError(f"refusing to replace {target}: it looks like a source tree")
        shutil.rmtree(str(target))
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(str(zip_path)) as archive:
        archive.extractall(str(dest))
    return target


def main(argv=None):
    default_root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=default_root, help="add-on source tree (default: repo root)")
    parser.add_argument("--out-dir", type=Path, default=None, help="where to write the zip (default: <root>/dist)")
    parser.add_argument("--client-id", default=os.environ.get("CLIENT_ID"),
                        help="bake this Simkl client id into the zipped config.py (default: env CLIENT_ID)")
    parser.add_argument("--auth", choices=("v1", "v2"),
                        help="bake this AUTH_FLOW into the zipped config.py (default: config.py's, v2: the device"
                        " login; v1: the PIN login)")
    parser.add_argument("--unpack", type=Path, metavar="DIR", help=f"also extract the zip into DIR/{ADDON_ID}/")
    args = parser.parse_args(argv)

    out_dir = args.out_dir if args.out_dir is not None else args.root / "dist"
    try:
        zip_path = build(args.root, out_dir, client_id=args.client_id or None, auth=args.auth)
        if args.unpack is not None:
            print(f"unpacked: {unpack(zip_path, args.unpack, args.root.resolve())}")
    except BuildError as exc:
        print(f"build_zip: error: {exc}", file=sys.stderr)
        return 1
    print(zip_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
