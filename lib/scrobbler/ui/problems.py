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
    """Three texts of one problem, on purpose: `told` is the whole sentence (the status view's Last problem,
    the login dialog); `why` the short clause of the status view's "Why:" beside the next try, None where no
    try is waited for (after a rejected login the next login sends at once); `short` the few words a
    notification has room for (Estuary's toast, tests/test_words.py), None where no notification tells it."""
    told: int
    why: Optional[int] = None
    short: Optional[int] = None


PROBLEMS = {
    ERR_NETWORK: Words(32036, why=32666, short=32666),
    ERR_SERVER: Words(32220, why=32667, short=32667),
    ERR_RATE: Words(32037, why=32668, short=32760),
    ERR_UNEXPECTED: Words(32222, why=32669, short=32761),
    ERR_CONFIG: Words(32039, short=32762),  # no try is waited for: the status view gives the whole sentence
    ERR_SESSION: Words(32223, why=32670),
    ERR_AUTH: Words(32041),
}

# Why an entry needs the user (Needs attention). Any other entry there is one still failing after several
# tries: STILL_FAILING with its problem's short words.
NEEDS_USER = {UNIDENTIFIED: 32235, NOT_FOUND: 32236}
STILL_FAILING = 32238
# A refused entry's reason is Simkl's "status error" (delivery/flush.py); its error in words a person reads
# (Simkl's error codes: docs conventions/errors). Another error: REFUSED_OTHER.
REFUSALS = {"wrong_parameter": 32777, "empty_field": 32777, "id_err": 32236, "empty": 32236, "url_failed": 32236,
            "already_watched": 32778, "pro_required": 32309}
REFUSED_OTHER = 32779

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


def short_text(code: Optional[str], text) -> str:
    """The few words of a notification for `code`; the whole sentence where it has none."""
    words = PROBLEMS.get(code)
    return text(words.short) if words is not None and words.short is not None else told_text(code, text)


def still_failing_text(code: Optional[str], text) -> str:
    return text(STILL_FAILING, short_text(code, text))


def reason_text(state: str, reason: Optional[str], text) -> str:
    """Why an entry in `state` needs the user; `reason` is Simkl's for a refused one ("400 wrong_parameter"),
    the problem's code for one still failing."""
    if state == REFUSED:
        error = (reason or "").split()[-1] if (reason or "").split() else ""
        return text(REFUSALS.get(error, REFUSED_OTHER))
    if state in NEEDS_USER:
        return text(NEEDS_USER[state])
    return still_failing_text(reason, text)
