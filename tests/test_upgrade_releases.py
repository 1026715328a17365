"""An update never loses the queue, whatever release it comes from: each release in the repository's history
(a commit where addon.xml's version changed) runs its own code in another interpreter, against the fake Simkl:
its own login stores the token, its own outbox queues watches (a movie, an episode, a removal, and a rating
where it knows ratings) and its own sync state is saved, into one addon_data folder. This version's service
then starts on that folder, as Kodi starts it after an update, and delivers every entry to Simkl once.

Releases that share a queue schema (its user_version, tables, columns and triggers) are named together in
test_the_releases_queue_schemas_are_the_known_ones, so that a new schema shows up as a change here.
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import tarfile

import pytest

from lib.scrobbler.simkl.auth import TokenStore, owner_of
from lib.scrobbler.sync.state import SyncState
from scenario import RunningService, install_library

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T0 = 1_700_000_000  # watched_at of the release's watches (2023-11-14)
ACTIVITIES = {"all": "2023-11-14T12:00:00Z"}

# Run by a release's own code (lib/ of that commit first on sys.path): its login, its outbox, its sync state.
PROBE = r"""
import inspect, json, os, sys, time

profile, version = sys.argv[1], sys.argv[2]
def first(*names):
    for name in names:
        try:
            return __import__(name, fromlist=["_"])
        except ImportError:
            continue
    raise ImportError(names)

api = first("lib.scrobbler.simkl.api", "lib.scrobbler.api")
auth = first("lib.scrobbler.simkl.auth", "lib.scrobbler.auth")
outbox = first("lib.scrobbler.delivery.outbox", "lib.scrobbler.outbox")
media = first("lib.scrobbler.media")

class UI:
    def show_code(self, user_code, url, link=None): pass  # link: 0.7.0 on
    def wait(self, seconds, seconds_left=0, total=0):
        time.sleep(min(seconds, 0.05))
        return True
    def offer_new_code(self, reason=""): return False
    def close(self): pass

store = auth.TokenStore(profile)
tokens = auth.TokenProvider(store)
client = api.Client(os.environ["SIMKL_API_URL"], os.environ["SIMKL_CLIENT_ID"], "kodi-simkl-scrobbler", version,
                    "20.1", tokens=tokens)
tokens.client = client
result = auth.login(client, store, UI(), "v1")
assert result.outcome == "ok", result.outcome

kwargs = {}
if "account" in inspect.signature(outbox.Outbox.__init__).parameters:
    kwargs["account"] = lambda: auth.owner_of(store.load())
queued = {}
with outbox.Outbox(os.path.join(profile, "outbox.sqlite"), **kwargs) as box:
    queued["movie"] = box.add(media.Movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205}), T0)
    queued["episode"] = box.add(media.Episode("The Last of Us", 1, 3, 2023, {"tvdb": 392256, "imdb": "tt3581920"},
                                              "Long, Long Time", {"tvdb": 8444132}), T0 + 3600)
    queued["removal"] = box.add(media.Movie("Heat", 1995, {"imdb": "tt0113277"}), T0 + 7200, kind="remove")
    if hasattr(box, "add_rating"):
        queued["rating"] = box.add_rating(media.Movie("Up", 2009, {"imdb": "tt1049413"}), 8, library="movie:12")

sync = None
try:
    sync = first("lib.scrobbler.sync.state")
except ImportError:
    pass
if sync is not None:
    state = sync.SyncState(profile, store.load()["user_name"])
    state.activities = ACTIVITIES
    state.full_done = True
    if hasattr(state, "offered"):
        state.offered()
    else:
        state.import_offered = True
    state.save()
print(json.dumps({"queued": queued, "sync": sync is not None}))
""".replace("T0", str(T0)).replace("ACTIVITIES", repr(ACTIVITIES))


def releases():
    """(version, commit) of each release: the first commit of the history with each addon.xml version."""
    try:
        done = subprocess.run(["git", "-C", ROOT, "log", "--reverse", "--topo-order", "--format=%H", "--",
                               "addon.xml"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return []  # no git: the tests below are skipped
    found = {}
    for commit in done.stdout.split():
        shown = subprocess.run(["git", "-C", ROOT, "show", "%s:addon.xml" % commit], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        match = re.search(r'<addon\b[^>]*\bversion="([^"]+)"', shown.stdout)
        if match and match.group(1) not in found:
            found[match.group(1)] = commit[:10]
    return sorted(found.items(), key=lambda item: [int(part) for part in item[0].split(".")])


RELEASES = releases()


@pytest.fixture(scope="module")
def release_trees(tmp_path_factory):
    """Each release's lib/, from the repository's history (skipped in a copy without it)."""
    if not RELEASES:
        pytest.skip("no git history in this copy")
    trees = {}
    for version, commit in RELEASES:
        folder = tmp_path_factory.mktemp("release-" + version)
        archive = folder / "lib.tar"
        done = subprocess.run(["git", "-C", ROOT, "archive", "-o", str(archive), commit, "lib"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert done.returncode == 0, done.stdout
        with tarfile.open(str(archive)) as tar:
            tar.extractall(str(folder))
        trees[version] = str(folder)
    return trees


def run_release(tree, version, profile, server):
    server.approve_after_polls = 1  # the user types the code at simkl.com/pin at once
    env = dict(os.environ, PYTHONPATH=tree, SIMKL_API_URL=server.url, SIMKL_CLIENT_ID=server.client_id,
               SIMKL_AUTH="v1")
    done = subprocess.run([sys.executable, "-c", PROBE, profile, version], cwd=tree, capture_output=True,
                          timeout=30, env=env)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


def schema_of(path):
    """What identifies a queue file's schema: user_version, and each table's columns and each trigger."""
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        columns = {table: [row[1] for row in conn.execute("PRAGMA table_info(%s)" % table)] for table in tables}
        triggers = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    conn.close()
    return json.dumps({"user_version": version, "tables": columns, "triggers": sorted(triggers)}, sort_keys=True)


SCHEMAS = {}  # version -> schema_of its queue, filled by the upgrade tests


@pytest.mark.parametrize("version", [version for version, _ in RELEASES])
def test_the_current_service_delivers_every_entry_a_release_queued_once(version, release_trees, kodi, server,
                                                                         clock):
    install_library(kodi)
    seen = run_release(release_trees[version], version, kodi.profile_dir, server)
    queue = os.path.join(kodi.profile_dir, "outbox.sqlite")
    SCHEMAS[version] = schema_of(queue)
    login = TokenStore(kodi.profile_dir).load()
    assert server.requests_to("/sync/history") == []  # the release only queued

    # The settings the release's service kept in step with its login stay as they were through the update.
    kodi.set_setting("logged_in", True)
    running = RunningService(kodi, clock).start()
    try:
        queued = seen["queued"]
        for _ in range(20):
            running.idle()
            if len(server.watches) >= 2 and server.removed and (len(server.rating_changes) >= ("rating" in queued)):
                break
            clock.advance(5)
            running.retry_now()
        running.idle()
        clock.advance(60)
        running.retry_now()
        running.idle()
    finally:
        running.stop()

    assert sorted(watch.key for watch in server.watches) == \
        ["movie:imdb=tt1375666", "show:imdb=tt3581920:S1E3"], server.log_text()
    assert server.removed == ["movie:imdb=tt0113277"], server.log_text()
    if "rating" in queued:
        assert [(change.rating, change.key) for change in server.rating_changes] == [(8, "movie:imdb=tt1049413")]
    owner = owner_of(TokenStore(kodi.profile_dir).load())
    assert owner is not None and owner.name == login["user_name"]
    with sqlite3.connect(queue) as conn:
        states = conn.execute("SELECT state, COUNT(*) FROM entries GROUP BY state").fetchall()
    conn.close()
    assert states == [("sent", len(queued))]
    if seen["sync"]:
        state = SyncState(kodi.profile_dir, login["user_name"])
        assert (state.activities, state.full_done, state.import_offered) == (ACTIVITIES, True, True)


# The queue schemas of the releases so far, and the releases that share each (0.1.0: user_version 1 without
# entries.detail; 0.2.0: user_version 2; 0.4.0: + parts; 0.5.0: + owners; 0.6.0: + ratings and its trigger).
KNOWN_SCHEMAS = [["0.1.0"], ["0.2.0", "0.3.0", "0.3.1", "0.3.2", "0.3.3"], ["0.4.0", "0.4.1"], ["0.5.0"], ["0.6.0"]]


def test_the_releases_queue_schemas_are_the_known_ones():
    """Runs after the upgrade tests above (it reads the queues they made); a new schema shows up here."""
    if len(SCHEMAS) != len(RELEASES):
        pytest.skip("needs the upgrade test of every release first (run the whole file)")
    groups = {}
    for version, _ in RELEASES:
        groups.setdefault(SCHEMAS[version], []).append(version)
    known = {version for group in KNOWN_SCHEMAS for version in group}
    assert [[v for v in group if v in known] for group in groups.values() if set(group) & known] == KNOWN_SCHEMAS
