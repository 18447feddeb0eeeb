"""RawArticle -> CleanArticle: main text, metadata and fingerprints.

HTML pages go to ``html_extract``, scraped text to ``plaintext``; both return
an ``Extraction`` with an audit of what they removed. This module applies the
budgets, builds the record and computes the fingerprints the dedup sequencer
needs, so that heavy work stays in the parallel stage.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.pipeline.boilerplate import SourceLines
from worker.pipeline.dedup import canonical_url, fingerprint, make_article_id, url_host
from worker.pipeline.extraction import Budget, Extraction, ExtractTimeout
from worker.pipeline.html_extract import extract_html
from worker.pipeline.plaintext import extract_text
from worker.pipeline.records import (
    CleanArticle,
    Origin,
    RawArticle,
    Rejection,
)
from worker.pipeline.text import normalise_line, paragraphs_to_body


@dataclass(frozen=True, slots=True)
class CleanOptions:
    # An article needs at least this many body words.
    min_body_words: int = 1
    # Hard per-article budgets: past them the article is dead-lettered
    # (extract_timeout / too_large) rather than holding up the partition.
    time_budget_s: float = 1.0
    max_content_chars: int = 50 * 1024 * 1024


def _extract(
    raw: RawArticle, options: CleanOptions, known: SourceLines | None
) -> Extraction | Rejection:
    content = raw.html if raw.html and raw.html.strip() else None
    kind = "html"
    if content is None and raw.text and raw.text.strip():
        content, kind = raw.text, "text"
    if content is None:
        return Rejection("empty_body", "clean", "article has no html or text content")
    if len(content) > options.max_content_chars:
        return Rejection(
            "too_large", "clean",
            f"{kind} is {len(content)} characters, limit is {options.max_content_chars}",
        )
    budget = Budget(options.time_budget_s)
    try:
        if kind == "html":
            extraction = extract_html(content, budget, base_url=raw.url)
        else:
            extraction = extract_text(content, budget, known=known)
        budget.check()
    except ExtractTimeout as exc:
        return Rejection("extract_timeout", "clean", str(exc))
    return extraction


def clean_article(
    raw: RawArticle,
    origin: Origin | None = None,
    options: CleanOptions | None = None,
    known: SourceLines | None = None,
) -> CleanArticle | Rejection:
    """``known`` is the boilerplate learned so far for the article's source
    (plain text only; see flow.clean_stage for who observes what)."""
    options = options or CleanOptions()
    origin = origin or Origin()
    extraction = _extract(raw, options, known)
    if isinstance(extraction, Rejection):
        return extraction
    paragraphs = extraction.paragraphs
    title = extraction.title
    if raw.title:
        given = normalise_line(raw.title)
        if extraction.method.startswith("plain") and title and title != given:
            # The given title is not the text's first line: that line is body.
            paragraphs = [title, *paragraphs]
        title = given

    body = paragraphs_to_body(paragraphs)
    prints = fingerprint(body)
    if prints.body_words < options.min_body_words:
        return Rejection("empty_body", "clean", "no article text found in the content")

    canonical = canonical_url(extraction.canonical_url) or canonical_url(raw.url)
    removed = extraction.removed
    return CleanArticle(
        article_id=make_article_id(canonical, prints.content_hash),
        url=raw.url,
        canonical_url=canonical,
        source=raw.source or url_host(canonical or raw.url),
        title=normalise_line(title) if title else None,
        body=body,
        authors=extraction.authors,
        published_at=raw.published_at or extraction.published_at,
        fetched_at=raw.fetched_at,
        language_hint=raw.language,
        tags=extraction.tags,
        section=extraction.section,
        image=extraction.image,
        clean={
            "method": extraction.method,
            "removed_chars": removed.removed_chars,
            "kept_chars": len(body),
            "removed": removed.to_list(),
        },
        fingerprints=prints,
        origin=origin,
        extra=raw.extra,
    )
