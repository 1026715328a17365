"""tools/check_strings.py, what `make check` runs on the translations: the real tree passes, and each
kind of problem in a copy of it is reported."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "tools", "check_strings.py")
PO = os.path.join("resources", "language", "resource.language.en_gb", "strings.po")


def run(folder):
    done = subprocess.run([sys.executable, TOOL, str(folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    return done.returncode, done.stdout


@pytest.fixture
def tree(tmp_path):
    copy = tmp_path / "service.scrobbler.simkl"
    shutil.copytree(ROOT, str(copy), ignore=shutil.ignore_patterns(".git", ".venv", ".cache", "dist", "tests",
                                                                    "__pycache__", "mutants"))
    return copy


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_source_tree_passes():
    code, output = run(ROOT)
    assert code == 0, output
    assert "no problems" in output


def test_a_string_id_the_code_uses_but_strings_po_lacks_is_reported(tree):
    edit(tree / "lib" / "scrobbler" / "simkl" / "account.py", "kodi.localize(32764)", "kodi.localize(32999)")
    code, output = run(tree)
    assert code == 1
    assert "lib/scrobbler/simkl/account.py" in output and "string id 32999 is not in" in output


def test_a_settings_label_missing_from_strings_po_is_reported(tree):
    edit(tree / "resources" / "settings.xml", 'label="32071"', 'label="33998"')
    code, output = run(tree)
    assert code == 1 and "resources/settings.xml <setting>: string id 33998" in output


def test_an_unused_string_is_reported(tree):
    edit(tree / PO, 'msgctxt "#32000"', 'msgctxt "#32001"\nmsgid "Nobody uses me"\nmsgstr ""\n\nmsgctxt "#32000"')
    code, output = run(tree)
    assert code == 1 and "id 32001 ('Nobody uses me') is never used" in output


@pytest.mark.parametrize("old, new, problem", [
    ('msgctxt "#32010"', 'msgctxt "#32009"', "id 32009 is defined twice"),
    ('msgctxt "#32010"', 'msgctxt "#29999"', "outside the add-on range"),
    ('msgid "Account"\nmsgstr ""', 'msgid "Account"\nmsgstr "Konto"', "has a msgstr"),
    ('msgid "Account"\nmsgstr ""', 'msgid "Account\nmsgstr ""', "msgfmt --check" if shutil.which("msgfmt")
     else "not a valid gettext file"),
    ('"Language: en_GB\\n"', '"Language: de_DE\\n"', "header Language"),
])
def test_a_file_weblate_would_not_take_is_reported(tree, old, new, problem):
    edit(tree / PO, old, new)
    code, output = run(tree)
    assert code == 1
    assert problem in output
