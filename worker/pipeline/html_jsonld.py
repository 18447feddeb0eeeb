"""schema.org JSON-LD in a page: the article object and the values it names.

Publishers describe their articles for search engines in
``<script type="application/ld+json">``: headline, authors, dates, section,
keywords, image and sometimes the whole body. Pages often carry several
scripts (site, breadcrumbs, article), ``@graph`` lists, ``@id`` references and
hand-written JSON with raw control characters; this module copes with all of
them and never raises.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from selectolax.lexbor import LexborHTMLParser

# The article types, best first; any other type ending in "Article" ranks last.
_ARTICLE_TYPES = (
    "NewsArticle", "ReportageNews", "AnalysisNewsArticle", "OpinionNewsArticle",
    "BackgroundNewsArticle", "ReviewNewsArticle", "LiveBlogPosting", "BlogPosting",
    "Article", "TechArticle", "ScholarlyArticle", "Report", "SocialMediaPosting",
)
_RANK = {name: rank for rank, name in enumerate(_ARTICLE_TYPES)}
# Objects nested deeper than this are not worth walking (and a hostile page
# cannot make the walk recurse without bound).
_MAX_DEPTH = 12


@dataclass(slots=True)
class JsonLd:
    """The page's article object (empty when there is none) and every object
    with an ``@id``, to resolve references such as ``"author": {"@id": ...}``."""

    article: dict[str, Any] = field(default_factory=dict)
    publisher_names: list[str] = field(default_factory=list)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and "@id" in value:
            return self.by_id.get(str(value["@id"]), value)
        return value


def _load(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        # Hand-written JSON-LD often holds raw newlines and tabs inside strings.
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        # RecursionError: a script of thousands of nested brackets (orjson
        # refused it for depth already); ignore it like any broken JSON-LD.
        return None


def _objects(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        yield value
        for child in value.values():
            if isinstance(child, dict | list):
                yield from _objects(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _objects(child, depth + 1)


def _types(obj: dict[str, Any]) -> list[str]:
    kind = obj.get("@type")
    if isinstance(kind, str):
        return [kind.rsplit("/", 1)[-1]]
    if isinstance(kind, list):
        return [k.rsplit("/", 1)[-1] for k in kind if isinstance(k, str)]
    return []


def _article_rank(obj: dict[str, Any]) -> int | None:
    """Lower is better; None for objects that do not describe the article. Any
    object with a headline or a publication date (a ClaimReview, a WebPage)
    stands in when no article type is declared."""
    ranks = [
        _RANK.get(t, len(_RANK)) for t in _types(obj) if t in _RANK or t.endswith("Article")
    ]
    if ranks:
        return min(ranks)
    if "headline" in obj:
        return len(_RANK) + 1
    if "datePublished" in obj:
        return len(_RANK) + 2
    return None


def names(value: Any, data: JsonLd) -> list[str]:
    """The ``name`` of each object (or the strings) in a schema.org value."""
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        item = data.resolve(item)
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, str):
                out.append(name)
    return out


def first_text(value: Any) -> str | None:
    """The first string of a value that may be a string or a list of them."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and item.strip():
            return item
    return None


def read_jsonld(tree: LexborHTMLParser) -> JsonLd:
    data = JsonLd()
    best: tuple[int, int] | None = None
    for script in tree.css('script[type="application/ld+json"]'):
        for obj in _objects(_load(script.text(deep=True))):
            ident = obj.get("@id")
            if isinstance(ident, str) and len(obj) > 2:
                data.by_id.setdefault(ident, obj)
            rank = _article_rank(obj)
            if rank is None:
                continue
            # Among equally typed objects the one with a body or headline wins:
            # a page may describe the article and, briefly, related ones.
            key = (rank, 0 if ("articleBody" in obj or "headline" in obj) else 1)
            if best is None or key < best:
                best, data.article = key, obj
    publisher = data.resolve(data.article.get("publisher"))
    data.publisher_names = names(publisher, data) if publisher else []
    return data
