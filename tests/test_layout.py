"""The package's shape: layers as the README's Layout section states them (imports go downwards only), and
no function too complex to read (issue 18)."""
import ast
from pathlib import Path

import pytest
from radon.complexity import cc_rank, cc_visit
from radon.visitors import Function

PACKAGE = Path(__file__).resolve().parent.parent / "lib" / "scrobbler"
TOP, MIDDLE, BOTTOM = 2, 1, 0
LAYERS = {"ui": TOP, "service": TOP, "boot": TOP,
          "playback": MIDDLE, "delivery": MIDDLE, "sync": MIDDLE, "rewatch": MIDDLE,
          "simkl": BOTTOM, "media": BOTTOM, "kodi": BOTTOM, "config": BOTTOM, "clock": BOTTOM, "values": BOTTOM,
          "times": BOTTOM, "files": BOTTOM, "__init__": BOTTOM}


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


def test_no_function_above_grade_c():
    """Issue 18: radon grades every function and method of the package C or better (complexity 20 or less)."""
    too_complex = ["%s:%d %s %s(%d)" % (relative, block.lineno, block.fullname, cc_rank(block.complexity),
                                         block.complexity)
                   for relative in modules()
                   for block in cc_visit((PACKAGE / relative).read_text(encoding="utf-8"))
                   if isinstance(block, Function) and cc_rank(block.complexity) > "C"]
    assert too_complex == [], "graded D or worse by radon: " + ", ".join(too_complex)
