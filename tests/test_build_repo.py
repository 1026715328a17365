"""tools/build_repo.py: a static Kodi repository (the repository add-on, addons.xml and its checksum, each
add-on's versioned zips and art where Kodi fetches them); a later release is added beside the earlier ones."""

import hashlib
import importlib.util
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ADDON_ID = "service.scrobbler.simkl"
REPOSITORY_ID = "repository.scrobbler.simkl"
URL = "https://example.org/simkl/"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_repo = _load("build_repo")


def tree_with_version(tmp_path, version):
    """A copy of the add-on's tree whose addon.xml says `version` (a later release)."""
    copy = tmp_path / ("tree-" + version)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    copy.mkdir()
    for name in ("addon.xml", "LICENSE.txt", "default.py", "service.py"):
        shutil.copyfile(str(REPO / name), str(copy / name))
    for name in ("resources", "lib"):
        shutil.copytree(str(REPO / name), str(copy / name), ignore=ignore)
    manifest = (copy / "addon.xml").read_text(encoding="utf-8")
    manifest = re.sub(r'(<addon id="%s"[^>]*?\bversion=")[^"]+"' % re.escape(ADDON_ID), r'\g<1>%s"' % version,
                      manifest, count=1)
    (copy / "addon.xml").write_text(manifest, encoding="utf-8")
    return copy


def current_version():
    return ET.parse(str(REPO / "addon.xml")).getroot().get("version")


def listed(out):
    """{(id, version)} of addons.xml's entries."""
    root = ET.parse(str(out / "addons.xml")).getroot()
    assert root.tag == "addons"
    return {(addon.get("id"), addon.get("version")) for addon in root.findall("addon")}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    out = tmp_path_factory.mktemp("repo")
    top = build_repo.build(REPO, out, URL, client_id="client-1234", auth="v1")
    return out, top


def test_the_repository_add_on_zip_is_at_the_top_and_in_its_own_folder(repo):
    out, top = repo
    assert top == out / ("%s-%s.zip" % (REPOSITORY_ID, build_repo.REPOSITORY_VERSION))
    inner = out / REPOSITORY_ID / top.name
    assert inner.read_bytes() == top.read_bytes()
    assert sorted(path.name for path in out.glob("*.zip")) == [top.name]


def test_the_index_page_links_every_file_and_folder_at_the_top(repo):
    # Kodi's file manager reads an http source's listing from this page and keeps it: a file it leaves out
    # (addons.xml.md5) could then not be read by the repository in that Kodi session (seen in Kodi 20.1).
    out, top = repo
    page = (out / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"]+)"', page))
    expected = {path.name + ("/" if path.is_dir() else "") for path in out.iterdir()
                if path.name != "index.html" and not path.name.startswith(".")}
    assert {top.name, "addons.xml", "addons.xml.md5", ADDON_ID + "/", REPOSITORY_ID + "/"} <= expected
    assert links == expected


def test_each_add_on_zip_sits_at_id_slash_id_dash_version_with_its_sha256(repo):
    out, _ = repo
    for addon_id, version in listed(out):
        zip_path = out / addon_id / ("%s-%s.zip" % (addon_id, version))
        assert zip_path.is_file(), zip_path
        digest = (out / addon_id / (zip_path.name + ".sha256")).read_text().split()[0]
        assert digest == hashlib.sha256(zip_path.read_bytes()).hexdigest()


def test_addons_xml_is_valid_and_lists_both_add_ons_with_their_own_manifests(repo):
    out, _ = repo
    assert listed(out) == {(ADDON_ID, current_version()), (REPOSITORY_ID, build_repo.REPOSITORY_VERSION)}
    root = ET.parse(str(out / "addons.xml")).getroot()
    service = next(addon for addon in root.findall("addon") if addon.get("id") == ADDON_ID)
    assert [e.get("point") for e in service.findall("extension")] == \
        [e.get("point") for e in ET.parse(str(REPO / "addon.xml")).getroot().findall("extension")]


def test_addons_xml_md5_is_the_md5_of_addons_xml(repo):
    out, _ = repo
    # Kodi reads the checksum file up to the first space or line end (CRepository::FetchChecksum).
    checksum = re.split(r"[ \n]", (out / "addons.xml.md5").read_text(encoding="ascii"))[0]
    assert checksum == hashlib.md5((out / "addons.xml").read_bytes()).hexdigest()


def test_the_art_addons_xml_names_is_where_kodi_fetches_it(repo):
    # Kodi shows a not-installed add-on's art from <artdir = datadir>/<id>/<asset path> (AddonInfoBuilder.cpp).
    out, _ = repo
    root = ET.parse(str(out / "addons.xml")).getroot()
    for addon in root.findall("addon"):
        addon_id, version = addon.get("id"), addon.get("version")
        assets = [asset.text for assets in addon.iter("assets") for asset in assets]
        assert "icon.png" in " ".join(assets) and "fanart.jpg" in " ".join(assets), (addon_id, assets)
        with zipfile.ZipFile(str(out / addon_id / ("%s-%s.zip" % (addon_id, version)))) as archive:
            for asset in assets:
                assert (out / addon_id / asset).read_bytes() == archive.read("%s/%s" % (addon_id, asset)), asset


def test_the_repository_zip_is_an_add_on_pointing_kodi_at_the_repository(repo):
    out, top = repo
    with zipfile.ZipFile(str(top)) as archive:
        names = archive.namelist()
        assert {name.split("/")[0] for name in names} == {REPOSITORY_ID}
        manifest = ET.fromstring(archive.read(REPOSITORY_ID + "/addon.xml"))
        assert REPOSITORY_ID + "/LICENSE.txt" in names
        for assets in manifest.iter("assets"):
            for asset in assets:
                assert "%s/%s" % (REPOSITORY_ID, asset.text) in names
    assert manifest.get("id") == REPOSITORY_ID and manifest.get("version") == build_repo.REPOSITORY_VERSION
    (extension,) = manifest.findall("./extension[@point='xbmc.addon.repository']")
    (directory,) = extension.findall("dir")
    assert directory.findtext("info") == URL + "addons.xml"
    assert directory.findtext("checksum") == URL + "addons.xml.md5"
    assert directory.findtext("datadir") == URL and directory.find("datadir").get("zip") == "true"
    assert directory.findtext("hashes") == "sha256"
    for name in ("info", "checksum"):
        assert (out / directory.findtext(name)[len(URL):]).is_file()


def test_the_built_add_on_carries_the_client_id_and_login_flow_asked_for(repo):
    out, _ = repo
    with zipfile.ZipFile(str(out / ADDON_ID / ("%s-%s.zip" % (ADDON_ID, current_version())))) as archive:
        config = archive.read(ADDON_ID + "/lib/scrobbler/config.py").decode("utf-8")
    assert 'CLIENT_ID = "client-1234"' in config and 'AUTH_FLOW = "v1"' in config


def test_a_later_release_is_added_and_the_earlier_zip_kept(tmp_path):
    out = tmp_path / "repo"
    build_repo.build(REPO, out, URL)
    first = out / ADDON_ID / ("%s-%s.zip" % (ADDON_ID, current_version()))
    first_bytes = first.read_bytes()

    build_repo.build(tree_with_version(tmp_path, "99.0.0"), out, URL)

    assert first.read_bytes() == first_bytes
    assert (out / ADDON_ID / ("%s-99.0.0.zip" % ADDON_ID)).is_file()
    assert {(ADDON_ID, current_version()), (ADDON_ID, "99.0.0")} <= listed(out)
    checksum = (out / "addons.xml.md5").read_text().split()[0]
    assert checksum == hashlib.md5((out / "addons.xml").read_bytes()).hexdigest()
    # Kodi takes the newest of an add-on's entries; the older stays listed for its Versions button.
    root = ET.parse(str(out / "addons.xml")).getroot()
    versions = [addon.get("version") for addon in root.findall("addon") if addon.get("id") == ADDON_ID]
    assert max(versions, key=build_repo.version_key) == "99.0.0"


def test_a_hosting_checkout_s_own_files_are_left_out_of_the_listings(tmp_path):
    out = tmp_path / "pages"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")

    build_repo.build(REPO, out, URL)

    assert ".git" not in (out / "index.html").read_text(encoding="utf-8")
    assert {addon_id for addon_id, _ in listed(out)} == {ADDON_ID, REPOSITORY_ID}
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/gh-pages\n"


def test_publishing_the_same_tree_again_changes_nothing(tmp_path):
    out = tmp_path / "repo"
    build_repo.build(REPO, out, URL)
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}

    build_repo.build(REPO, out, URL)

    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


def test_a_published_version_with_other_content_is_refused(tmp_path):
    out = tmp_path / "repo"
    build_repo.build(REPO, out, URL, client_id="one")
    with pytest.raises(build_repo.BuildError, match="already published with other content"):
        build_repo.build(REPO, out, URL, client_id="two")


def test_another_address_for_the_same_repository_version_is_refused(tmp_path):
    out = tmp_path / "repo"
    build_repo.build(REPO, out, URL)
    with pytest.raises(build_repo.BuildError, match="raise REPOSITORY_VERSION"):
        build_repo.build(REPO, out, "https://example.net/elsewhere/")


def test_an_older_release_published_later_keeps_the_newest_art(tmp_path):
    out = tmp_path / "repo"
    newer = tree_with_version(tmp_path, "99.0.0")
    (newer / "resources" / "icon.png").write_bytes((REPO / "resources" / "icon.png").read_bytes() + b"new")
    build_repo.build(newer, out, URL)

    build_repo.build(REPO, out, URL)

    assert (out / ADDON_ID / "resources" / "icon.png").read_bytes().endswith(b"new")


@pytest.mark.parametrize("url", ["", "example.org/repo", "ftp://example.org/"])
def test_without_a_proper_address_it_says_what_is_missing(tmp_path, capsys, url):
    assert build_repo.main(["--repo-url", url, "--out", str(tmp_path / "repo")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("build_repo: error: ") and "REPO_URL" in error
    assert not (tmp_path / "repo").exists()


def test_make_repo_without_repo_url_stops_with_a_clear_error():
    if shutil.which("make") is None:
        pytest.skip("no make")
    done = subprocess.run(["make", "-s", "-C", str(REPO), "repo", "REPO_URL="], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    assert done.returncode != 0
    assert "make repo REPO_URL=https://" in done.stdout


def test_the_address_gets_its_trailing_slash():
    assert build_repo.repo_url("https://example.org/simkl") == "https://example.org/simkl/"


def test_versions_order_as_kodi_orders_them():
    versions = ["0.10.0", "0.6.0+matrix.1", "0.6.0", "0.6.0~beta1", "0.9.1", "1.0.0"]
    assert sorted(versions, key=build_repo.version_key) == \
        ["0.6.0~beta1", "0.6.0", "0.6.0+matrix.1", "0.9.1", "0.10.0", "1.0.0"]
