"""Records built directly, for tests about a later stage than cleaning."""

from __future__ import annotations

from worker.pipeline.records import CleanArticle, Fingerprints, UniqueArticle
from worker.pipeline.text import words


def unique_article(
    body: str,
    *,
    title: str | None = "Headline",
    url: str | None = None,
    source: str | None = None,
    n: int = 0,
) -> UniqueArticle:
    """A first revision with ``body`` as its cleaned text; ids derive from ``n``."""
    article = CleanArticle(
        article_id=f"{n:032x}",
        url=url,
        canonical_url=url,
        source=source,
        title=title,
        body=body,
        authors=[],
        published_at=None,
        fetched_at=None,
        language_hint=None,
        tags=[],
        clean={"method": "text", "removed_chars": 0, "kept_chars": len(body), "removed": []},
        fingerprints=Fingerprints(content_hash=f"{n:032x}", body_words=len(words(body))),
    )
    return UniqueArticle(article, revision=1, supersedes=None)
