"""Tests drive the service and the delivery worker through what they offer: no test reads or replaces
an underscored attribute of either (a race that needs a private handle belongs in the tests of the
small class that owns it). Found by name: an attribute `_x` of anything called `service` or `worker`
(`service.service._x`, `self.worker._x`, `old_service._x`), or getattr/setattr with such a name."""
import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
OWNERS = ("service", "worker")


def source_files():
    return sorted(p for p in TESTS.rglob("*.py") if p.name != Path(__file__).name)


def owner_name(node):
    """The last name of an expression (`a.b.service` -> "service"), or None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def private(name):
    return name.startswith("_") and not name.startswith("__")


def owned(node):
    name = owner_name(node)
    return bool(name) and name.lower().endswith(OWNERS)


def reach_ins(source):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and private(node.attr) and owned(node.value):
            yield node.lineno, "%s.%s" % (owner_name(node.value), node.attr)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and private(node.args[1].value) and owned(node.args[0])):
            yield node.lineno, "%s(%s, %r)" % (node.func.id, owner_name(node.args[0]), node.args[1].value)


def test_the_check_finds_what_it_forbids():
    found = list(reach_ins("service.service._flush = f\nx = self.worker._jobs\ngetattr(running.service, '_x')\n"
                           "ok = service.worker.busy()\nfine = other._private\n"))
    assert [what for _, what in found] == ["service._flush", "worker._jobs", "getattr(service, '_x')"]


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(TESTS)))
def test_no_test_touches_private_parts_of_the_service_or_the_worker(path):
    found = ["%s:%d %s" % (path.name, line, what) for line, what in reach_ins(path.read_text(encoding="utf-8"))]
    assert found == []
