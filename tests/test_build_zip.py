"""tools/build_zip.py: the release zip holds the runtime files only and bakes build constants."""

import importlib.util
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ADDON_ID = "service.scrobbler.simkl"
CONFIG = "lib/scrobbler/config.py"


def _load_build_zip():
    spec = importlib.util.spec_from_file_location("build_zip", REPO / "tools" / "build_zip.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_zip = _load_build_zip()

needs_addon_xml = pytest.mark.skipif(not (REPO / "addon.xml").is_file(),
                                     reason="addon.xml not written yet: nothing to package")


def _names(zip_path):
    with zipfile.ZipFile(str(zip_path)) as archive:
        return archive.namelist()


def _read(zip_path, name):
    with zipfile.ZipFile(str(zip_path)) as archive:
        return archive.read(f"{ADDON_ID}/{name}").decode("utf-8")


@pytest.fixture(scope="module")
def baked_zip(tmp_path_factory):
    """The real repo built with a client id and auth flow, and config.py's bytes before the build."""
    if not (REPO / "addon.xml").is_file():
        pytest.skip("addon.xml not written yet: nothing to package")
    config_before = (REPO / CONFIG).read_bytes()
    out = tmp_path_factory.mktemp("dist")
    zip_path = build_zip.build(REPO, out, client_id="test-client-id-1234", auth="v1")
    return zip_path, config_before


@needs_addon_xml
def test_zip_is_named_after_id_and_addon_xml_version(baked_zip):
    zip_path, _ = baked_zip
    _, version = build_zip.read_addon_xml(REPO)
    assert zip_path.name == f"{ADDON_ID}-{version}.zip"


@needs_addon_xml
def test_zip_has_exactly_one_top_folder_named_after_the_addon_id(baked_zip):
    zip_path, _ = baked_zip
    assert {name.split("/")[0] for name in _names(zip_path)} == {ADDON_ID}


@needs_addon_xml
def test_zip_holds_the_runtime_files(baked_zip):
    zip_path, _ = baked_zip
    names = set(_names(zip_path))
    required = ["addon.xml", "default.py", "service.py", "LICENSE.txt", "resources/settings.xml",
                "resources/language/resource.language.en_gb/strings.po", "resources/icon.png",
                "resources/fanart.jpg", CONFIG]
    missing = [path for path in required if f"{ADDON_ID}/{path}" not in names]
    assert not missing


@needs_addon_xml
def test_zip_holds_no_tests_tools_caches_or_dotfiles(baked_zip):
    zip_path, _ = baked_zip
    for name in _names(zip_path):
        inner = name.split("/", 1)[1]
        parts = [part for part in inner.split("/") if part]
        assert not name.endswith((".pyc", ".pyo")), name
        assert "__pycache__" not in parts, name
        assert not any(part.startswith(".") for part in parts), name
        if parts:
            assert parts[0] in ("addon.xml", "default.py", "service.py", "LICENSE.txt", "resources", "lib"), name
        if inner.startswith("lib/") and not inner.endswith("/"):
            assert inner.endswith(".py"), name


@needs_addon_xml
def test_client_id_and_auth_are_baked_into_the_zip_only(baked_zip):
    zip_path, config_before = baked_zip
    zipped = _read(zip_path, CONFIG).splitlines()
    assert 'CLIENT_ID = "test-client-id-1234"' in zipped
    assert 'AUTH_FLOW = "v1"' in zipped  # `make zip AUTH=v1`: the PIN login, for a V1 app until Simkl ends it
    assert (REPO / CONFIG).read_bytes() == config_before
    assert b"test-client-id-1234" not in config_before


@needs_addon_xml
def test_zip_without_options_keeps_config_as_in_the_source(tmp_path):
    zip_path = build_zip.build(REPO, tmp_path)
    assert _read(zip_path, CONFIG) == (REPO / CONFIG).read_text(encoding="utf-8")


@needs_addon_xml
def test_a_zip_built_without_auth_logs_in_with_the_device_login(tmp_path):
    zip_path = build_zip.build(REPO, tmp_path, client_id="x")
    assert 'AUTH_FLOW = "v2"' in _read(zip_path, CONFIG).splitlines()


@needs_addon_xml
def test_two_builds_of_the_same_tree_are_byte_identical(tmp_path):
    first = build_zip.build(REPO, tmp_path / "a", client_id="x")
    second = build_zip.build(REPO, tmp_path / "b", client_id="x")
    assert first.read_bytes() == second.read_bytes()


def _fake_tree(root):
    """A minimal add-on tree with junk that must stay out of the zip."""
    files = {
        "addon.xml": '<addon id="service.scrobbler.simkl" version="9.8.7">'
                     '<extension point="xbmc.service" library="service.py"/></addon>',
        "service.py": "",
        "LICENSE.txt": "license",
        "README.md": "readme",
        "Makefile": "all:",
        ".gitignore": "dist/",
        "resources/settings.xml": "<settings/>",
        "resources/.hidden": "",
        "lib/scrobbler/config.py": 'CLIENT_ID = ""  # baked\nAUTH_FLOW = "v1"\n',
        "lib/scrobbler/notes.txt": "",
        "lib/scrobbler/__pycache__/config.cpython-311.pyc": "",
        "lib/scrobbler/old.pyc": "",
        "tests/test_x.py": "",
        "tools/build_zip.py": "",
        "bench/run.py": "",
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def test_junk_in_the_tree_stays_out_of_the_zip(tmp_path):
    root = _fake_tree(tmp_path / "src")
    zip_path = build_zip.build(root, tmp_path / "dist")
    files = sorted(name for name in _names(zip_path) if not name.endswith("/"))
    assert files == [f"{ADDON_ID}/{path}" for path in
                     ("LICENSE.txt", "addon.xml", "lib/scrobbler/config.py", "resources/settings.xml", "service.py")]


def test_cli_bakes_from_env_unpacks_and_prints_the_zip_path(tmp_path, monkeypatch, capsys):
    root = _fake_tree(tmp_path / "src")
    monkeypatch.setenv("CLIENT_ID", "from-env")
    code = build_zip.main(["--root", str(root), "--out-dir", str(tmp_path / "dist"), "--auth", "v2",
                           "--unpack", str(tmp_path / "unpacked")])
    assert code == 0
    zip_path = tmp_path / "dist" / f"{ADDON_ID}-9.8.7.zip"
    assert capsys.readouterr().out.splitlines()[-1] == str(zip_path)
    config = (tmp_path / "unpacked" / ADDON_ID / CONFIG).read_text()
    assert config == 'CLIENT_ID = "from-env"  # baked\nAUTH_FLOW = "v2"\n'
    assert (root / CONFIG).read_text() == 'CLIENT_ID = ""  # baked\nAUTH_FLOW = "v1"\n'


def test_baking_fails_clearly_when_the_line_is_missing(tmp_path, capsys):
    root = _fake_tree(tmp_path / "src")
    (root / CONFIG).write_text('AUTH_FLOW = "v1"\n')
    code = build_zip.main(["--root", str(root), "--out-dir", str(tmp_path / "dist"), "--client-id", "abc"])
    assert code == 1
    assert "CLIENT_ID = " in capsys.readouterr().err
    assert not list((tmp_path / "dist").glob("*.zip"))


def test_a_file_named_in_addon_xml_but_not_packaged_fails_the_build(tmp_path):
    root = _fake_tree(tmp_path / "src")
    (root / "service.py").unlink()
    with pytest.raises(build_zip.BuildError, match="service.py"):
        build_zip.build(root, tmp_path / "dist")
