"""The Kodi fakes build on kodistubs: 21.0.0 (the venv's, requirements-dev.txt) and 22 "Piers" (`make unit22`
puts it in front on PYTHONPATH). kodistubs 22 lays each module out as a package (xbmc/__init__.py), 21 as a file
(xbmc.py): the fakes load whichever comes first on the path, so the suite really runs on the one asked for."""
import os
import sys

import pytest

import fakekodi


def test_the_fakes_load_kodistubs_laid_out_as_packages_when_they_come_first_on_the_path(tmp_path, monkeypatch):
    package = tmp_path / "xbmcdrm"
    package.mkdir()
    (package / "__init__.py").write_text('LAYOUT = "package"\n')
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)

    assert getattr(fakekodi.load_stub("xbmcdrm"), "LAYOUT", None) == "package"


def test_the_suite_runs_on_the_kodistubs_version_it_was_asked_to():
    """`make unit22` names the version it installed in KODISTUBS_VERSION: a run that fell back to the venv's
    21.0.0 fails here instead of passing for the wrong Kodi."""
    wanted = os.environ.get("KODISTUBS_VERSION")
    if not wanted:
        pytest.skip("KODISTUBS_VERSION not set: any kodistubs will do")
    assert fakekodi.stubs_version() == wanted
