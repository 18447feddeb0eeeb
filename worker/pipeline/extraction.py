"""What the HTML and plain-text extractors return, and the removal audit.

Both extractors fill the same ``Extraction`` so the clean stage treats them
alike, and both record every dropped block in a ``RemovalLog`` by the rule
that dropped it: operators audit the cleaner from ``clean.removed``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

_SAMPLES_PER_RULE = 3
_SAMPLE_CHARS = 120


class ExtractTimeout(Exception):
    """The per-article time budget ran out; the article is dead-lettered."""


@dataclass(slots=True)
class Budget:
    """A cooperative time budget: extractors call ``check()`` between steps, so a
    pathological page ends as a dead letter instead of a hung agent."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def check(self) -> None:
        if time.monotonic() - self.started > self.seconds:
            raise ExtractTimeout(f"extraction exceeded its {self.seconds:g}s budget")


@dataclass(slots=True)
class RemovalLog:
    counts: dict[str, int] = field(default_factory=dict)
    chars: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, rule: str, text: str) -> None:
        self.counts[rule] = self.counts.get(rule, 0) + 1
        self.chars[rule] = self.chars.get(rule, 0) + len(text)
        kept = self.samples.setdefault(rule, [])
        if len(kept) < _SAMPLES_PER_RULE and text:
            kept.append(text[:_SAMPLE_CHARS])

    def add_count(self, rule: str, count: int, chars: int, *samples: str) -> None:
        """Many removals under one rule at once: ``chars`` is their total text
        length (0 for elements that are never rendered, whose text is not worth
        reading) and ``samples`` the texts of the first few."""
        self.counts[rule] = self.counts.get(rule, 0) + count
        self.chars[rule] = self.chars.get(rule, 0) + chars
        kept = self.samples.setdefault(rule, [])
        for sample in samples:
            if len(kept) >= _SAMPLES_PER_RULE:
                break
            if sample:
                kept.append(sample[:_SAMPLE_CHARS])

    @property
    def removed_chars(self) -> int:
        return sum(self.chars.values())

    def to_list(self) -> list[dict[str, Any]]:
        return [
            {"rule": rule, "count": n, "chars": self.chars[rule], "sample": self.samples[rule]}
            for rule, n in sorted(self.counts.items(), key=lambda kv: -kv[1])
        ]


@dataclass(slots=True)
class Extraction:
    method: str
    title: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    image: dict[str, str | None] | None = None
    canonical_url: str | None = None
    removed: RemovalLog = field(default_factory=RemovalLog)
