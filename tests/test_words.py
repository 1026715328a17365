"""Plain, plural-correct words (issue 19): every "N things" text has a singular string beside it and goes through
lib/scrobbler/counts.py, which leaves out zero parts."""
import ast
import os
import re

import polib
import pytest

from lib.scrobbler import counts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "lib", "scrobbler")
PO = os.path.join(ROOT, "resources", "language", "resource.language.en_gb", "strings.po")
# A count followed by a plural noun, maybe after one word: "%d movies", "%d watched items", "Discard %d entries".
# ("%d marked as watched" is no plural: the noun must have three letters or more before its s.)
PLURAL_AFTER_COUNT = re.compile(r"%d (?:[^\W\d_]+ )?[^\W\d_]{2,}s\b")


def strings():
    return {int(entry.msgctxt.lstrip("#")): entry.msgid for entry in polib.pofile(PO)}


def text(number, *args):
    message = strings()[number]
    return message % args if args else message


def test_every_count_before_a_plural_noun_is_the_plural_of_a_count_phrase():
    plurals = {number: message for number, message in strings().items() if PLURAL_AFTER_COUNT.search(message)}
    many = {forms[1] for forms in counts.FORMS}
    assert {number: message for number, message in plurals.items() if number not in many} == {}


def test_every_count_phrase_has_a_singular_without_a_count_and_a_plural_with_one():
    for one, many in counts.FORMS:
        assert "%d" not in strings()[one] and "%d" in strings()[many], (one, many)


def integer_constants(path):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and type(node.value) is int}


def test_the_plural_strings_are_used_only_through_counts():
    plural_ids = {forms[1] for forms in counts.FORMS}
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            path = os.path.join(folder, name)
            if name.endswith(".py") and path != os.path.join(PACKAGE, "counts.py"):
                used = integer_constants(path) & plural_ids
                if used:
                    found[os.path.relpath(path, ROOT)] = sorted(used)
    assert found == {}


@pytest.mark.parametrize("movies, episodes, said", [
    (1, 0, "1 movie"), (3, 0, "3 movies"), (0, 1, "1 episode"), (0, 12, "12 episodes"),
    (2, 1, "2 movies and 1 episode"), (1, 2, "1 movie and 2 episodes"), (0, 0, "")])
def test_movies_and_episodes_leave_out_zero_parts_and_say_one_in_the_singular(movies, episodes, said):
    assert counts.movies_and_episodes(movies, episodes, text) == said


# Characters beyond ASCII that Estuary's Noto Sans and Kodi's arial.ttf both draw (an arrow came out as a box
# in Kodi 20.1's question dialog).
DRAWN = set("…—·")


def test_every_string_uses_only_characters_estuarys_fonts_draw():
    odd = {number: message for number, message in strings().items()
           if any(ord(c) > 126 and c not in DRAWN for c in message)}
    assert odd == {}


# -- notifications fit Estuary's toast ---------------------------------------------------------------------
# Estuary's DialogNotification.xml shows the heading in label 401, 450 px wide in font37 (size 37), and the
# message in label 402, 450 px wide in font27_narrow (size 27); both are fadelabels, which scroll what is
# wider. Measured with PIL's FreeType on Estuary's Noto Sans and on Kodi's arial.ttf (its fallback when Noto
# is missing, as in the Kodi 21 test root), English text takes 17-20 px a character at 37 and 13-15 px at 27:
# 22 and 31 characters stay under 450 px in both fonts. It matches what scrolled in a real Kodi 20.1: "Marked
# as watched on Sim…" (26 characters, 496 px) and "Simkl had a problem answering. Th…" (64 characters).
HEADING_MAX = 22
MESSAGE_MAX = 31

# The notifications' strings: the headings and messages kodi.notify shows, also those handed to it from
# a table or a helper (the problems' short words, counts' phrases, the Retry now outcome).
HEADINGS = {32000, 32030, 32400, 32550, 32563, 32651, 32713, 32755, 32763, 32765, 32766, 32767, 32768, 32769, 32770,
            32771, 32773, 32774, 32775, 32800, 32803, 32820, 32881, 32916, 32917, 32970}
MESSAGES = {32040, 32230, 32234, 32310, 32400, 32401, 32402, 32439, 32651, 32654, 32666, 32667, 32675, 32900, 32901,
            32715, 32754, 32756, 32758, 32759, 32760, 32761, 32762, 32764, 32772, 32880, 32971} | set(
                counts.MOVIES + counts.EPISODES + counts.WATCHES_QUEUED + counts.SENDING_TO + counts.DISCARDED
                + counts.SENDING_RATINGS_TO + counts.SENDING_MIXED_TO + counts.RATINGS_DISCARDED
                + counts.MIXED_DISCARDED
                + counts.NEEDS_ATTENTION + counts.NEEDS_ATTENTION_TITLES)


def filled(message):
    """A string as the user reads it with a typical count (a title, the user's, may still scroll)."""
    return message.replace("%d", "123").replace("%%", "%").replace("%s", "")


def test_every_notification_heading_fits_estuarys_toast():
    long = {number: strings()[number] for number in HEADINGS if len(filled(strings()[number])) > HEADING_MAX}
    assert long == {}


def test_every_notification_message_fits_estuarys_toast():
    long = {number: strings()[number] for number in MESSAGES if len(filled(strings()[number])) > MESSAGE_MAX}
    assert long == {}


def test_counted_movies_and_episodes_fit_the_toast():
    assert len(counts.movies_and_episodes(123, 123, text)) <= MESSAGE_MAX


# -- the status view's buttons ------------------------------------------------------------------------------
# A button of resources/skins/default/1080i/script-simkl-status.xml is 370 px wide with textoffsetx 20, and its
# label gets the width less the offset on both sides, 330 px (xbmc/guilib/GUILabel.cpp CGUILabel::GetMaxWidth);
# wider text is cut off with "…" (scrolled only while focused). Its font13 is Estuary's Noto Sans at 30 (and
# Kodi's arial.ttf where Noto is missing): measured as above, 20 characters stay under 330 px in both, and
# "End a rewatch session…" (22, 334 px in Noto Sans) is cut. A title never goes in a button: it would not fit.
BUTTON_MAX = 20
BUTTONS = {32013, 32214, 32234, 32317, 32415, 32650, 32664, 32712}


def test_every_status_view_button_label_fits_its_button_and_names_no_title():
    long = {number: strings()[number] for number in BUTTONS
            if len(filled(strings()[number])) > BUTTON_MAX or "%s" in strings()[number]}
    assert long == {}


def notify_calls():
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as handle:
                    tree = ast.parse(handle.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "notify":
                        yield os.path.relpath(path, ROOT), node


def test_every_string_a_notification_shows_is_one_the_length_tests_know():
    unknown = {}
    for where, call in notify_calls():
        numbers = {node.value for node in ast.walk(call) if isinstance(node, ast.Constant)
                   and type(node.value) is int and 30000 <= node.value < 34000}
        if numbers - HEADINGS - MESSAGES:
            unknown[where] = sorted(numbers - HEADINGS - MESSAGES)
    assert unknown == {}


def test_the_notifications_about_another_accounts_watches_are_strings_the_length_tests_know():
    from lib.scrobbler.delivery.outbox import Kept
    from lib.scrobbler.ui import handover_model
    used = []

    def recording(number, *args):
        used.append(number)
        return text(number, *args)

    for answer in (handover_model.SEND, handover_model.DISCARD):
        for number in (1, 3):
            for ratings in (0, 1, number):
                handover_model.done_text(answer, number, "bob", recording, Kept("id:1", "jane", number, ratings))
    notice = handover_model.not_now(Kept("id:1", "jane", 2), recording)
    assert (notice.heading, notice.message) == ("Watches of jane wait", "Open Simkl Scrobbler to decide")
    for ratings in (1, 2):
        handover_model.not_now(Kept("id:1", "jane", 2, ratings), recording)
    assert set(used) - HEADINGS - MESSAGES == set()
