"""tools/kodi_root.py and tests/e2e/kodi_root.py: the Debian mirror read from apt's sources, the chroot command.

The chroot itself is proven by the real-Kodi suite run with KODI=19 and KODI=21 (make e2e KODI=19)."""

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load("kodi_root_tool", "tools/kodi_root.py")
kodi_root = _load("kodi_root", "tests/e2e/kodi_root.py")

DEB822 = """Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def test_mirror_from_a_deb822_sources_file(tmp_path):
    (tmp_path / "debian.sources").write_text(DEB822, encoding="utf-8")
    assert tool.find_mirror([str(tmp_path / "*.sources")]) == "http://mirror.example/debian"


def test_a_disabled_stanza_and_other_archives_are_not_the_mirror(tmp_path):
    (tmp_path / "a.sources").write_text("Enabled: no\nTypes: deb\nURIs: http://off.example/debian\n"
                                        "Suites: bookworm\n\nTypes: deb\nURIs: https://deb.nodesource.example/node\n"
                                        "Suites: nodistro\n", encoding="utf-8")
    assert tool.find_mirror([str(tmp_path / "*.sources")]) is None


def test_mirror_from_one_line_lists_in_order(tmp_path):
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb [signed-by=/usr/share/keyrings/x.gpg] https://packages.example/apt cloud-sdk main\n"
        "deb http://security.example/debian-security bookworm-security main\n"
        "deb [arch=amd64] https://mirror.example/debian bookworm main contrib\n", encoding="utf-8")
    assert tool.find_mirror([str(tmp_path / "missing.sources"), str(tmp_path / "sources.list")]) \
        == "https://mirror.example/debian"


def test_no_mirror_without_sources(tmp_path):
    assert tool.find_mirror([str(tmp_path / "*.sources"), str(tmp_path / "sources.list")]) is None


def test_a_half_built_root_is_not_ready(tmp_path):
    assert tool.ready_version(tmp_path) is None
    assert kodi_root.KodiRoot(tmp_path).version is None
    (tmp_path / tool.READY).write_text("2:21.2+dfsg-4\n", encoding="utf-8")
    assert tool.ready_version(tmp_path) == kodi_root.KodiRoot(tmp_path).version == "2:21.2+dfsg-4"


def test_kodi_bin_is_found_inside_the_root(tmp_path):
    assert kodi_root.KodiRoot(tmp_path).kodi_bin() is None
    binary = tmp_path / "usr" / "lib" / "x86_64-linux-gnu" / "kodi" / "kodi.bin"
    binary.parent.mkdir(parents=True)
    binary.write_bytes(b"")
    assert kodi_root.KodiRoot(tmp_path).kodi_bin() == "/usr/lib/x86_64-linux-gnu/kodi/kodi.bin"


def test_the_chroot_command_mounts_tmp_and_outer_shared_folders_once(tmp_path):
    root = kodi_root.KodiRoot(tmp_path / "root")
    home, media = tmp_path / "home", Path("/srv/media")
    argv = root.command(["/usr/bin/kodi.bin", "--windowing=x11"], cwd=home,
                        shared=[home, media, media / "Movies", Path("/tmp/x")])
    assert argv[:4] == ["unshare", "--mount", "--propagation", "private"]
    shared = argv[argv.index(str(root.path)) + 1:argv.index("--", argv.index(str(root.path)))]
    expected = ["/tmp", "/srv/media"] + ([] if str(home).startswith("/tmp/") else [str(home)])
    assert sorted(shared) == sorted(expected)
    assert argv[-3:] == [str(home), "/usr/bin/kodi.bin", "--windowing=x11"]


def test_the_chrooted_environment_holds_nothing_of_the_host_python(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/host/site-packages")
    monkeypatch.setenv("LANG", "C.UTF-8")
    env = kodi_root.KodiRoot.environment({"HOME": "/tmp/h"})
    assert env == {"LANG": "C.UTF-8", "PATH": kodi_root.CHROOT_PATH, "HOME": "/tmp/h"}


@pytest.mark.parametrize("value, expected", [("", "20"), ("20", "20"), (" 21 ", "21"), ("19", "19")])
def test_kodi_selects_the_version(monkeypatch, value, expected):
    monkeypatch.setenv("KODI", value)
    assert kodi_root.requested_version() == expected


def test_an_unknown_kodi_version_is_refused(monkeypatch):
    monkeypatch.setenv("KODI", "18")
    with pytest.raises(ValueError, match="KODI=18"):
        kodi_root.requested_version()


@pytest.mark.parametrize("kodi, suite", [("19", "bullseye"), ("21", "trixie")])
def test_each_rooted_kodi_has_its_debian_suite_and_folder(monkeypatch, kodi, suite):
    monkeypatch.delenv("KODI%s_ROOT" % kodi, raising=False)
    assert tool.SUITES[kodi] == suite
    assert tool.default_dir(kodi) == kodi_root.default_root_path(kodi) == REPO / ".cache" / ("kodi%s-root" % kodi)
    assert kodi_root.KodiRoot.from_env(kodi).path == (REPO / ".cache" / ("kodi%s-root" % kodi)).resolve()
    assert set(tool.SUITES) == set(kodi_root.ROOTED)


def test_the_roots_folders_follow_their_own_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("KODI19_ROOT", str(tmp_path / "nineteen"))
    monkeypatch.setenv("KODI21_ROOT", str(tmp_path / "twentyone"))
    assert tool.default_dir("19") == tmp_path / "nineteen"
    assert kodi_root.KodiRoot.from_env("21").path == tmp_path / "twentyone"
    assert "--kodi 19" in kodi_root.KodiRoot.from_env("19").build_hint


def test_status_reads_the_root_of_the_kodi_asked_for(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KODI19_ROOT", str(tmp_path / "nineteen"))
    monkeypatch.setenv("KODI21_ROOT", str(tmp_path / "twentyone"))
    (tmp_path / "nineteen").mkdir()
    (tmp_path / "nineteen" / tool.READY).write_text("2:19.1+dfsg2-2+deb11u1\n", encoding="utf-8")
    assert tool.main(["status", "--kodi", "19"]) == 0
    assert tool.main(["status"]) == 1  # Kodi 21 by default, not built here
    assert capsys.readouterr().out.splitlines() == ["ready 2:19.1+dfsg2-2+deb11u1", "missing"]


def test_a_root_without_etc_hosts_gets_one_naming_localhost(tmp_path):
    (tmp_path / "etc").mkdir()
    tool.ensure_hosts(tmp_path)
    assert "127.0.0.1\tlocalhost" in (tmp_path / "etc" / "hosts").read_text(encoding="utf-8")
    (tmp_path / "etc" / "hosts").write_text("10.0.0.1 mine\n", encoding="utf-8")
    tool.ensure_hosts(tmp_path)
    assert (tmp_path / "etc" / "hosts").read_text(encoding="utf-8") == "10.0.0.1 mine\n"
