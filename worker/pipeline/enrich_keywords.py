"""Key phrases: the multi-word terms an article keeps coming back to.

A RAKE-style extractor (Rose et al., 2010), written here rather than taken
from a library (no licence to check): candidates are runs of content words between stop words and
punctuation; a phrase scores by how often its words occur, how often the
phrase itself occurs, and how early it first appears (RAKE's degree score
was tried and favours one-off strings of content words). It needs only the
language's stop list, which spaCy ships as data for dozens of languages; a
language without one gets no keywords rather than English rules.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from worker.pipeline.enrich_tokens import stop_words
from worker.pipeline.records import Keyword

# Words (apostrophes inside), or a break: punctuation that ends a phrase.
_PIECE = re.compile(
    r"((?:[A-Z]\.){2,}|\w+(?:['\u2019-]\w+)*)|([.,;:!?()\[\]{}\"\u201c\u201d\u2018\u2019\u2014\u2013|/])"
)
_MAX_PHRASE_WORDS = 3
# Words spaCy's lists keep but that are never a story's key term: reporting
# verbs and the commonest light verbs.
_EXTRA_STOPS = {
    "en": frozenset(
        [
            "said",
            "says",
            "say",
            "saying",
            "told",
            "tell",
            "tells",
            "according",
            "added",
            "asked",
            "going",
            "want",
            "wants",
            "wanted",
            "like",
            "just",
            "also",
            "would",
            "could",
            "new",
            "year",
            "years",
            "time",
            "times",
            "including",
            "make",
            "makes",
            "made",
            "get",
            "gets",
            "got",
            "know",
            "think",
            "thing",
            "things",
            "way",
            "lot",
            "told",
            "week",
            "day",
            "days",
            "percent",
            "per",
            "cent",
            "mr",
            "mrs",
            "ms",
            "dr",
        ]
    )
}
_POSSESSIVE = re.compile(r"['\u2019]s$")
# Contractions ("don't", "I'm", "they're") are function words whatever the list says.
_CONTRACTION = re.compile(r"['\u2019](?:t|m|re|ve|ll|d)$", re.IGNORECASE)
# Scripts written without spaces (Chinese, Japanese, Thai) give one "word"
# per clause; such runs are not keyword candidates.
_MAX_WORD_CHARS = 30


def find_keywords(body: str, language: str | None, limit: int = 10) -> list[Keyword]:
    stops = (
        stop_words(language) | _EXTRA_STOPS.get(language, frozenset()) if language else frozenset()
    )
    if not stops or limit <= 0:
        return []
    phrases: list[tuple[str, ...]] = []
    first_seen: dict[tuple[str, ...], int] = {}
    surface: dict[tuple[str, ...], Counter[str]] = {}
    current: list[tuple[str, int, int]] = []
    # Whether a word breaks a phrase, decided once per distinct word: a body
    # repeats its words, and this loop runs on every one of them.
    breaks: dict[str, bool] = {}

    def flush() -> None:
        if len(current) <= _MAX_PHRASE_WORDS:
            key = tuple(w.lower() for w, _, _ in current)
            phrases.append(key)
            first_seen.setdefault(key, current[0][1])
            surface.setdefault(key, Counter())[body[current[0][1] : current[-1][2]]] += 1
        current.clear()

    for m in _PIECE.finditer(body):
        word = m.group(1)
        if word is None:
            if current:
                flush()
            continue
        stop = breaks.get(word)
        if stop is None:
            stop = breaks[word] = _is_stop(word, stops) or _not_a_term(word)
        if stop:
            if current:
                flush()
            continue
        if "'" in word or "\u2019" in word:
            possessive = _POSSESSIVE.search(word)
            if possessive:
                # "Iraq's new prime minister": the owner and the owned are two terms.
                cut = m.start() + possessive.start()
                current.append((word[: possessive.start()], m.start(), cut))
                flush()
                continue
        current.append((word, m.start(), m.end()))
    if current:
        flush()
    if not phrases:
        return []
    freq: Counter[str] = Counter(w for key in phrases for w in key)
    counts = Counter(phrases)
    size = max(len(body), 1)
    scored = []
    for key, n in counts.items():
        # Words the article keeps using, in a phrase it repeats, early on. A
        # longer phrase sums more words but is discounted so that one-off
        # strings of content words do not crowd out the story's terms.
        words_score = sum(freq[w] for w in key) / math.sqrt(len(key))
        position = 1.0 + 0.5 * (1.0 - first_seen[key] / size)
        scored.append((words_score * math.log1p(n) * position, key))
    scored.sort(key=lambda item: (-item[0], first_seen[item[1]]))
    out: list[Keyword] = []
    taken: list[tuple[str, ...]] = []
    top = scored[0][0]
    for score, key in scored:
        if any(_inside(key, other) for other in taken):
            continue
        taken.append(key)
        phrase = surface[key].most_common(1)[0][0]
        out.append(Keyword(phrase=phrase, score=round(score / top, 4)))
        if len(out) == limit:
            break
    return out


def _is_stop(word: str, stops: frozenset[str]) -> bool:
    lower = word.lower().replace("\u2019", "'")
    return lower in stops or bool(_CONTRACTION.search(lower)) or lower.split("'")[0] in stops


def _not_a_term(word: str) -> bool:
    return len(word) > _MAX_WORD_CHARS or len(word) < 2 or not any(c.isalpha() for c in word)


def _inside(key: tuple[str, ...], other: tuple[str, ...]) -> bool:
    n = len(key)
    return any(other[i : i + n] == key for i in range(len(other) - n + 1))
