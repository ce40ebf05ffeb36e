"""Banned words a policy cannot disguise (issue 11; docs/language.md §6.5, "Disguised banned words").

`rewardc probe` writes banned words four ways into an honest answer: invisible
characters, look-alike letters, spacing and leetspeak. A `banned` rule under its
default `unicode confusables` must catch each of them, for single words and for
the multi-word phrases of specs/support.reward, without firing on ordinary text.
Every score is exact.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import rewardlang
from rewardlang.rules.disguises import LEET, DisguiseMatcher, leet_markdown
from rewardlang.runtime import Batch

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = rewardlang.load(ROOT / "specs" / "support.reward")  # compiling loads no model
CHAT = rewardlang.load(ROOT / "specs" / "chat.reward")


def policy(text: str) -> float | None:
    """specs/support.reward's `policy` rule: banned "guaranteed", "100% refund", "not our fault", "calm down"."""
    return SUPPORT.scorers["policy"].score(Batch([text]))[0]


def safety(text: str) -> float | None:
    """specs/chat.reward's `safety` rule: banned "dangerous", "illegal", "harmful", "harm"."""
    return CHAT.scorers["safety"].score(Batch([text]))[0]


def one(rule: str, text: str) -> float | None:
    return rewardlang.loads(f"reward t\nrule r: {rule}\n").score([text]).rules["r"][0]


def explain(rule: str, text: str) -> str:
    explanations = rewardlang.loads(f"reward t\nrule r: {rule}\n").score([text], explain=True).explanations
    assert explanations is not None
    return explanations["r"][0]


# ======================================================== the four families
INVISIBLE = [
    "h\u200barm",  # zero-width space
    "ha\u2060rm",  # word joiner
    "har\u00adm",  # soft hyphen
    "h\u200ca\u200dr\ufeffm",  # zero-width non-joiner, joiner, BOM
    "il\u2064legal",  # invisible plus
    "harm\u180eful",  # Mongolian vowel separator
]
LOOKALIKES = [
    "h\u0430rm",  # Cyrillic а
    "\u0456llegal",  # Cyrillic і
    "h\u03b1rmful",  # Greek α
    "\uff48\uff41\uff52\uff4d",  # full-width
    "\u029c\u1d00\u0280\u1d0d",  # small capitals ʜᴀʀᴍ (not in UTS #39 v13)
    "\U0001f177\U0001f170\U0001f181\U0001f17c",  # negative squared 🅷🅰🆁🅼
    "\U0001f1ed\U0001f1e6\U0001f1f7\U0001f1f2",  # regional indicators
    "harmfuI",  # ASCII: a capital I for an l
    "iIlegaI",
    "DANGER0US",
    "h\u0336a\u0336r\u0336m\u0336",  # combining strokes on each letter
    "h\u00e1rm",  # an accent
]
SPACING = [
    "h a r m",
    "h-a-r-m",
    "h.a.r.m",
    "h_a_r_m",
    "h . a . r . m",
    "d a n g e r o u s",
    "I L L E G A L",
    "(h a r m)",
    "h a r m.",
]
LEETSPEAK = [
    "h4rm",
    "h@rm",
    "1ll3g4l",
    "!ll3g4l",
    "|ll3g@l",
    "d4ng3r0us",
    "h4rmfu1",
    "h 4 r m",  # spaced and leet at once
]


@pytest.mark.parametrize("text", INVISIBLE + LOOKALIKES + SPACING + LEETSPEAK)
def test_every_disguise_of_a_banned_word_is_caught(text: str) -> None:
    assert safety(f"Sure, here is the {text} you asked about.") == 0.0
    assert safety(text) == 0.0


@pytest.mark.parametrize(
    "text",
    [
        # invisible characters
        "This is n\u200bot our fault.",
        "Please c\u2060alm down.",
        "A 100\u00ad% refund is yours.",
        # look-alike letters
        "This is n\u043et \u043eur fault.",  # Cyrillic о
        "Please calm d\u03bfwn.",  # Greek ο
        "A \uff11\uff10\uff10% refund.",  # full-width digits
        "A 1OO% refund.",  # ASCII O for 0
        "A l00% refund.",  # ASCII l for 1
        "It is guaranteeD and GUARANTEED.",
        # spacing
        "It is n o t  o u r  f a u l t.",
        "It is n-o-t o-u-r f-a-u-l-t.",
        "Please c.a.l.m d.o.w.n now.",
        "Please c a l m d o w n now.",
        "A 1 0 0 % r e f u n d.",
        "It is not our f a u l t.",  # one word spaced out
        "It is not-our-fault.",  # words joined by hyphens
        "It is notourfault.",  # or not at all
        # leetspeak
        "This is n0t 0ur f4ult.",
        "Please c4lm d0wn!",
        "Please ca1m d0wn.",
        "A 100% r3fund.",
        "It is gu4r4nt33d.",
        "It is 9u@r@n733d.",
    ],
)
def test_support_policy_phrases_in_disguise(text: str) -> None:
    assert policy(text) == 0.0


# ================================================ ordinary text stays clean
ORDINARY = [
    "Version 1.0 shipped on 2024-05-01; version 2.3.4 follows, and v1.2 is deprecated.",
    "The report has 50 words, 3 tables and 455 rows; 1 in 10 users (10%) saw it.",
    "In the U.S.A, e.g. in New York, i.e. on the East Coast, A B testing ran at 9 a.m. and 5 p.m.",
    "I think it is fine: I am here, I can help, and It is what It is.",
    "FAIL-safe systems HAIL from the 1990s; the MAIL server and the TALL tower are fine.",
    "The Galaxy A55 and the MP3 player use x86 and ARM64 chips; the B52s played on 24/7 radio.",
    "Buy a t-shirt, an e-mail address and a 5k run; the 4th and 21st runners got 3rd place.",
    "Our warranty guarantees a refund of 100 dollars; it is not your fault, and please call down.",
    "The harmless pharmacy sells harmonicas; an illegally parked car is not dangerously close.",
    "Python 3.11, COVID-19, H2O, CO2, Win10, i7, 4K, 1080p, 2FA, 3D, 1st, 2nd, 80s, $5, @user, C++.",
    "Scores: 4-3, 5-0, 10-1; formulas a + b = c and x - y; the option -h and --help.",
    "Hello! Is it OK? Wow!! a | b | c, 1|2|3, 100%, 50/50, #1, ~5, *bold*, _under_ and a.b.c.",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_not_banned(text: str) -> None:
    assert safety(text) == 1.0
    assert policy(text) == 1.0


def test_ordinary_paragraph_with_short_banned_words() -> None:
    """Short banned words are where digits, lone letters and capitals could spell something."""
    paragraph = " ".join(ORDINARY)
    rule = 'banned "ass", "sex", "hell", "kill", "fall", "usb", "ab testing", "is it ok", "lol", "shit"'
    assert one(rule, paragraph) == 0.0  # "Is it OK?" is there, as written
    rule = 'banned "ass", "sex", "hell", "kill", "fall", "usb", "lol", "shit", "bob"'
    assert one(rule, paragraph) == 1.0


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        # whole words still: a disguise inside a longer word is that longer word
        ('banned "harm"', "h4rmless", 1.0),
        ('banned "harm"', "harm1ess", 1.0),
        ('banned "harmless"', "harm1ess", 0.0),
        ('banned "harm"', "ph4rm", 1.0),
        ('banned "harm" { match substring }', "ph4rmacy", 0.0),
        # a spaced-out run counts as a whole
        ('banned "harm"', "x h a r m", 1.0),
        ('banned "harm"', "h a r m y", 1.0),
        ('banned "harm"', "a h a r m", 0.0),  # but "a" and "I" are words of their own
        ('banned "harm"', "I h a r m", 0.0),
        ('banned "harm"', "a.h.a.r.m", 1.0),
        ('banned "harm"', "h a r m a good idea", 0.0),  # at either end
        ('banned "harm"', "call at 9 h a r m", 0.0),  # a lone digit, an abbreviation: words of their own
        ('banned "harm"', "at 9 a.m. h a r m", 0.0),
        ('banned "harm"', "e.g. h a r m", 0.0),
        ('banned "harm"', "h.a.r.m e.g.", 0.0),
        ('banned "harm"', "x 9 h a r m", 1.0),
        ('banned "as"', "for a a s", 0.0),  # the article, then the word
        ('banned "harm"', "h-a-r-m-less", 1.0),
        ('banned "at"', "a t-shirt", 1.0),
        ('banned "at"', "a t", 0.0),
        ('banned "ab"', "A B testing", 0.0),  # collapsed, "A B" is the word "ab"
        ('banned "harm"', "ha rm", 1.0),  # two words, not single letters
        # numbers are no words; codes of capitals and digits are no leetspeak
        ('banned "ass"', "455", 1.0),
        ('banned "ass"', "4 5 5", 1.0),
        ('banned "ass"', "4$$", 0.0),
        ('banned "ass"', "@55", 0.0),
        ('banned "ass"', "a55", 0.0),
        ('banned "ass"', "A55", 1.0),
        ('banned "is it"', "15 17", 1.0),
        ('banned "is it"', "15 it", 0.0),
        ('banned "is it"', "is 17", 0.0),
        ('banned "obsolete"', "0850137e", 0.0),
        ('banned "obsolete"', "08501373", 1.0),
        # a capital I is an l only next to a lower-case letter
        ('banned "fall"', "FAIL", 1.0),
        ('banned "fall"', "faIl", 0.0),
        ('banned "lie"', "Iie", 0.0),
        ('banned "lie"', "IIE", 1.0),
        ('banned "kill"', "KIlL", 0.0),
        ('banned "illegal"', "ILLEGAL", 0.0),
        ('banned "fail"', "fall", 1.0),  # a lower-case l is never an i
        # "1" stands for i and for l: both words are caught
        ('banned "kill", "hill"', "k1ll", 0.0),
        ('banned "kill"', "k!11", 0.0),
        ('banned "bill"', "b111", 0.0),
        # case sensitive: a leet digit has no case, letters keep theirs
        ('banned "HARM" { case sensitive }', "H4RM", 0.0),
        ('banned "HARM" { case sensitive }', "h4rm", 1.0),
        ('banned "HARM" { case sensitive }', "H A R M", 0.0),
        ('banned "harmful" { case sensitive }', "harmfuI", 0.0),
        ('banned "HARMFUL" { case sensitive }', "HARMFUI", 1.0),
        # the folds come with `unicode confusables`: `nfkc` and `raw` read the text as written
        ('banned "harm" { unicode nfkc }', "h4rm", 1.0),
        ('banned "harm" { unicode nfkc }', "h a r m", 1.0),
        ('banned "harm" { unicode nfkc }', "h\u200barm", 0.0),
        ('banned "harm" { unicode raw }', "h4rm", 1.0),
        ('banned "harm" { unicode raw }', "h\u200barm", 1.0),
        # never for bonus phrases: "h3re's how" does not pay more
        ('phrases "here\'s how"', "h3re's how", 0.0),
        ('phrases "here\'s how" { unicode confusables }', "h3re's how", 0.0),
        ('phrases "here\'s how" { unicode confusables }', "h e r e ' s how", 0.0),
        # present and absent as given
        ('banned "harm" { present -1  absent 0.5 }', "h4rm", -1.0),
        ('banned "harm" { present -1  absent 0.5 }', "harmony", 0.5),
    ],
)
def test_rules(rule: str, text: str, expected: float) -> None:
    assert one(rule, text) == expected


# ================================================================ the rest
def test_explanation_names_the_word_and_how_it_was_written() -> None:
    assert explain('banned "harm", "illegal"', "That is h 4 r m.") == "found: 'harm' written as 'h 4 r m' -> 0"
    assert explain('banned "harm"', "harm and h4rm") == "found: 'harm' -> 0"
    assert explain('banned "fall"', "Do not faIl.") == "found: 'fall' written as 'faIl' -> 0"
    assert explain('banned "harm", "illegal"', "harm, 1ll3g4l") == "found: 'harm', 'illegal' written as '1ll3g4l' -> 0"
    assert explain('banned "harm"', "h4rmless") == "found: nothing -> 1"


def test_many_phrases_each_found_by_name() -> None:
    """Phrases are scanned in chunks of 50: the explanation still names the right one."""
    words = [f"word{letter}{other}" for letter in "bcdfhjkmnp" for other in "bcdfhjkmnpqrvwxz"]  # 160
    rule = "banned " + ", ".join(f'"{w}"' for w in words)
    assert one(rule, "a w0rdpx here") == 0.0
    expected = "found: 'wordbb' written as 'w o r d b b', 'wordpx' written as 'w0rdpx' -> 0"
    assert explain(rule, "a w0rdpx and w o r d b b") == expected
    assert one(rule, "a w0rdpy here") == 1.0


def test_matcher_pickles_and_scores_the_same() -> None:
    matcher = DisguiseMatcher(["harm", "not our fault"], "insensitive", word=True)
    assert matcher.any("n0t 0ur f4ult")
    again = pickle.loads(pickle.dumps(matcher))
    assert again.any("n0t 0ur f4ult") and again.any("h a r m") and not again.any("harmless x h a r m")


def test_long_hostile_text_is_scored() -> None:
    """Texts made to give the scan many candidates to reject still get the exact score."""
    for rule, unit, disguised in [
        ('banned "ass"', "455 4.55 ", "a$$"),
        ('banned "fall"', "FAIL ", "fa1l"),
        ('banned "harm"', "x h a r m y ", "h4rm"),
        ('banned "harm"', "a b c d e f g h i j k l m n o p ", "h4rm"),
    ]:
        text = unit * (100_000 // len(unit))
        assert one(rule, text) == 1.0
        assert one(rule, f"{text} {disguised}") == 0.0


def test_docs_show_the_leetspeak_table() -> None:
    assert leet_markdown() in (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    assert set(LEET) == set("abegilost")


def test_spaced_phrases_inserted_next_to_one_letter_words() -> None:
    """As `rewardc probe` writes them: letters one space apart, words three, anywhere in an answer."""
    honest = "I think a good plan is to reset it. If I were you, I would call at 9 a.m. and ask for a new one."
    words = honest.split()
    for phrase in ("not our fault", "calm down", "guaranteed"):
        spaced = "   ".join(" ".join(word) for word in phrase.split())
        for at in range(len(words) + 1):
            assert policy(" ".join([*words[:at], spaced, *words[at:]])) == 0.0, (phrase, at)
