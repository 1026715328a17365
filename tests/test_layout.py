"""The package's shape: layers as the README's Layout section states them (imports go downwards only,
no two packages or modules import each other), and no function too complex to read (issue 18)."""
import ast
from pathlib import Path

import pytest
from radon.complexity import cc_rank, cc_visit
from radon.visitors import Function

PACKAGE = Path(__file__).resolve().parent.parent / "lib" / "scrobbler"
TOP, MIDDLE, BOTTOM = 2, 1, 0
LAYERS = {"ui": TOP, "service": TOP, "boot": TOP,
          "playback": MIDDLE, "delivery": MIDDLE, "sync": MIDDLE, "rewatch": MIDDLE, "ratings": MIDDLE,
          "simkl": BOTTOM, "media": BOTTOM, "kodi": BOTTOM, "config": BOTTOM, "clock": BOTTOM, "values": BOTTOM,
          "times": BOTTOM, "files": BOTTOM, "counts": BOTTOM, "__init__": BOTTOM}


def modules():
    return sorted(path.relative_to(PACKAGE) for path in PACKAGE.rglob("*.py"))


def layer_of(parts):
    """The layer of a module given by its path parts below lib/scrobbler (a subpackage, or a top module)."""
    return LAYERS[parts[0][:-3] if parts[0].endswith(".py") else parts[0]]


def imported(relative):
    """Path parts below lib/scrobbler of every module of the package that `relative` imports."""
    tree = ast.parse((PACKAGE / relative).read_text(encoding="utf-8"))
    here = list(relative.parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[:len(here) - (node.level - 1)] if node.level > 1 else list(here)
            target = base + (node.module.split(".") if node.module else [])
            if target:
                yield target
            else:  # `from .. import kodi, config`: the names are the modules
                for alias in node.names:
                    yield [alias.name]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lib.scrobbler."):
            yield node.module.split(".")[2:]


def test_every_module_of_the_package_has_a_layer():
    heads = {m.stem if len(m.parts) == 1 else m.parts[0] for m in modules()}
    assert heads - set(LAYERS) == set()


@pytest.mark.parametrize("relative", modules(), ids=str)
def test_imports_go_downwards_only(relative):
    own = layer_of(relative.parts)
    upward = ["/".join(target) for target in imported(relative) if layer_of(target) > own]
    assert upward == [], "%s (layer %d) imports a higher layer" % (relative, own)


def package_of(parts):
    """The subpackage (or top module) a module given by its path parts below lib/scrobbler belongs to."""
    return parts[0][:-3] if parts[0].endswith(".py") else parts[0]


def test_no_two_packages_import_each_other():
    arrows = {(package_of(m.parts), package_of(target)) for m in modules() for target in imported(m)}
    both_ways = sorted("%s <-> %s" % (a, b) for a, b in arrows if a < b and (b, a) in arrows)
    assert both_ways == []


def module_imports(relative):
    """Modules of the package (path strings below lib/scrobbler, without .py) that `relative` imports, lazy
    imports included; `from . import status` names the module status, not its package."""
    known = {m.with_suffix("").as_posix() for m in modules()}

    def module(parts):
        name = "/".join(parts)
        return name if name in known else (name + "/__init__" if name + "/__init__" in known else None)

    for target in imported(relative):
        yield module(target)
    tree = ast.parse((PACKAGE / relative).read_text(encoding="utf-8"))
    here = list(relative.parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[:len(here) - (node.level - 1)] + (node.module.split(".") if node.module else [])
            for alias in node.names:
                yield module(base + [alias.name])


def test_no_module_imports_itself_back_through_others():
    graph = {m.with_suffix("").as_posix(): set(module_imports(m)) - {None} for m in modules()}
    for start in sorted(graph):
        came_from, todo = {}, [start]
        while todo:
            name = todo.pop(0)
            for target in sorted(graph[name]):
                if target == start:
                    path = [name]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    pytest.fail("import cycle: %s" % " -> ".join([start] + path[::-1][1:] + [start]))
                if target not in came_from:
                    came_from[target] = name
                    todo.append(target)


def test_a_scripts_hand_off_to_the_service_is_written_once_in_kodi_py():
    writers = [str(m) for m in modules() if "JSONRPC.NotifyAll" in (PACKAGE / m).read_text(encoding="utf-8")]
    assert writers == ["kodi.py"]


def test_no_function_above_grade_c():
    """Issue 18: radon grades every function and method of the package C or better (complexity 20 or less)."""
    too_complex = ["%s:%d %s %s(%d)" % (relative, block.lineno, block.fullname, cc_rank(block.complexity),
                                         block.complexity)
                   for relative in modules()
                   for block in cc_visit((PACKAGE / relative).read_text(encoding="utf-8"))
                   if isinstance(block, Function) and cc_rank(block.complexity) > "C"]
    assert too_complex == [], "graded D or worse by radon: " + ", ".join(too_complex)
