"""HTML page -> Extraction: main text and metadata.

The page is parsed once by lexbor (via selectolax), a fast C HTML5 parser.
Metadata comes from the head and markup (``html_metadata``); the body is found
by walking the DOM once into text blocks (``html_dom``) and picking the blocks
of the element that holds the most prose net of links and page furniture
(``html_main``).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from worker.pipeline.extraction import Budget, Extraction, ExtractTimeout
from worker.pipeline.html_dom import walk
from worker.pipeline.html_main import select_paragraphs
from worker.pipeline.html_metadata import extract_metadata
from worker.pipeline.text import normalise_line

# Deeper nesting than this costs the parser most of a second (20,000 levels
# take over a second); real pages stay far below 1,000.
_MAX_DEPTH = 8000
# lexbor's memory and parse time grow with the number of elements, and the
# parse cannot be interrupted: a page of bare tags up to the size limit would
# hold a clean process for seconds (tests/hostile.py's 2M-tag page). Real news
# pages have a few thousand elements.
_MAX_TAGS = 250_000
# Elements that close themselves or are closed implicitly by the parser: they
# never deepen the tree, so they are not counted.
_NOT_NESTING = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr", "p", "li", "dt", "dd", "option", "tr", "td", "th",
})
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)")
# A JSON-LD articleBody stands in for the markup's text when it is at least
# this long and the markup gave less than this share of it.
_MIN_JSONLD_BODY = 500
_MISSING_SHARE = 0.3
_HTML_MARKUP = re.compile(r"<(?:p|br|div|h[1-6]|li)\b", re.IGNORECASE)


def _nesting_exceeds(html: str, limit: int) -> bool:
    """Whether elements may nest deeper than ``limit`` (an upper bound: tags
    the parser would close implicitly are counted as open). Only pages with
    that many tags at all are scanned."""
    if html.count("<") <= limit:
        return False
    depth = 0
    for match in _TAG.finditer(html):
        if match.group(2).lower() in _NOT_NESTING:
            continue
        if match.group(1):
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > limit:
                return True
    return False


def extract_html(
    html: str, budget: Budget | None = None, base_url: str | None = None
) -> Extraction:
    """Main text and metadata of a news page; ``base_url`` (the page's address)
    makes relative canonical and image URLs absolute."""
    if budget is not None and html.count("<") > _MAX_TAGS:
        # Refused before parsing, like deep nesting below: the memory and time
        # the parse would take are not ours to bound once it starts.
        raise ExtractTimeout(f"page has more than {_MAX_TAGS} tags")
    if budget is not None and _nesting_exceeds(html, _MAX_DEPTH):
        # The parser's work grows with the square of the nesting depth and
        # cannot be interrupted: such a page would hold the partition for
        # minutes, so it is refused up front as over budget.
        raise ExtractTimeout(f"elements nest more than {_MAX_DEPTH} deep")
    tree = LexborHTMLParser(html)
    if budget is not None:
        budget.check()
    meta = extract_metadata(tree, base_url)
    out = Extraction(
        method="html-density",
        title=meta.title,
        authors=meta.authors,
        published_at=meta.published_at,
        section=meta.section,
        tags=meta.tags,
        image=meta.image,
        canonical_url=meta.canonical_url,
    )
    if budget is not None:
        budget.check()
    # From the root, not <body>: scripts and styles in <head> are audited too.
    root = tree.root
    if root is None:
        return out
    page = walk(root, budget.check if budget is not None else None)
    # Scripts, styles and other never-rendered elements are counted, not read:
    # their text is not the article's and reading it would cost more than the
    # rest of the extraction.
    for tag, count in page.skipped.items():
        out.removed.add_count(f"element:{tag}", count, 0)
    if budget is not None:
        budget.check()
    out.paragraphs = select_paragraphs(page, meta.title_variants, out.removed)
    if meta.article_body and _body_is_missing(out.paragraphs, meta.article_body):
        # Pages rendered by scripts carry their text only in JSON-LD for search
        # engines; the markup holds a shell.
        out.paragraphs = _jsonld_paragraphs(meta.article_body)
        out.method = "html-jsonld"
    return out


def _body_is_missing(paragraphs: list[str], article_body: str) -> bool:
    found = sum(len(p) for p in paragraphs)
    return len(article_body) >= _MIN_JSONLD_BODY and found < _MISSING_SHARE * len(article_body)


def _jsonld_paragraphs(article_body: str) -> list[str]:
    if _HTML_MARKUP.search(article_body):
        fragment = LexborHTMLParser(article_body).root
        if fragment is None:
            return []
        lines = [b.text for b in walk(fragment).blocks]
    else:
        lines = article_body.splitlines()
    return [p for p in map(normalise_line, lines) if p]
