"""A local `script.module.requests` Kodi add-on built from PyPI, since Debian's Kodi does not ship one.

Pure-Python wheels only: a compiled extension (charset_normalizer's) breaks the second Kodi
interpreter that imports requests ("Interpreter change detected"), as Kodi's own module avoids too.
"""
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ADDON_ID = "script.module.requests"
PIP_ARGS = ("--only-binary=:all:", "--platform", "any", "--implementation", "py", "--python-version", "3.8")

ADDON_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<addon id="{id}" name="requests" version="{version}" provider-name="e2e tests">
    <requires>
        <import addon="xbmc.python" version="3.0.0"/>
    </requires>
    <extension point="xbmc.python.module" library="lib"/>
    <extension point="xbmc.addon.metadata">
        <summary lang="en_GB">requests from PyPI, for end-to-end tests</summary>
        <platform>all</platform>
    </extension>
</addon>
"""


def requests_module(cache_dir: Path) -> Path:
    """The add-on folder under cache_dir, built once; its addon.xml is written last, so it marks a complete build."""
    target = Path(cache_dir) / ADDON_ID
    if (target / "addon.xml").is_file():
        return target
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=str(cache_dir)) as tmp:
        build = Path(tmp) / ADDON_ID
        lib = build / "lib"
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(lib),
                              *PIP_ARGS, "requests"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        if pip.returncode != 0:
            raise RuntimeError("pip could not build %s:\n%s" % (ADDON_ID, pip.stdout))
        for junk in [lib / "bin", *lib.rglob("__pycache__")]:
            shutil.rmtree(str(junk), ignore_errors=True)
        compiled = [p.name for p in lib.rglob("*") if p.suffix in (".so", ".pyd")]
        if compiled:
            raise RuntimeError("compiled files in %s: %s" % (ADDON_ID, compiled))
        version = _installed_version(lib, "requests")
        (build / "addon.xml").write_text(ADDON_XML.format(id=ADDON_ID, version=version), encoding="utf-8")
        try:
            build.rename(target)
        except OSError:
            if not (target / "addon.xml").is_file():  # another run finished first otherwise
                raise
    return target


def _installed_version(lib: Path, name: str) -> str:
    for info in lib.glob("%s-*.dist-info" % name):
        match = re.match(r"%s-(\d+(?:\.\d+)*)" % re.escape(name), info.name)
        if match:
            return match.group(1)
    raise RuntimeError("no %s dist-info in %s" % (name, lib))
