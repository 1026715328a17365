"""Nothing the add-on calls is missing from Kodi 19's Python API (xbmc.python 3.0.0), or it asks first.

Kodi 19's API is kodistubs 19.0.3, which `make unit` and `make test` install into .cache/kodistubs19
(pip install --target); the suite's own kodistubs (Kodi 21) gives the newer API. A method a Kodi 19 class lacks
may be used only behind a hasattr() on it, listed in KODI19_ASKED_FIRST; the real-Kodi suite on Kodi 19
(KODI=19) shows the add-on working there.
"""
import ast
import os
import warnings
from pathlib import Path

import pytest

from fakekodi import load_stub

REPO = Path(__file__).resolve().parent.parent
KODISTUBS19 = REPO / ".cache" / "kodistubs19"
MODULES = ("xbmc", "xbmcaddon", "xbmcgui", "xbmcvfs", "xbmcplugin", "xbmcdrm")
# Methods Kodi 19 lacks on a class it has, which the add-on uses only after hasattr() said they exist.
KODI19_ASKED_FIRST = {
    "getPlayingItem": "xbmc.Player, Kodi 20: the player reads the playing item's path and properties",
    "getUniqueID": "xbmc.InfoTagVideo, Kodi 20: the player then reads VideoPlayer.UniqueID() alone",
}
# Names only a class the add-on does not use lacks in Kodi 19.
SAME_NAME_ON_ANOTHER_CLASS = {"getYear": "InfoTagMusic.getYear is newer; InfoTagVideo.getYear is in Kodi 19"}


def _api(folder: Path):
    """({module.name}, {module.Class: {method}}) of the stub modules in folder."""
    names, classes = set(), {}
    for module in MODULES:
        path = folder / (module + ".py")
        if not path.is_file():
            path = folder / module / "__init__.py"  # kodistubs 22 lays each module out as a package
        if not path.is_file():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the stubs' docstrings hold backslashes
            tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add("%s.%s" % (module, node.name))
            if isinstance(node, ast.ClassDef):
                classes["%s.%s" % (module, node.name)] = {item.name for item in node.body
                                                          if isinstance(item, ast.FunctionDef)}
            target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            if isinstance(target, ast.Name):
                names.add("%s.%s" % (module, target.id))
    return names, classes


def _sources():
    return sorted((REPO / "lib").rglob("*.py")) + [REPO / "service.py", REPO / "default.py"]


@pytest.fixture(scope="module")
def kodi19():
    if not (KODISTUBS19 / "xbmc.py").is_file():
        reason = "kodistubs 19.0.3 is not in %s: make unit installs it" % KODISTUBS19
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return _api(KODISTUBS19)


@pytest.fixture(scope="module")
def newer():
    stub = Path(load_stub("xbmc").__file__)
    return _api(stub.parent.parent if stub.name == "__init__.py" else stub.parent)


def test_every_kodi_module_name_the_add_on_uses_exists_in_kodi_19(kodi19):
    names, _ = kodi19
    used = {"%s.%s" % (node.value.id, node.attr) for path in _sources()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in MODULES}
    assert used, "no xbmc* name found: the scan is broken"
    assert sorted(used - names) == []


def test_a_method_kodi_19_lacks_is_used_only_after_asking_for_it(kodi19, newer):
    _, classes19 = kodi19
    _, classes = newer
    lacking = {method for name in set(classes) & set(classes19) for method in classes[name] - classes19[name]}
    assert "getPlayingItem" in lacking and "getUniqueID" in lacking, "the two APIs differ less than known"
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in _sources()}
    used = {node.attr for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert sorted(used & lacking) == sorted(set(KODI19_ASKED_FIRST) | set(SAME_NAME_ON_ANOTHER_CLASS))
    for method in KODI19_ASKED_FIRST:
        for path, tree in trees.items():
            if any(isinstance(node, ast.Attribute) and node.attr == method for node in ast.walk(tree)):
                asked = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                         and getattr(node.func, "id", "") == "hasattr" and len(node.args) == 2
                         and getattr(node.args[1], "value", None) == method]
                assert asked, "%s uses %s without hasattr() first (Kodi 19 lacks it)" % (path.name, method)
