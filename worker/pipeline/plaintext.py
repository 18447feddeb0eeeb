"""Scraped plain text -> Extraction: headline, paragraphs and metadata lines.

Scraped text has the headline on its first line and every visible line of the
page after it (menus, share buttons, photo credits, a trailing tag line, ...).
"""

from __future__ import annotations

from worker.pipeline.extraction import Budget, Extraction
from worker.pipeline.text import normalise_line


def extract_text(text: str, budget: Budget | None = None) -> Extraction:
    """Headline on the first non-blank line; every further non-blank line a paragraph."""
    out = Extraction(method="plain-lines")
    lines = [normalise_line(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if budget is not None:
        budget.check()
    if lines:
        out.title = lines[0]
        out.paragraphs = lines[1:]
    return out
