"""Local `script.module.requests` and `script.module.pyqrcode` Kodi add-ons built from PyPI, since
Debian's Kodi ships neither (Kodi's repository has both: the add-on depends on them).

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
QR_ADDON_ID = "script.module.pyqrcode"
PIP_ARGS = ("--only-binary=:all:", "--platform", "any", "--implementation", "py", "--python-version", "3.8")
# Kodi 19 embeds Python 3.9; --python-version did not hold back requests 2.34 and urllib3 2.8 here (they need
# 3.10: "unsupported operand type(s) for |" at import in Kodi 19), so the last releases for 3.8 are pinned.
PY38_PINS = ("urllib3<2.3", "idna<3.11")
PY38_REQUESTS = "requests<2.33"
# The modules are cached per pin set: a cache built before the pins holds the 3.10-only releases.
CACHE_FOLDER = "py38"

ADDON_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<addon id="{id}" name="{name}" version="{version}" provider-name="e2e tests">
    <requires>
        <import addon="xbmc.python" version="3.0.0"/>
    </requires>
    <extension point="xbmc.python.module" library="lib"/>
    <extension point="xbmc.addon.metadata">
        <summary lang="en_GB">{name} from PyPI, for end-to-end tests</summary>
        <platform>all</platform>
    </extension>
</addon>
"""


def requests_module(cache_dir: Path) -> Path:
    return python_module(cache_dir, ADDON_ID, "requests", pip_args=PIP_ARGS + PY38_PINS, spec=PY38_REQUESTS)


def pyqrcode_module(cache_dir: Path) -> Path:
    # pyqrcode is pure Python but published on PyPI as a source distribution only.
    return python_module(cache_dir, QR_ADDON_ID, "pyqrcode", pip_args=("--no-deps",))


def python_module(cache_dir: Path, addon_id: str, package: str, pip_args=PIP_ARGS, spec: str = "") -> Path:
    """The add-on folder under cache_dir, built once; its addon.xml is written last, so it marks a complete build."""
    cache_dir = Path(cache_dir) / CACHE_FOLDER
    target = cache_dir / addon_id
    if (target / "addon.xml").is_file():
        return target
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=str(cache_dir)) as tmp:
        build = Path(tmp) / addon_id
        lib = build / "lib"
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(lib),
                              *pip_args, spec or package], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        if pip.returncode != 0:
            raise RuntimeError("pip could not build %s:\n%s" % (addon_id, pip.stdout))
        for junk in [lib / "bin", *lib.rglob("__pycache__")]:
            shutil.rmtree(str(junk), ignore_errors=True)
        compiled = [p.name for p in lib.rglob("*") if p.suffix in (".so", ".pyd")]
        if compiled:
            raise RuntimeError("compiled files in %s: %s" % (addon_id, compiled))
        version = _installed_version(lib, package)
        (build / "addon.xml").write_text(ADDON_XML.format(id=addon_id, name=package, version=version),
                                         encoding="utf-8")
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
