"""A queue file with ratings waiting, opened by the add-on's 0.5.0 (a user who goes back a version): 0.5.0
knows no ratings and sends every entry kind but "remove" to /sync/history, so it must never see them. The
test runs 0.5.0's own outbox and sender (from the repository's history) on the file in another interpreter."""
import json
import os
import subprocess
import sys
import tarfile

import pytest

from lib.scrobbler.delivery.outbox import Outbox
from lib.scrobbler.media import Movie, Show
from lib.scrobbler.simkl.auth import Owner

RELEASE_0_5_0 = "72d260b"  # the commit 0.5.0 was released from (addon.xml version 0.5.0)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JANE = Owner("id:12345", "jane_doe")

# Run by 0.5.0's code: logged in as `owner` (or logged out), it flushes with a client that records what it
# posts, lists what the status view would, then takes the user's every hand-over choice, and flushes again.
PROBE = r"""
import json, sys
from lib.scrobbler.delivery.flush import Flusher
from lib.scrobbler.delivery.outbox import Outbox
from lib.scrobbler.simkl.auth import Owner

path, owner = sys.argv[1], json.loads(sys.argv[2])
owner = Owner(*owner) if owner else None
posted = []

class Client:
    def add_to_history(self, body, allow_rewatch=False, skip_auto_watching=False):
        posted.append(["/sync/history", body])
        return {"added": {}, "not_found": {}}

    def remove_from_history(self, body):
        posted.append(["/sync/history/remove", body])
        return {"deleted": {}, "not_found": {}}

with Outbox(path, account=lambda: owner) as box:
    flusher = Flusher(box, Client())
    flusher.flush()
    seen = {"counts": box.counts(), "attention": [a.label for a in box.attention()],
            "waiting": [w.label for w in box.waiting_entries()], "kept": [k.count for k in box.kept_for_others()]}
    if owner is not None:
        box.claim(owner)
        for kept in box.kept_for_others():
            box.hand_over(kept.account, owner)  # "Send them to this account"
        flusher.resume()
        flusher.flush()
    seen["posted"] = posted
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def release_0_5_0(tmp_path_factory):
    """0.5.0's lib/ folder, taken from the repository's history (skipped in a copy without it)."""
    folder = tmp_path_factory.mktemp("addon-0.5.0")
    archive = folder / "lib.tar"
    done = subprocess.run(["git", "-C", ROOT, "archive", "-o", str(archive), RELEASE_0_5_0, "lib"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        pytest.skip("0.5.0 is not in this copy's history: %s" % done.stdout.decode(errors="replace").strip())
    with tarfile.open(str(archive)) as tar:
        tar.extractall(str(folder))
    return str(folder)


def run_0_5_0(folder, path, owner):
    done = subprocess.run([sys.executable, "-c", PROBE, path, json.dumps([owner.key, owner.name] if owner else None)],
                          cwd=folder, capture_output=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=folder))
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


@pytest.mark.parametrize("owner", [JANE, None], ids=["logged-in", "logged-out"])
def test_0_5_0_never_sends_a_waiting_rating_as_a_watch_and_this_version_still_sends_it(tmp_path, release_0_5_0,
                                                                                         owner):
    path = str(tmp_path / "outbox.sqlite")
    login = [JANE]
    with Outbox(path, account=lambda: login[0]) as box:
        rated = box.add_rating(Movie("Inception", 2010, {"imdb": "tt1375666"}), 8, library="movie:12")
        removed = box.add_rating(Show("Dark", 2017, {"tvdb": 334824}), 0, library="tvshow:3")
        login[0] = None
        nobodys = box.add_rating(Movie("Heat", 1995, {"imdb": "tt0113277"}), 7)
        login[0] = owner
        watch = box.add(Movie("Up", 2009, {"imdb": "tt1049413"}), 1_700_000_000)

    seen = run_0_5_0(release_0_5_0, path, owner)

    assert [path for path, body in seen["posted"]] == ["/sync/history"]
    assert [movie["title"] for movie in seen["posted"][0][1]["movies"]] == ["Up"]  # its own watches still go
    assert seen["attention"] == [] and seen["waiting"] == []
    # what 0.5.0 makes of them: another account's entries (jane's two, and the one made logged out), which its
    # hand-over leaves where they are (the README's known limits say so)
    assert seen["kept"] == [2, 1]
    login[0] = JANE
    with Outbox(path, account=lambda: login[0]) as box:
        assert {entry.id for entry in box.take_batch()} == {rated, nobodys}
        assert box.states([rated, removed, nobodys, watch])[rated][0] == "pending"
        assert box.ratings_waiting() == {"movie:12", "tvshow:3"}
