"""Boilerplate learned per source: the lines a source prints on most of its pages.

A source's header, footer and widget lines ("Sign up for our newsletter",
"(c) 2024 Riverton Gazette") come back on page after page, while body lines do
not. ``SourceLines`` counts, for one source, how many recent articles carried
each line, keyed by a short digest of the line's normalised form, so the state
stays small (at most 2 x ``max_lines`` keys, some tens of kilobytes of JSON, a
Faust table value) and holds no article text. It is plain data with pure
methods: the caller decides where it lives.

Use it in this order for every article of a source, so an article is never
judged by statistics that already contain it::

    extraction = plaintext.extract_text(text, budget, known=state)
    state.observe(plaintext.page_lines(text))
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from worker.pipeline.text import normalise_line

_FORMAT = 1
_DIGITS = re.compile(r"\d+")
# 8 bytes: a collision between two of a source's few thousand tracked lines has
# a probability around 1e-12, and a digest is a quarter of an average line.
_DIGEST_BYTES = 8


def line_key(line: str) -> str | None:
    """The digest a line is counted under, or None for a line with no text.

    Case and digits are folded, so "© 2023 Riverton Gazette" and "© 2024
    RIVERTON GAZETTE", or "Updated 5 minutes ago" and "Updated 9 minutes ago",
    count as one line."""
    folded = _DIGITS.sub("0", normalise_line(line).casefold())
    if not any(ch.isalnum() for ch in folded):
        return None
    return hashlib.blake2b(folded.encode("utf-8"), digest_size=_DIGEST_BYTES).hexdigest()


@dataclass(slots=True)
class SourceLines:
    """Per-source line statistics over about the last ``window`` articles.

    ``counts[key]`` is the number of observed articles holding the line. When
    ``articles`` reaches ``window`` every count and ``articles`` are halved, an
    exponential forgetting that needs no per-article history; at most
    ``max_lines`` keys are kept (the most frequent, recent first on ties).
    """

    articles: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    window: int = 200
    max_lines: int = 1000
    # A line is boilerplate once the source has ``min_articles`` articles and
    # the line is in at least ``min_fraction`` of them.
    min_articles: int = 5
    min_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.window < 2 * self.min_articles:
            # Halving at the window must leave enough articles to judge by.
            raise ValueError(
                f"window must be at least 2 x min_articles ({2 * self.min_articles}),"
                f" got {self.window}"
            )
        if self.max_lines < 1:
            raise ValueError(f"max_lines must be positive, got {self.max_lines}")
        if self.min_articles < 1:
            raise ValueError(f"min_articles must be at least 1, got {self.min_articles}")
        if not 0.0 < self.min_fraction <= 1.0:
            raise ValueError(f"min_fraction must be in (0, 1], got {self.min_fraction}")

    def observe(self, lines: Iterable[str]) -> None:
        """Count one article: each distinct line once, however often it repeats."""
        keys = {key for key in map(line_key, lines) if key is not None}
        counts = self.counts
        for key in keys:
            # Re-inserting moves the key to the end: dict order is recency,
            # which breaks ties when the table is trimmed.
            counts[key] = counts.pop(key, 0) + 1
        self.articles += 1
        if self.articles >= self.window:
            self._halve()
        # Trimming only past twice the bound keeps observe() amortised O(lines)
        # and gives a new line a few articles to prove it recurs.
        if len(counts) > 2 * self.max_lines:
            self._trim()

    def is_boilerplate(self, line: str) -> bool:
        if self.articles < self.min_articles:
            return False
        key = line_key(line)
        if key is None:
            return False
        return self.counts.get(key, 0) >= self.min_fraction * self.articles

    def _halve(self) -> None:
        self.articles //= 2
        self.counts = {k: n // 2 for k, n in self.counts.items() if n >= 2}

    def _trim(self) -> None:
        items = list(self.counts.items())
        ranked = sorted(range(len(items)), key=lambda i: (-items[i][1], -i))
        kept = set(ranked[: self.max_lines])
        # Kept in their old order, so dict order stays recency for the next trim.
        self.counts = {k: n for i, (k, n) in enumerate(items) if i in kept}

    def to_json(self) -> str:
        data: dict[str, Any] = {"v": _FORMAT, "articles": self.articles, "counts": self.counts}
        return orjson.dumps(data).decode("utf-8")

    @classmethod
    def from_json(cls, data: str | bytes, **settings: Any) -> SourceLines:
        """Restore a state; ``settings`` (window, max_lines, ...) are configuration,
        not state, so they come from the caller rather than from the stored JSON."""
        raw = orjson.loads(data)
        if not isinstance(raw, dict) or raw.get("v") != _FORMAT:
            raise ValueError("not a SourceLines state of a known format")
        counts = raw.get("counts")
        articles = raw.get("articles")
        if (
            not isinstance(articles, int)
            or not isinstance(counts, dict)
            or not all(isinstance(n, int) and n > 0 for n in counts.values())
        ):
            raise ValueError(
                "SourceLines state needs 'articles' (int) and 'counts' (object of positive ints)"
            )
        state = cls(articles=articles, counts=counts, **settings)
        if len(state.counts) > state.max_lines:
            state._trim()
        return state
