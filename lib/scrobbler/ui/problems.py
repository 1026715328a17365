"""The words a problem is told in, written once: the service's notifications and the status view read them here.

A problem is the code the sender (delivery/flush.py ERR_*) or the worker left on a waiting entry, the
state of an entry only the user can move on (delivery/outbox.py ATTENTION), or how a login failed
(simkl/auth.py LoginResult). No Kodi here: texts come through `text(string_id, *args)` (kodi.localize).
"""
from dataclasses import dataclass
from typing import Optional

from ..delivery.flush import ERR_AUTH, ERR_CONFIG, ERR_NETWORK, ERR_RATE, ERR_SERVER, ERR_SESSION, ERR_UNEXPECTED
from ..delivery.outbox import NOT_FOUND, REFUSED, UNIDENTIFIED


@dataclass(frozen=True)
class Words:
    """Two texts of one problem, on purpose: `told` is the whole sentence (the notification, the status
    view's Last problem, Still failing); `why` the short clause of the status view's "Why:" beside the next
    try, None where no try is waited for (after a rejected login the next login sends at once)."""
    told: int
    why: Optional[int] = None


PROBLEMS = {
    ERR_NETWORK: Words(32036, why=32666),
    ERR_SERVER: Words(32220, why=32667),
    ERR_RATE: Words(32037, why=32668),
    ERR_UNEXPECTED: Words(32222, why=32669),
    ERR_CONFIG: Words(32039, why=32672),
    ERR_SESSION: Words(32223, why=32670),
    ERR_AUTH: Words(32041),
}

# Why an entry needs the user (Needs attention); REFUSED's words take Simkl's reason. Any other entry there
# is one still failing after several tries: STILL_FAILING with its problem's sentence.
NEEDS_USER = {UNIDENTIFIED: 32235, NOT_FOUND: 32236, REFUSED: 32237}
STILL_FAILING = 32238

# How a login failed (LoginResult.outcome); where the sender meets the same problem, in the same words.
LOGIN_FAILURES = {
    "expired": 32033, "code_gone": 32034, "denied": 32035, "network": PROBLEMS[ERR_NETWORK].told,
    "busy": PROBLEMS[ERR_RATE].told, "malformed": 32038, "not_configured": PROBLEMS[ERR_CONFIG].told,
    "bad_client": 32042,
}


def told_text(code: Optional[str], text) -> str:
    """The whole sentence for `code`; a code without words (an older or newer version's) as it is."""
    return text(PROBLEMS[code].told) if code in PROBLEMS else (code or "")


def why_text(code: Optional[str], text) -> str:
    """The short clause for `code`; empty when it has none."""
    words = PROBLEMS.get(code)
    return text(words.why) if words is not None and words.why is not None else ""


def still_failing_text(code: Optional[str], text) -> str:
    return text(STILL_FAILING, told_text(code, text))


def reason_text(state: str, reason: Optional[str], text) -> str:
    """Why an entry in `state` needs the user; `reason` is Simkl's for a refused one, the problem's code for
    one still failing."""
    if state == REFUSED:
        return text(NEEDS_USER[REFUSED], reason or "?")
    if state in NEEDS_USER:
        return text(NEEDS_USER[state])
    return still_failing_text(reason, text)
