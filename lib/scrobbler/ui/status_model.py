"""What the status view shows and which actions it offers, decided from the queue, the login and the clock.

No Kodi here: texts come through `text(string_id, *args)` (kodi.localize), times through `when(timestamp)`.
The window that shows a View is status_window.py; status.py wires the two to the add-on.
"""
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..delivery.flush import ERR_CONFIG, ERR_NETWORK, ERR_RATE, ERR_SERVER, ERR_UNEXPECTED
from ..delivery.outbox import ATTENTION, PENDING, SENT, UNRESOLVED, Attention, Kept, Outbox, Waiting
from ..simkl.auth import ended_by_login_change
from ..times import UNKNOWN_TIME, parse_time
from .handover_model import action_label, kept_count
from .problems import PROBLEMS, reason_text, short_text, told_text, why_text
from .rating_words import rated_label

WAITING_SHOWN = 5  # the first few waiting titles; the rest are counted
ATTENTION_LISTED = 500  # Needs attention lists the newest entries; Retry all and Discard all act on those
WAITING_STATES = (PENDING, UNRESOLVED)
# Failures after which the sender holds every batch until the failed one is due again (flush.Flusher._hold).
HOLDING_ERRORS = (ERR_NETWORK, ERR_SERVER, ERR_RATE, ERR_UNEXPECTED)
# A failure after which nothing is sent by itself: only a build with a client id helps. (After a rejected
# login the queue waits for the next login, which resumes sending at once.)
BLOCKING_ERRORS = (ERR_CONFIG,)

RETRY, LOGIN, SYNC, NEEDS_ATTENTION, END_SESSION, CLOSE = "retry", "login", "sync", "attention", "end_session", "close"
HANDOVER = "handover"  # another account's waiting watches: send them to the account logged in, or discard them
ACCOUNT_TYPE_STRINGS = {"free": 32022, "pro": 32023, "vip": 32024}

Text = Callable[..., str]


@dataclass(frozen=True)
class Snapshot:
    """What the status view is made from, read at one moment."""
    user_name: str  # empty when not logged in
    account_type: str
    counts: Dict[str, int]
    waiting: Tuple[Waiting, ...]  # the first WAITING_SHOWN, oldest first
    next_due: Optional[float]  # earliest next try of a waiting entry, on the outbox's clock
    deferral: Optional[Tuple[str, float]]  # (why, until) of the latest failure, see Outbox.last_deferral
    sessions: Tuple[Tuple[str, str], ...]  # active rewatch sessions: (show key, label)
    attention_count: int  # entries under Needs attention (Outbox.attention_count)
    kept: Tuple[Kept, ...] = ()  # entries of other accounts, not sent: they wait for their own account
    attention: Tuple[Attention, ...] = ()  # the newest ATTENTION_LISTED of them, newest first
    synced_at: Optional[float] = None  # when the account's last sync with Simkl ended (wall time); None: none yet
    login_changed: bool = False  # logged out since Simkl refused a PIN (V1) login (simkl/auth.py LOGIN_CHANGED)

    @property
    def logged_in(self) -> bool:
        return bool(self.user_name)

    @property
    def waiting_count(self) -> int:
        return self.counts.get(PENDING, 0) + self.counts.get(UNRESOLVED, 0)


def read(outbox: Outbox, login: dict, sessions: Sequence[Tuple[str, str]],
         synced_at: Optional[float] = None) -> Snapshot:
    """The snapshot from the queue, the stored login (token.json's data), the rewatch sessions and when the
    account's last sync ended. The queue is read as the account logged in sees it (its entries and nobody's,
    see Outbox's `account`), so are the sessions given."""
    counts = outbox.counts()
    dues = [due for due in (outbox.next_due(), outbox.next_unresolved_due()) if due is not None]
    logged_in = bool(login.get("access_token"))
    return Snapshot(user_name=(login.get("user_name") or "?") if logged_in else "",
                    account_type=login.get("account_type") or "free", counts=counts,
                    waiting=tuple(outbox.waiting_entries(WAITING_SHOWN)), next_due=min(dues) if dues else None,
                    deferral=outbox.last_deferral(), sessions=tuple(sessions),
                    attention_count=outbox.attention_count(), kept=tuple(outbox.kept_for_others()),
                    attention=tuple(outbox.attention(limit=ATTENTION_LISTED)), synced_at=synced_at,
                    login_changed=ended_by_login_change(login))


@dataclass(frozen=True)
class View:
    """Texts of the information lines (empty: not shown) and the actions offered, as (action, label)."""
    heading: str
    account: str
    last_sync: str
    counts: str
    next_try: str
    why: str
    waiting_heading: str
    waiting: str
    problem: str
    actions: Tuple[Tuple[str, str], ...]

    def action_names(self) -> Tuple[str, ...]:
        return tuple(name for name, _ in self.actions)


def build(snapshot: Snapshot, now: float, text: Text, when: Callable[[float], str]) -> View:
    waiting = snapshot.waiting_count
    next_try, why = _next_try(snapshot, now, text, when)
    return View(heading="%s · %s" % (text(32000), text(32019)), account=_account(snapshot, text),
                last_sync=text(32822, when(snapshot.synced_at)) if snapshot.logged_in and snapshot.synced_at else "",
                counts=_counts(snapshot, text), next_try=next_try, why=why,
                waiting_heading=text(32673) if waiting else "",
                waiting=_waiting(snapshot, text, when) if waiting else text(32654),
                problem="" if why else _problem(snapshot, text), actions=_actions(snapshot, text))


def _account(snapshot: Snapshot, text: Text) -> str:
    if not snapshot.logged_in:
        return text(32020)
    kind = text(ACCOUNT_TYPE_STRINGS.get(snapshot.account_type, 32022))
    return "%s (%s)" % (text(32021, snapshot.user_name), kind)


def _counts(snapshot: Snapshot, text: Text) -> str:
    parts = [text(32210, snapshot.waiting_count), text(32211, snapshot.counts.get(SENT, 0))]
    if snapshot.attention_count:
        parts.append(text(32234, attention_number(snapshot.attention, snapshot.attention_count, text)))
    if len(snapshot.sessions) == 1:
        parts.append(text(32861, snapshot.sessions[0][1]))  # the title its button has no room for
    elif snapshot.sessions:
        parts.append(text(32316, len(snapshot.sessions)))
    if snapshot.kept:
        parts.append(text(32710, kept_count(snapshot.kept)))
    return "   ·   ".join(parts)


def _waiting(snapshot: Snapshot, text: Text, when: Callable[[float], str]) -> str:
    lines = [entry_line(entry.label, entry.rating, entry.watched_at, text, when) for entry in snapshot.waiting]
    more = snapshot.waiting_count - len(snapshot.waiting)
    if more > 0:
        lines.append(text(32656, more))
    return "[CR]".join(lines)


def watched_line(label: str, watched_at: str, text: Text, when: Callable[[float], str]) -> str:
    """A title with the time it was watched; Simkl's "date unknown" placeholder (a watch the sync imported
    without a date) is said so, never shown as a day in 1970."""
    moment = parse_time(watched_at)
    if moment <= parse_time(UNKNOWN_TIME):
        return text(32676, label)
    return text(32655, label, when(moment))


def entry_line(label: str, rating: Optional[int], at: str, text: Text, when: Callable[[float], str]) -> str:
    """A watch with when it was watched (watched_line), or a rating with when the user chose it."""
    if rating is None:
        return watched_line(label, at, text, when)
    return text(32902, rated_label(label, rating, text), when(parse_time(at)))


@dataclass(frozen=True)
class AttentionRow:
    """One row of Needs attention: what the list shows, the title, and the entries it stands for."""
    label: str
    title: str
    ids: Tuple[int, ...]


def attention_rows(entries: Sequence[Attention], text: Text, when: Callable[[float], str]) -> List[AttentionRow]:
    """Needs attention's rows, in the entries' order (newest first): one row per title and reason, so a title
    queued twice is one row, each with when it was watched (its newest entry's time) and why it waits. A rating
    is a row of its own, named with the rating chosen (a title rated twice: a row per rating)."""
    return [AttentionRow("%s — %s" % (entry_line(found[0].label, found[0].rating, found[0].watched_at, text, when),
                                      reason), title, tuple(entry.id for entry in found))
            for (title, reason), found in _by_title(entries, text).items()]


def _by_title(entries: Sequence[Attention], text: Text) -> Dict[Tuple[str, str], List[Attention]]:
    grouped: Dict[Tuple[str, str], List[Attention]] = {}
    for entry in entries:
        title = rated_label(entry.label, entry.rating, text)
        grouped.setdefault((title, reason_text(entry.state, entry.reason, text)), []).append(entry)
    return grouped


def attention_number(listed: Sequence[Attention], total: int, text: Text) -> int:
    """The N of "Needs attention: N" (the view's count, its button, the list's heading): the rows the list
    shows when it lists every entry (`listed`, of `total` entries); with more entries than it lists, the
    entries (the heading then says how many are listed, see attention_heading)."""
    return len(_by_title(listed, text)) if total <= len(listed) else total


def attention_heading(listed: Sequence[Attention], total: int, text: Text) -> str:
    """The Needs attention list's heading, in the same number as the status view's button."""
    if total <= len(listed):
        return text(32234, attention_number(listed, total, text))
    return text(32245, total, len(listed))


def _next_try(snapshot: Snapshot, now: float, text: Text, when: Callable[[float], str]) -> Tuple[str, str]:
    """When the service tries to send next, and why it waits until then (the last problem is then not shown
    again: never the same words twice)."""
    if not snapshot.waiting_count:
        return "", ""
    if not snapshot.logged_in:
        return text(32657), ""
    error, held_until = snapshot.deferral or (None, None)
    if error in BLOCKING_ERRORS:
        return text(32663), ""  # "...the problem below": the last problem says it in full
    due = snapshot.next_due if snapshot.next_due is not None else now
    if error in HOLDING_ERRORS:
        due = max(due, held_until)
    if due <= now:
        return text(32658), ""
    minutes = math.ceil((due - now) / 60.0)
    left = text(32660) if due - now < 60 else text(32661, minutes)
    why = why_text(error, text)
    return text(32659, when(due), left), text(32662, why) if why else ""


def _problem(snapshot: Snapshot, text: Text) -> str:
    if snapshot.login_changed and not snapshot.logged_in:
        return text(32972)  # what to do, with or without a watch waiting: the notification's words, in full
    error = snapshot.deferral[0] if snapshot.deferral and snapshot.counts.get(PENDING) else None
    return text(32213, told_text(error, text)) if error in PROBLEMS else ""


def _actions(snapshot: Snapshot, text: Text) -> Tuple[Tuple[str, str], ...]:
    actions = []
    if snapshot.logged_in and snapshot.waiting_count:
        actions.append((RETRY, text(32214)))
    if not snapshot.logged_in:
        actions.append((LOGIN, text(32013)))
    if snapshot.attention_count:
        actions.append((NEEDS_ATTENTION, text(32234, attention_number(snapshot.attention, snapshot.attention_count,
                                                                      text))))
    if snapshot.logged_in and snapshot.kept:
        actions.append((HANDOVER, action_label(snapshot.kept, text)))
    if snapshot.logged_in:
        actions.append((SYNC, text(32415)))
    if len(snapshot.sessions) == 1:
        actions.append((END_SESSION, text(32317)))
    elif snapshot.sessions:
        actions.append((END_SESSION, text(32664)))
    actions.append((CLOSE, text(32650)))
    return tuple(actions)


# -- Retry now, Retry all: what came of it ------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    sent: int
    attention: int  # moved to Needs attention (Simkl does not know it, refused it, no title found)
    failing: Optional[str]  # the error code of a try that failed again; None when none failed
    under_way: int = 0  # still on their way when the wait for the outcome ran out (a big queue outlasts it)
    # Which entries were sent and which went to Needs attention, for the words (rows, a title named); not
    # compared: the counts say the same.
    sent_ids: Tuple[int, ...] = field(default=(), compare=False)
    attention_ids: Tuple[int, ...] = field(default=(), compare=False)


def before_retry(outbox: Outbox, ids: Optional[Sequence[int]] = None) -> Dict[int, Tuple[str, int]]:
    """{id: (state, attempts)} of every waiting entry, taken just before Retry now; with `ids`, of those of
    them that wait, taken just after Retry all (or a row's Retry) made them wait again."""
    states = outbox.waiting_states() if ids is None else outbox.states(ids)
    return {entry_id: (state, attempts) for entry_id, (state, attempts, _) in states.items()
            if state in WAITING_STATES}


def outcome(before: Dict[int, Tuple[str, int]], after: Dict[int, Tuple[str, int, Optional[str]]],
            waited_out: bool = False) -> Optional[Outcome]:
    """What Retry now came to, from the entries' states before it and now; None while it is still under way,
    unless the wait for it ran out (`waited_out`): then what came of it so far, with how many are under way.

    It is over when one entry failed again (the sender stops at a failure) or no entry is waiting any more.
    """
    sent, attention = [], []
    under_way = 0
    failing = None
    for entry_id, (state_before, attempts_before) in before.items():
        state, attempts, error = after.get(entry_id, ("gone", 0, None))
        if state == SENT:
            sent.append(entry_id)
        elif state in ATTENTION:
            attention.append(entry_id)
        elif state in WAITING_STATES:
            tried = attempts > (attempts_before if state == state_before else 0)
            if tried and error:
                failing = failing or error
            else:
                under_way += 1
    found = dict(sent_ids=tuple(sent), attention_ids=tuple(attention))
    if failing is not None or not under_way:
        return Outcome(len(sent), len(attention), failing, **found)
    return Outcome(len(sent), len(attention), None, under_way, **found) if waited_out else None


Labels = Callable[[Sequence[int]], Dict[int, str]]  # {id: title} of queued entries (Outbox.labels)


def listed_labels(outbox: Outbox, text: Text) -> Labels:
    """{id: the entry as the lists name it} of queued entries: a rating with the rating chosen, apart from
    its title's watches."""
    def labels(ids: Sequence[int]) -> Dict[int, str]:
        ratings = outbox.ratings_of(ids)
        return {entry_id: rated_label(label, ratings.get(entry_id), text)
                for entry_id, label in outbox.labels(ids).items()}
    return labels


def told_by_the_service(result: Optional[Outcome]) -> bool:
    """All that came of the retry is that its entries went to Needs attention: the service's own notification
    names them (ui/notices.py), so the view adds no second one."""
    return result is not None and bool(result.attention) and not result.sent and result.failing is None \
        and not result.under_way


def outcome_words(result: Optional[Outcome], text: Text, labels: Optional[Labels] = None) -> Tuple[str, str]:
    """The notification after a retry, as (heading, message), short enough for Estuary's toast; an empty
    heading is the add-on's name. `result` None: no answer within the wait. With `labels`, it counts rows as
    the lists show them (a title queued twice is one) and names the title when only one came of it."""
    if result is None:
        return text(32771), text(32772)
    sent = _rows(result.sent_ids, labels) if labels else Rows(result.sent)
    attention = _rows(result.attention_ids, labels) if labels else Rows(result.attention)
    if result.under_way and not sent.count and not attention.count:
        return text(32771), text(32772)
    if result.failing is not None:
        return text(32773, sent.count) if sent.count else text(32563), short_text(result.failing, text)
    if result.under_way:
        return (text(32774, sent.count) if sent.count else "",
                text(32234, attention.count) if attention.count else text(32675))
    if not sent.count and not attention.count:
        return "", text(32654)  # it was all sent before the retry
    if attention.count:
        return text(32651, sent.count) if sent.count else "", text(32234, attention.count)
    if sent.title:
        return text(32820), sent.title
    return "", text(32651, sent.count)


@dataclass(frozen=True)
class Rows:
    """Entries as the lists show them: how many rows (a title queued twice is one), and the title when one."""
    count: int
    title: str = ""


def _rows(ids: Sequence[int], labels: Labels) -> Rows:
    found = labels(ids)
    titles = set(found.values())
    count = len(titles) + len([entry_id for entry_id in ids if entry_id not in found])  # one no longer queued: a row
    return Rows(count, next(iter(titles)) if count == 1 and titles else "")
