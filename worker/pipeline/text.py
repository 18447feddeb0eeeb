"""Text normalisation shared by the cleaning, dedup and enrichment stages."""

from __future__ import annotations

import re
import unicodedata

# Zero-width and soft-hyphen characters survive copy/paste from pages but are
# invisible; they would make identical bodies hash differently.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS), None)
_WORD = re.compile(r"\w+", re.UNICODE)
# Closing quotes (straight or curly) and brackets may follow the full stop.
_CLOSERS = "\"'\u201d\u2019)\\]"
_SENTENCE_END = re.compile(rf"[.!?\u2026]+[{_CLOSERS}]*(?=\s|$)")
_TERMINATED = re.compile(rf"[.!?\u2026]+[{_CLOSERS}]*$")


def normalise_line(line: str) -> str:
    """NFC, no invisible characters, single spaces, no leading/trailing space."""
    line = unicodedata.normalize("NFC", line)
    # translate() maps character by character in Python: only when needed (7x
    # faster on a multi-megabyte line, which must stay within the clean budget).
    if any(c in line for c in _INVISIBLE_CHARS):
        line = line.translate(_INVISIBLE)
    # Every run of whitespace becomes one space, newlines too: HTML text nodes and
    # titles carry source line breaks that render as spaces, and a stray "\n"
    # would break the body format. (str.split() and the regex \s agree on what
    # whitespace is; split/join is the faster.)
    return " ".join(line.split())


def paragraphs_to_body(paragraphs: list[str]) -> str:
    """The body format of every record: paragraphs separated by one blank line."""
    return "\n\n".join(p for p in paragraphs if p)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def count_sentences(text: str) -> int:
    count = 0
    for para in text.split("\n\n"):
        para = para.strip()
        if not para:
            continue
        # A paragraph without final punctuation (a heading, a list item) still
        # reads as one sentence.
        count += len(_SENTENCE_END.findall(para)) + (0 if _TERMINATED.search(para) else 1)
    return count


def lead(text: str, budget: int) -> str:
    """The first sentences of ``text`` that fit in ``budget`` characters (at least one)."""
    flat = " ".join(text.split())
    if len(flat) <= budget:
        return flat
    out = ""
    for match in _SENTENCE_END.finditer(flat):
        candidate = flat[: match.end()]
        if len(candidate) > budget:
            break
        out = candidate
    if out:
        return out
    # A single word longer than the budget is cut too: the ellipsis must fit.
    cut = flat[:budget].rsplit(" ", 1)[0][: max(budget - 1, 0)]
    return cut + "…"
