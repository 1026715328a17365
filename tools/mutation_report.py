#!/usr/bin/env python3
"""Per-module kill rates of the last `mutmut run` (mutmut 3), read from mutants/.

    python tools/mutation_report.py [--fail-under PERCENT] [--survivors] [--mutants DIR]

How it counts, per module:
  total     every mutant mutmut generated for the module
  killed    a test failed (mutmut's "killed") or the test run timed out ("timeout")
  survived  every selected test passed
  no tests  no selected test runs the mutated function
  other     anything else (suspicious, skipped, segfault, not checked)
  sql case  of the survivors, those that only change the letter case of SQL outside its quoted
            literals ("SELECT" -> "select"): SQLite reads keywords and names in any case, so these
            are equivalent mutants that no test can kill. Found by comparing the mutant's syntax tree
            with the original's.
  rate      killed / (total - sql case): survived, no tests and other all count as not killed.
  raw       killed / total.
"""
import argparse
import ast
import copy
import json
import re
import sys
from collections import Counter
from pathlib import Path

# mutmut 3's exit codes (mutmut/stats.py), so the script needs nothing but the standard library.
KILLED = {1, 3, 36, 24, -24, 152, 255}  # killed (1, 3) or timeout
SURVIVED = {0}
NO_TESTS = {5, 33}
# A string counts as SQL when it holds one of these keywords in capitals.
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|PRAGMA|BEGIN|COMMIT|ROLLBACK|ALTER|FROM|WHERE|AND|IN|ORDER BY|"
                       r"LIMIT|VALUES|NULL)\b")
QUOTED = re.compile(r"'[^']*'")


def classify(exit_code):
    if exit_code in KILLED:
        return "killed"
    if exit_code in SURVIVED:
        return "survived"
    if exit_code in NO_TESTS:
        return "no tests"
    return "other"


def _functions(source: str) -> dict:
    """{function name: its ast node} of every function in a mutated module (mutmut_orig and mutants)."""
    return {node.name: node for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _shape(function) -> str:
    """The function's code with its name and every constant blanked out."""
    function = copy.deepcopy(function)
    function.name = "f"
    for node in ast.walk(function):
        if isinstance(node, ast.Constant):
            node.value = type(node.value).__name__
    return ast.dump(function)


def _constants(function) -> list:
    return [node.value for node in ast.walk(function) if isinstance(node, ast.Constant)]


def sql_case_only(original, mutant) -> bool:
    """Does the mutant differ from the original only in the case of one SQL string, quoted literals kept?"""
    if _shape(original) != _shape(mutant):
        return False
    changed = [(a, b) for a, b in zip(_constants(original), _constants(mutant)) if a != b]
    if len(changed) != 1 or not all(isinstance(value, str) for value in changed[0]):
        return False
    before, after = changed[0]
    return (before.lower() == after.lower() and bool(SQL_WORDS.search(before))
            and QUOTED.findall(before) == QUOTED.findall(after))


def report(mutants: Path):
    """[(module path, Counter of classes, [surviving mutant names])] for every mutated module."""
    rows = []
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text("utf-8")).get("exit_code_by_key", {})
        module_file = meta.with_suffix("")  # mutants/lib/x.py: the module with every mutant in it
        functions = _functions(module_file.read_text("utf-8")) if module_file.exists() else {}
        counts, survivors = Counter(), []
        for name, code in codes.items():
            status = classify(code)
            counts[status] += 1
            if status == "survived":
                function = name.rsplit(".", 1)[-1]
                original = functions.get(function.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
                if original and function in functions and sql_case_only(original, functions[function]):
                    counts["sql case"] += 1
                    continue
            if status != "killed":
                survivors.append("%s: %s" % (name, status))
        rows.append((meta.relative_to(mutants).as_posix()[:-len(".meta")], counts, survivors))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument("--fail-under", type=float, default=None,
                        help="exit 1 when a module's rate is below this percentage")
    parser.add_argument("--survivors", action="store_true", help="list the mutants not killed (sql case left out)")
    args = parser.parse_args(argv)
    rows = report(args.mutants)
    if not rows:
        print("no mutation results under %s: run `mutmut run` first" % args.mutants, file=sys.stderr)
        return 1
    width = max(len(module) for module, _, _ in rows)
    print("%-*s %6s %7s %9s %9s %6s %9s %7s %7s" % (width, "module", "total", "killed", "survived", "no tests",
                                                    "other", "sql case", "rate", "raw"))
    failed = False
    for module, counts, _survivors in rows:
        total = sum(counts[k] for k in ("killed", "survived", "no tests", "other"))
        rate = 100.0 * counts["killed"] / (total - counts["sql case"]) if total > counts["sql case"] else 100.0
        raw = 100.0 * counts["killed"] / total if total else 100.0
        failed |= args.fail_under is not None and rate < args.fail_under
        print("%-*s %6d %7d %9d %9d %6d %9d %6.1f%% %6.1f%%" % (
            width, module, total, counts["killed"], counts["survived"], counts["no tests"], counts["other"],
            counts["sql case"], rate, raw))
    if args.survivors:
        for _module, _, survivors in rows:
            for line in survivors:
                print("  " + line)
    if failed:
        print("a module's kill rate is below %.0f%%" % args.fail_under, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
