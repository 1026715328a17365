"""The service's rewatch decisions (rewatch/policy.py), on the fake Kodi, a real sqlite outbox and the
real sessions file, with Track rewatches as a switch."""
import os

import pytest
from xbmcgui import NOTIFICATION_INFO, NOTIFICATION_WARNING

from lib.scrobbler import config
from lib.scrobbler.delivery.outbox import REFUSED, SENT, Outbox
from lib.scrobbler.delivery.session_ids import SessionWatch, pending_id
from lib.scrobbler.media import Episode, Movie, Show
from lib.scrobbler.rewatch.policy import RewatchPolicy
from lib.scrobbler.rewatch.sessions import Sessions
from lib.scrobbler.simkl.auth import Owner

REWATCH_PROPERTY = (10000, config.ADDON_ID + ".rewatch")
IDS = {"imdb": "tt3581920", "tvdb": 392256}
SHOW = Show("The Last of Us", 2023, IDS)
OTHER_SHOW = Show("Severance", 2022, {"imdb": "tt11280740"})
MOVIE = Movie("Inception", 2010, {"imdb": "tt1375666"})
STAND_IN = pending_id(SHOW.key())
JANE, BOB = Owner("id:12345", "jane_doe"), Owner("id:777", "bob")


def episode(number=3, show=SHOW):
    return Episode(show.title, 1, number, show.year, dict(show.ids), "Episode %d" % number)


class Switch:
    """Track rewatches, as the policy reads it."""

    def __init__(self, on=True):
        self.on = on

    def __call__(self):
        return self.on


class Rewatch:
    def __init__(self, kodi, clock):
        self.kodi = kodi
        self.clock = clock
        self.sessions = Sessions(kodi.profile_dir, clock=clock)
        self.owner = JANE  # who is logged in (None: nobody)
        self.outbox = Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE), clock=clock,
                             account=lambda: self.owner)
        self.tracking = Switch()
        self.policy = RewatchPolicy(self.sessions, outbox=lambda: self.outbox, tracking=self.tracking)

    def start_session(self, show=SHOW):
        """The context menu's Rewatch on a show: the session, and its start in the queue."""
        self.sessions.start(show, self.owner.key)
        return self.outbox.add(show, self.clock(), rewatch=True)

    def watched(self, item, kind="add"):
        """A watch (or a library mark) of `item` committed and due to be resolved: the outbox's entry."""
        entry_id = self.outbox.add_unresolved({"label": item.label()}, self.clock(), kind)
        [entry] = [e for e in self.outbox.unresolved() if e.id == entry_id]
        return entry

    def sent_rewatch(self, item):
        """A rewatch entry as the sender hands it over once Simkl answered it."""
        self.outbox.add(item, self.clock(), rewatch=True)
        [entry] = self.outbox.take_batch()
        return entry

    def log(self):
        """The add-on's log lines, without the prefix Kodi's log shows them with."""
        prefix = "[%s] " % config.ADDON_ID
        return [message[len(prefix):] if message.startswith(prefix) else message for _, message in self.kodi.log]


@pytest.fixture
def rewatch(kodi, clock):
    setup = Rewatch(kodi, clock)
    yield setup
    setup.outbox.close()


# --- the context menu follows Track rewatches ---------------------------------------------------------

def test_track_rewatches_on_offers_the_rewatch_action(rewatch, kodi):
    rewatch.policy.follow_setting()
    assert kodi.properties[REWATCH_PROPERTY] == "true"


def test_track_rewatches_off_hides_the_action_and_ends_every_session(rewatch, kodi):
    rewatch.policy.follow_setting()
    rewatch.start_session()
    rewatch.start_session(OTHER_SHOW)
    rewatch.tracking.on = False
    rewatch.policy.follow_setting()
    assert REWATCH_PROPERTY not in kodi.properties
    assert rewatch.sessions.all() == {}
    assert rewatch.log() == ["Track rewatches is off: rewatch sessions ended"]


def test_track_rewatches_off_without_a_session_says_nothing(rewatch, kodi):
    rewatch.tracking.on = False
    rewatch.policy.follow_setting()
    assert REWATCH_PROPERTY not in kodi.properties
    assert rewatch.log() == []


def test_a_stopping_service_withdraws_the_rewatch_action(rewatch, kodi):
    rewatch.policy.follow_setting()
    rewatch.policy.hide_action()
    assert REWATCH_PROPERTY not in kodi.properties


# --- which watch continues its show's rewatch session --------------------------------------------------

def test_an_episode_continues_its_shows_session_under_the_stand_in_until_simkl_answers(rewatch):
    rewatch.start_session()
    watch = rewatch.watched(episode())
    assert rewatch.policy.session_watch(watch, episode()) == SessionWatch(STAND_IN, (STAND_IN, ""))


def test_an_episode_continues_its_shows_session_under_the_pinned_id(rewatch):
    rewatch.start_session()
    rewatch.sessions.pin(SHOW.key(), "rw-1")
    watch = rewatch.watched(episode())
    assert rewatch.policy.session_watch(watch, episode()) == SessionWatch("rw-1", (STAND_IN, "rw-1"))


def test_a_session_whose_start_left_the_queue_still_takes_its_episodes(rewatch):
    rewatch.sessions.start(SHOW)
    rewatch.sessions.pin(SHOW.key(), "rw-1")
    watch = rewatch.watched(episode())
    assert rewatch.policy.session_watch(watch, episode()) == SessionWatch("rw-1", (STAND_IN, "rw-1"))


def test_a_watch_committed_before_the_session_started_is_an_ordinary_watch(rewatch):
    watch = rewatch.watched(episode())
    rewatch.clock.advance(60)
    rewatch.start_session()
    assert rewatch.policy.session_watch(watch, episode()) is None


def test_a_library_unmark_never_joins_a_session(rewatch):
    rewatch.start_session()
    unmark = rewatch.watched(episode(), kind="remove")
    assert rewatch.policy.session_watch(unmark, episode()) is None


def test_with_track_rewatches_off_no_watch_joins_a_session(rewatch):
    rewatch.start_session()
    watch = rewatch.watched(episode())
    rewatch.tracking.on = False
    assert rewatch.policy.session_watch(watch, episode()) is None


def test_a_movie_or_another_shows_episode_never_joins_a_session(rewatch):
    rewatch.start_session()
    assert rewatch.policy.session_watch(rewatch.watched(MOVIE), MOVIE) is None
    other = episode(show=OTHER_SHOW)
    assert rewatch.policy.session_watch(rewatch.watched(other), other) is None


def test_a_watch_made_while_logged_out_never_joins_the_last_accounts_session(rewatch):
    rewatch.start_session()
    rewatch.owner = None  # logged out; the session file was left behind (the service was not told)
    watch = rewatch.watched(episode())
    assert watch.account is None
    assert rewatch.policy.session_watch(watch, episode()) is None


def test_a_watch_of_another_account_never_joins_a_session_it_did_not_start(rewatch):
    rewatch.start_session()
    rewatch.owner = BOB
    watch = rewatch.watched(episode())
    assert rewatch.policy.session_watch(watch, episode()) is None


def test_a_session_from_before_accounts_were_told_apart_is_the_logged_in_accounts(rewatch):
    rewatch.sessions.start(SHOW)  # no account in the file
    watch = rewatch.watched(episode())
    assert rewatch.policy.session_watch(watch, episode()) == SessionWatch(STAND_IN, (STAND_IN, ""))


def test_a_logout_ends_every_session_and_another_login_the_sessions_that_are_not_its(rewatch):
    rewatch.start_session()
    rewatch.owner = BOB
    rewatch.start_session(OTHER_SHOW)

    rewatch.policy.follow_account(BOB.key)
    assert list(rewatch.sessions.all()) == [OTHER_SHOW.key()]
    rewatch.policy.follow_account(None)
    assert rewatch.sessions.all() == {}
    assert rewatch.log() == ["1 rewatch session(s) ended: another account logged in",
                             "1 rewatch session(s) ended: logged out"]


# --- live scrobbling ----------------------------------------------------------------------------------

def test_an_episode_of_a_rewatch_session_never_goes_live(rewatch):
    rewatch.start_session()
    assert rewatch.policy.in_session(episode()) is True
    assert rewatch.policy.in_session(episode(show=OTHER_SHOW)) is False
    assert rewatch.policy.in_session(MOVIE) is False
    assert rewatch.policy.in_session(SHOW) is False


def test_with_track_rewatches_off_a_sessions_episode_goes_live(rewatch):
    rewatch.start_session()
    rewatch.tracking.on = False
    assert rewatch.policy.in_session(episode()) is False


# --- what a queued session episode carries when it is sent ------------------------------------------

def test_a_queued_session_episode_carries_the_pinned_id(rewatch):
    rewatch.start_session()
    rewatch.sessions.pin(SHOW.key(), "rw-1")
    assert rewatch.policy.session_id(STAND_IN) == "rw-1"


def test_a_session_episode_waits_while_the_sessions_start_is_on_its_way(rewatch):
    rewatch.start_session()
    assert rewatch.policy.session_id(STAND_IN) == ""
    assert rewatch.sessions.get(SHOW.key()) is not None


def test_a_pin_the_queue_recorded_but_the_sessions_file_missed_is_used_and_kept(rewatch):
    start = rewatch.start_session()
    rewatch.outbox.record({(SENT, None): [start]}, {start: "rw-7"})
    assert rewatch.policy.session_id(STAND_IN) == "rw-7"
    assert rewatch.sessions.get(SHOW.key())["rewatch_id"] == "rw-7"


def test_a_session_whose_start_never_reaches_simkl_ends_and_its_episodes_go_as_ordinary_watches(rewatch):
    start = rewatch.start_session()
    rewatch.outbox.refuse([start], "refused by Simkl")
    assert rewatch.outbox.states([start])[start][0] == REFUSED
    assert rewatch.policy.session_id(STAND_IN) is None
    assert rewatch.sessions.get(SHOW.key()) is None
    assert rewatch.log() == ["the rewatch session of The Last of Us (2023) never started on Simkl: its episodes"
                             " go as ordinary watches"]


def test_an_ended_session_sends_its_queued_episodes_as_ordinary_watches(rewatch):
    assert rewatch.policy.session_id(STAND_IN) is None
    assert rewatch.log() == []


def test_with_track_rewatches_off_a_pinned_sessions_episode_goes_as_an_ordinary_watch(rewatch):
    rewatch.start_session()
    rewatch.sessions.pin(SHOW.key(), "rw-1")
    rewatch.tracking.on = False
    assert rewatch.policy.session_id(STAND_IN) is None


# --- what Simkl's answer to a rewatch means for the user ----------------------------------------------

def test_a_started_show_session_is_pinned_and_told(rewatch, kodi):
    rewatch.sessions.start(SHOW)
    rewatch.policy.answered(rewatch.sent_rewatch(SHOW), {"rewatch_id": "rw-1"})
    assert rewatch.sessions.get(SHOW.key())["rewatch_id"] == "rw-1"
    assert kodi.notifications == [("Rewatching on Simkl", "The Last of Us (2023)", NOTIFICATION_INFO)]
    assert rewatch.log() == []


def test_a_recorded_movie_rewatch_is_told_and_touches_no_session(rewatch, kodi):
    rewatch.sessions.start(SHOW)
    rewatch.policy.answered(rewatch.sent_rewatch(MOVIE), {"rewatch_id": "rw-2"})
    assert kodi.notifications == [("Rewatch recorded", "Inception (2010)", NOTIFICATION_INFO)]
    assert rewatch.sessions.get(SHOW.key())["rewatch_id"] is None


def test_a_rewatch_refused_for_want_of_pro_is_told_and_ends_the_session(rewatch, kodi):
    rewatch.sessions.start(SHOW)
    rewatch.policy.answered(rewatch.sent_rewatch(SHOW), {"error": "pro_required"})
    assert rewatch.sessions.get(SHOW.key()) is None
    assert rewatch.log() == ["Simkl refused a rewatch: PRO or VIP required"]
    assert kodi.notifications == [("Rewatch not recorded", "Simkl needs PRO or VIP for it", NOTIFICATION_WARNING)]


def test_a_refused_session_start_is_told_and_ends_the_session(rewatch, kodi):
    rewatch.sessions.start(SHOW)
    rewatch.policy.answered(rewatch.sent_rewatch(SHOW), {"error": "refused"})
    assert rewatch.sessions.get(SHOW.key()) is None
    assert rewatch.log() == ["Simkl refused the rewatch of The Last of Us (2023) (refused)"]
    assert kodi.notifications == [("Rewatch not recorded", "The Last of Us (2023)", NOTIFICATION_WARNING)]


def test_a_rewatch_answered_without_an_id_is_told_and_ends_a_shows_session(rewatch, kodi):
    rewatch.sessions.start(SHOW)
    rewatch.policy.answered(rewatch.sent_rewatch(SHOW), {})
    assert rewatch.sessions.get(SHOW.key()) is None
    assert rewatch.log() == ["Simkl answered a rewatch of The Last of Us (2023) without a rewatch_id; not retried"]
    assert kodi.notifications == [("Rewatch not recorded", "The Last of Us (2023)", NOTIFICATION_WARNING)]


def test_a_movie_rewatch_answered_without_an_id_is_told(rewatch, kodi):
    rewatch.sessions.start(SHOW)
    rewatch.policy.answered(rewatch.sent_rewatch(MOVIE), {"rewatch_id": ""})
    assert rewatch.sessions.get(SHOW.key()) is not None
    assert kodi.notifications == [("Rewatch not recorded", "Inception (2010)", NOTIFICATION_WARNING)]
