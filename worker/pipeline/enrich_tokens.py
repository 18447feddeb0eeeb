"""Cheap, model-free text scanning the enrichment sub-steps share.

Everything here is regular expressions over the body, so it costs a small
fraction of a statistical model's pass and scales linearly to very long bodies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import NamedTuple

# A name token: letters/digits with inner apostrophes ("O'Brien"), but not the
# possessive "'s" ("McKenzie's"). Hyphens separate tokens, so "U.S.-China"
# holds "China"; matching keeps the hyphen as part of an alias ("al-Kadhimi").
_NAME_TOKEN = re.compile(r"\w+(?:['\u2019](?!s\b)\w+)*")
# Abbreviations whose full stop does not end a sentence: titles, initials.
ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "gen",
        "sen",
        "rep",
        "gov",
        "lt",
        "col",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "maj",
        "st",
        "jr",
        "sr",
        "prof",
        "rev",
        "inc",
        "co",
        "corp",
        "ltd",
        "no",
        "vs",
        "etc",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "d.c",
    ]
)
_SENTENCE_BREAK = re.compile(
    r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])"
)
# Capitalised words that start sentences and name dates, never entities on their own.
CALENDAR_WORDS = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "today",
        "yesterday",
        "tomorrow",
    ]
)


class Token(NamedTuple):
    # A named tuple, not a dataclass: a body has thousands of tokens and a
    # tuple is several times cheaper to build.
    text: str
    start: int
    end: int


def name_tokens(text: str) -> list[Token]:
    return [Token(m.group(), *m.span()) for m in _NAME_TOKEN.finditer(text)]


def is_capitalised(word: str) -> bool:
    """Starts upper-case ("Iraq"), or is camel-cased ("eBay", "iPhone")."""
    first = word[:1]
    # str methods, not a per-character loop: this runs on every body token.
    return first.isupper() or (first.islower() and not word.islower())


def sentence_starts(text: str) -> Iterator[int]:
    """Offsets where a sentence starts: paragraph starts and after a full stop."""
    yield 0
    for para in re.finditer(r"\n\s*\n", text):
        yield para.end()
    for m in _SENTENCE_BREAK.finditer(text):
        # A bounded look-back keeps this linear on very long bodies.
        before = text[max(0, m.start() - 24) : m.start()].rsplit(None, 1)
        word = before[-1].lower().rstrip(".") if before else ""
        if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue
        yield m.end()


def sentence_bounds(text: str) -> list[int]:
    """Sorted sentence start offsets, with ``len(text)`` appended as a sentinel."""
    return sorted({*sentence_starts(text), len(text)})


def is_sentence_initial(text: str, start: int) -> bool:
    """True when only opening punctuation separates ``start`` from a sentence start."""
    i = start - 1
    while i >= 0 and text[i] in "\"'\u201c\u2018([":
        i -= 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in "\n.!?:\u2026\u201d\u2019\"'"


def cut_at_sentence(text: str, budget: int) -> int:
    """Offset of the last sentence end within ``budget`` chars (a space if none)."""
    if len(text) <= budget:
        return len(text)
    best = 0
    for start in sentence_bounds(text[: budget + 1]):
        if 0 < start <= budget:
            best = start
    if best:
        return best
    space = text.rfind(" ", 0, budget)
    return space if space > 0 else budget


@cache
def stop_words(language: str) -> frozenset[str]:
    """spaCy's stop list for ``language`` (pure data, no model); empty when unknown."""
    try:
        from spacy.util import get_lang_class

        return frozenset(get_lang_class(language).Defaults.stop_words)
    except Exception:
        return frozenset()
