#!/usr/bin/env python3
"""Check the add-on's translations: what `make check` runs beside kodi-addon-checker.

    python tools/check_strings.py [add-on folder]

- strings.po (resources/language/resource.language.en_gb) is a valid gettext file as Kodi's Weblate
  reads it: polib parses it, the header names the language and UTF-8, every entry has a msgctxt
  "#NNNNN" in the add-on range 30000-33999, defined once, with an English msgid and an empty msgstr,
  nothing fuzzy or obsolete; and `msgfmt --check` accepts it when gettext is installed.
- Every string id used exists in strings.po: settings.xml (label, help, heading, option labels),
  addon.xml (<label>), the skin XML files under resources/skins (<label>, $ADDON[id N]) and the
  integer constants in lib/ in the add-on range (localize() arguments and the tables feeding it).
- No id in strings.po is unused.
Exits 1 and prints each problem when any is found, 0 otherwise.
"""
import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import polib

ADDON_RANGE = range(30000, 34000)
PO_PATH = os.path.join("resources", "language", "resource.language.en_gb", "strings.po")
CONTEXT = re.compile(r"#(\d+)")
SKIN_ADDON_LABEL = re.compile(r"\$ADDON\[[\w.]+ (\d+)\]")


def _number(text):
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


def ids_in_settings(root):
    used = {}
    path = os.path.join(root, "resources", "settings.xml")
    for element in ET.parse(path).getroot().iter():
        values = [element.get("label"), element.get("help")]
        if element.tag == "heading":
            values.append(element.text)
        for value in values:
            number = _number(value)
            if number is not None:
                used.setdefault(number, "resources/settings.xml <%s>" % element.tag)
    return used


def ids_in_addon_xml(root):
    used = {}
    for element in ET.parse(os.path.join(root, "addon.xml")).getroot().iter("label"):
        number = _number(element.text)
        if number is not None:
            used.setdefault(number, "addon.xml <label>")
    return used


def ids_in_skins(root):
    used = {}
    skins = os.path.join(root, "resources", "skins")
    for folder, _, files in os.walk(skins):
        for name in sorted(files):
            if not name.endswith(".xml"):
                continue
            path = os.path.join(folder, name)
            where = os.path.relpath(path, root)
            tree = ET.parse(path).getroot()
            for element in tree.iter():
                if element.tag == "label":
                    number = _number(element.text)
                    if number is not None and number in ADDON_RANGE:
                        used.setdefault(number, where)
                for text in [element.text or ""] + list(element.attrib.values()):
                    for match in SKIN_ADDON_LABEL.finditer(text):
                        used.setdefault(int(match.group(1)), where)
    return used


def ids_in_code(root):
    used = {}
    for folder, dirs, files in os.walk(os.path.join(root, "lib")):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as handle:
                tree = ast.parse(handle.read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and type(node.value) is int and node.value in ADDON_RANGE:
                    used.setdefault(node.value, "%s:%d" % (os.path.relpath(path, root), node.lineno))
    return used


def check_po(path):
    """Problems of the file itself; returns (problems, {id: msgid})."""
    problems = []
    try:
        po = polib.pofile(path, encoding="utf-8", check_for_duplicates=True)
    except (OSError, ValueError) as exc:
        return ["%s: not a valid gettext file: %s" % (PO_PATH, exc)], {}
    header = po.metadata
    if header.get("Language") != "en_GB":
        problems.append("%s: header Language is %r, not 'en_GB'" % (PO_PATH, header.get("Language")))
    if "charset=UTF-8" not in header.get("Content-Type", ""):
        problems.append("%s: header Content-Type does not say charset=UTF-8" % PO_PATH)
    defined = {}
    for entry in po:
        where = "%s:%d" % (PO_PATH, entry.linenum)
        match = CONTEXT.fullmatch(entry.msgctxt or "")
        if not match:
            problems.append("%s: msgctxt %r is not \"#NNNNN\"" % (where, entry.msgctxt))
            continue
        number = int(match.group(1))
        if number not in ADDON_RANGE:
            problems.append("%s: id %d is outside the add-on range 30000-33999" % (where, number))
        if number in defined:
            problems.append("%s: id %d is defined twice" % (where, number))
        if not entry.msgid.strip():
            problems.append("%s: id %d has an empty msgid" % (where, number))
        if entry.msgstr:
            problems.append("%s: id %d has a msgstr: the en_gb file leaves msgstr empty" % (where, number))
        if "fuzzy" in entry.flags:
            problems.append("%s: id %d is fuzzy" % (where, number))
        defined[number] = entry.msgid
    if po.obsolete_entries():
        problems.append("%s: %d obsolete (#~) entries" % (PO_PATH, len(po.obsolete_entries())))
    return problems, defined


def check_msgfmt(path):
    """gettext's own check, when gettext is installed (CI installs it)."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        return [], "msgfmt not found: gettext check skipped"
    run = subprocess.run([msgfmt, "--check", "-o", os.devnull, path], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    if run.returncode != 0:
        return ["msgfmt --check: %s" % line for line in run.stdout.splitlines()], None
    return [], "msgfmt --check: ok"


def check(root):
    """All problems of the add-on folder's translations, and notes on what was checked."""
    path = os.path.join(root, PO_PATH)
    problems, defined = check_po(path)
    gettext_problems, note = check_msgfmt(path)
    problems += gettext_problems
    used = {}
    for source in (ids_in_settings, ids_in_addon_xml, ids_in_skins, ids_in_code):
        for number, where in source(root).items():
            used.setdefault(number, where)
    for number, where in sorted(used.items()):
        if number not in defined:
            problems.append("%s: string id %d is not in %s" % (where, number, PO_PATH))
    for number in sorted(set(defined) - set(used)):
        problems.append("%s: id %d (%r) is never used" % (PO_PATH, number, defined[number]))
    notes = ["%d strings, %d used" % (len(defined), len(used))] + ([note] if note else [])
    return problems, notes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="add-on folder (default: this source tree)")
    args = parser.parse_args(argv)
    problems, notes = check(args.folder)
    for problem in problems:
        print("ERROR: " + problem)
    print("check_strings: %s; %s" % ("; ".join(notes), "%d problems" % len(problems) if problems else "no problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
