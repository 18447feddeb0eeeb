"""What the NER model reads of a body: the lead, and windows around candidate names.

The statistical model is the expensive part of enrichment and its cost grows
with the tokens it reads, so it reads only:

1. the lead (first sentences up to a budget), where news introduces people and
   organisations by their full names; and
2. a short window around the first occurrence past the lead of every distinct
   capitalised run ("Elise Matthesen", "Harbour Trust", "State of Israel") that
   may be a name the lead did not give, whether it recurs or is mentioned once.
   Runs that cannot add an entity get no window: those covered by a name the
   lead gave, a surname of a person named in full elsewhere (it becomes an
   alias), a capitalised word seen only at sentence starts (capitals there say
   nothing), and countries and cities (the gazetteer types them).

Why a short window is enough: spaCy's small CNN models embed each token from a
few neighbours only (``context_tokens``), so a name with that many words either
side gets the vectors, and so the label, that it gets in the full text.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence

from worker.pipeline.enrich_entities import (
    AMBIGUOUS_PLACES,
    NAME_PARTICLES,
    name_occurrences,
    normalise_name,
)
from worker.pipeline.enrich_gazetteer import country_of_place
from worker.pipeline.enrich_ner import Span
from worker.pipeline.enrich_tokens import (
    ABBREVIATIONS,
    CALENDAR_WORDS,
    Token,
    cut_at_sentence,
    is_capitalised,
    is_sentence_initial,
    name_tokens,
    stop_words,
)

# What may sit between two tokens of one name: a space, a hyphen, an ampersand
# ("AT&T", "Marks & Spencer"). A full stop only after an initial or a title.
_NAME_GAPS = frozenset([" ", "-", "&", " & "])
_DOTTED_GAPS = frozenset([".", ". "])


def lead_end(body: str, lead_chars: int) -> int:
    return cut_at_sentence(body, lead_chars)


def candidate_windows(
    body: str,
    lead_stop: int,
    lead_spans: Sequence[Span],
    language: str,
    tokens: Sequence[Token],
    window_words: int = 5,
    max_windows: int = 64,
) -> list[tuple[int, int]]:
    """Spans of ``body`` past the lead worth showing the model, merged where they
    overlap. ``tokens`` are ``name_tokens(body)``. At most ``max_windows``
    runs get one: the most frequent first, then the earliest."""
    covered = _covered_flags(tokens, name_occurrences(body, lead_spans, tokens))
    stops = stop_words(language)
    lead_surnames = {
        _last_word(span.text) for span in lead_spans if span.label == "PERSON" and " " in span.text
    }
    counts: Counter[tuple[str, ...]] = Counter()
    first_after: dict[tuple[str, ...], tuple[int, int]] = {}
    mid_sentence: set[tuple[str, ...]] = set()
    for a, b in capitalised_runs(body, tokens, covered):
        # "The Pentagon", "On Tuesday": function and calendar words at either end
        # are not part of the name.
        while a < b and _ordinary(tokens[a].text, stops):
            a += 1
        while b > a and _ordinary(tokens[b - 1].text, stops):
            b -= 1
        if a == b:
            continue
        start, end = tokens[a].start, tokens[b - 1].end
        key = tuple(t.text for t in tokens[a:b])
        counts[key] += 1
        if len(key) > 1 or not is_sentence_initial(body, start):
            mid_sentence.add(key)
        if start >= lead_stop and key not in first_after:
            first_after[key] = (start, end)
    surnames = lead_surnames | {key[-1] for key in counts if len(key) > 1 and key in mid_sentence}
    wanted = []
    for key, (start, end) in first_after.items():
        if key not in mid_sentence:
            continue  # only ever at a sentence start: an ordinary word
        if len(key) == 1 and key[0] in surnames:
            continue  # the surname of a full name that is read elsewhere
        text = body[start:end]
        if country_of_place(text) is not None and text.lower() not in AMBIGUOUS_PLACES:
            continue  # the gazetteer types it
        wanted.append((-counts[key], start, end))
    wanted.sort()
    chosen = sorted((start, end) for _, start, end in wanted[:max_windows])
    return _merge(_window(body, start, end, window_words) for start, end in chosen)


def capitalised_runs(
    body: str, tokens: Sequence[Token], covered: Sequence[bool]
) -> list[tuple[int, int]]:
    """Token index ranges [a, b) of maximal runs of capitalised tokens not
    ``covered``, joined by spaces, hyphens, ampersands, initials' full stops and
    name particles between capitals ("State of Israel", "Mohammed bin Salman")."""
    runs: list[tuple[int, int]] = []
    n = len(tokens)
    i = 0
    while i < n:
        if covered[i] or not is_capitalised(tokens[i].text):
            i += 1
            continue
        j = i + 1
        while j < n and not covered[j]:
            gap = body[tokens[j - 1].end : tokens[j].start]
            if is_capitalised(tokens[j].text) and _joins(gap, tokens[j - 1].text):
                j += 1
            elif (
                tokens[j].text in NAME_PARTICLES
                and gap == " "
                and j + 1 < n
                and not covered[j + 1]
                and is_capitalised(tokens[j + 1].text)
                and body[tokens[j].end : tokens[j + 1].start] in (" ", "-")
            ):
                j += 2
            else:
                break
        runs.append((i, j))
        i = j
    return runs


def _joins(gap: str, before: str) -> bool:
    if gap in _NAME_GAPS:
        return True
    return gap in _DOTTED_GAPS and (
        (len(before) == 1 and before.isupper()) or before.lower() in ABBREVIATIONS
    )


def _ordinary(word: str, stops: frozenset[str]) -> bool:
    lower = word.lower().replace("\u2019", "'")
    # "I'm", "We'll": a contraction's first part decides.
    if lower in stops or lower.split("'")[0] in stops:
        return True
    return lower in CALENDAR_WORDS or len(word) < 2


def _last_word(name: str) -> str:
    toks = name_tokens(normalise_name(name))
    return toks[-1].text if toks else ""


def _covered_flags(tokens: Sequence[Token], spans: Sequence[tuple[int, int]]) -> list[bool]:
    flags = [False] * len(tokens)
    c = 0
    for i, tok in enumerate(tokens):
        while c < len(spans) and spans[c][1] <= tok.start:
            c += 1
        flags[i] = c < len(spans) and spans[c][0] <= tok.start
    return flags


def _window(body: str, start: int, end: int, words: int) -> tuple[int, int]:
    """``words`` words before ``body[start:end]`` and one fewer after it (the NER
    transition system reads the token before the current one, not after),
    within its paragraph, never cutting through a run of capitalised words."""
    para_start = body.rfind("\n", 0, start) + 1
    para_end = body.find("\n", end)
    if para_end < 0:
        para_end = len(body)
    left = body[para_start:start].split(" ")
    right = body[end:para_end].split(" ")
    n_left = min(len(left) - 1, words)
    words = max(words - 1, 1)
    while n_left < len(left) - 1 and _continues_name(left[-n_left - 1]):
        n_left += 1
    # right[0] is what sticks to the run's last word ("'s,"); then whole words.
    n_right = min(len(right), words + 1)
    while n_right < len(right) and _continues_name(right[n_right - 1], right[n_right]):
        n_right += 1
    if n_left:
        start -= sum(len(w) + 1 for w in left[len(left) - 1 - n_left : -1])
    end += len(" ".join(right[:n_right]))
    return max(start, para_start), min(end, para_end)


def _continues_name(word: str, following: str | None = None) -> bool:
    """Whether a name may run across the boundary after ``word`` (and into ``following``)."""
    if not word or word[-1] in '.,;:!?\u201d"' or not is_capitalised(word.lstrip('("\u201c')):
        return False
    return following is None or is_capitalised(following.lstrip('("\u201c'))


def _merge(windows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# Windows of one article go to the model as one text, a paragraph break apart:
# one document per article costs less than one per window.
_WINDOW_SEPARATOR = "\n\n"


def join_windows(body: str, windows: Sequence[tuple[int, int]]) -> str:
    return _WINDOW_SEPARATOR.join(body[a:b] for a, b in windows)


def spans_in_windows(windows: Sequence[tuple[int, int]], spans: Sequence[Span]) -> list[Span]:
    """Spans of the joined windows -> body offsets. Windows never cut a run of
    capitalised words, so a name at a window edge is whole."""
    out: list[Span] = []
    starts: list[int] = []
    pos = 0
    for a, b in windows:
        starts.append(pos)
        pos += b - a + len(_WINDOW_SEPARATOR)
    for span in spans:
        i = bisect_right(starts, span.start) - 1
        a, b = windows[i]
        offset = a - starts[i]
        if span.end + offset > b:
            continue  # runs across a separator
        out.append(Span(span.start + offset, span.end + offset, span.label, span.text))
    return out
