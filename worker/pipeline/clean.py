"""RawArticle -> CleanArticle: main text, metadata and fingerprints.

HTML goes through lexbor (via selectolax), a fast C HTML5 parser: the page is
stripped of non-content elements, and the body is the paragraphs of the
container that holds the most paragraph text (a density heuristic in the
readability family). Plain text keeps its first line as the headline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from worker.pipeline.dedup import canonical_url, content_hash, make_article_id, url_host
from worker.pipeline.records import (
    CleanArticle,
    Fingerprints,
    Origin,
    RawArticle,
    Rejection,
)
from worker.pipeline.text import normalise_line, paragraphs_to_body, words

# Elements that never hold article text; removing them first keeps menus,
# scripts and share widgets out of the density scores.
_NON_CONTENT = (
    "script, style, noscript, template, svg, canvas, iframe, object, embed, form, button,"
    " select, input, textarea, nav, header, footer, aside, menu, dialog"
)
_PARAGRAPH_TAGS = ("p", "h2", "h3", "h4", "blockquote", "li", "pre")
# Paragraph text shorter than this is scored but rarely body text on its own.
_MIN_PARAGRAPH_CHARS = 25


@dataclass(frozen=True, slots=True)
class CleanOptions:
    # Lead paragraphs shorter than this many words in total make no article.
    min_body_words: int = 1


def _meta(tree: LexborHTMLParser, *selectors: str) -> str | None:
    for selector in selectors:
        node = tree.css_first(selector)
        if node is None:
            continue
        value = node.attributes.get("content") or node.attributes.get("href")
        if value is None and node.tag in ("time", "title", "h1"):
            value = node.attributes.get("datetime") or node.text(deep=True)
        if value and value.strip():
            return normalise_line(value)
    return None


def _meta_all(tree: LexborHTMLParser, selector: str) -> list[str]:
    out: list[str] = []
    for node in tree.css(selector):
        value = node.attributes.get("content")
        if value:
            out.extend(normalise_line(v) for v in value.split(",") if v.strip())
    return list(dict.fromkeys(out))


def _node_text(node: LexborNode) -> str:
    return normalise_line(node.text(deep=True, separator=" "))


def _best_container(paragraphs: Iterable[tuple[LexborNode, str]]) -> LexborNode | None:
    """The element whose paragraph children carry the most text; the grandparent
    gets half credit so bodies split across sibling <div>s still win together."""
    scores: dict[int, float] = {}
    nodes: dict[int, LexborNode] = {}
    for node, text in paragraphs:
        weight = float(len(text)) if len(text) >= _MIN_PARAGRAPH_CHARS else len(text) * 0.2
        parent = node.parent
        for share in (1.0, 0.5):
            if parent is None:
                break
            key = parent.mem_id
            nodes[key] = parent
            scores[key] = scores.get(key, 0.0) + weight * share
            parent = parent.parent
    if not scores:
        return None
    return nodes[max(scores, key=scores.__getitem__)]


def _is_inside(node: LexborNode, container: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id == container.mem_id:
            return True
        parent = parent.parent
    return False


def extract_html(html: str) -> tuple[dict[str, str | list[str] | None], list[str], int]:
    """Returns (metadata, body paragraphs, number of removed non-content elements)."""
    tree = LexborHTMLParser(html)
    meta: dict[str, str | list[str] | None] = {
        "title": _meta(
            tree, 'meta[property="og:title"]', 'meta[name="twitter:title"]', "title", "h1"
        ),
        "canonical": _meta(tree, 'link[rel="canonical"]', 'meta[property="og:url"]'),
        "published_at": _meta(
            tree,
            'meta[property="article:published_time"]',
            'meta[name="pubdate"]',
            'meta[name="date"]',
            'meta[itemprop="datePublished"]',
            "time[datetime]",
        ),
        "author": _meta(tree, 'meta[name="author"]', 'meta[property="article:author"]'),
        "tags": _meta_all(tree, 'meta[property="article:tag"], meta[name="keywords"]'),
    }
    removed = 0
    for node in tree.css(_NON_CONTENT):
        node.decompose()
        removed += 1
    root = tree.body or tree.root
    if root is None:
        return meta, [], removed
    candidates = [(n, _node_text(n)) for n in root.css(", ".join(_PARAGRAPH_TAGS))]
    candidates = [(n, t) for n, t in candidates if t]
    container = _best_container(candidates)
    if container is None:
        fallback = _node_text(root)
        return meta, [fallback] if fallback else [], removed
    paragraphs: list[str] = []
    seen: set[str] = set()
    for node, text in candidates:
        # Nested paragraph tags (li > p) would repeat text; keep the first copy.
        if text in seen or not _is_inside(node, container):
            continue
        seen.add(text)
        paragraphs.append(text)
    return meta, paragraphs, removed


def split_plain_text(text: str) -> tuple[str | None, list[str]]:
    """Headline on the first non-blank line; every further non-blank line a paragraph."""
    lines = [normalise_line(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return None, []
    return lines[0], lines[1:]


def clean_article(
    raw: RawArticle, origin: Origin | None = None, options: CleanOptions | None = None
) -> CleanArticle | Rejection:
    options = options or CleanOptions()
    origin = origin or Origin()
    authors: list[str] = []
    tags: list[str] = []
    published_at = raw.published_at
    page_canonical: str | None = None
    if raw.html and raw.html.strip():
        meta, paragraphs, removed = extract_html(raw.html)
        title = raw.title or _as_str(meta["title"])
        page_canonical = _as_str(meta["canonical"])
        published_at = published_at or _as_str(meta["published_at"])
        author = _as_str(meta["author"])
        authors = [author] if author else []
        tags = list(meta["tags"] or [])
        clean_info: dict[str, object] = {"method": "html-density", "removed_elements": removed}
    elif raw.text and raw.text.strip():
        first_line, paragraphs = split_plain_text(raw.text)
        title = raw.title or first_line
        if raw.title and first_line and normalise_line(raw.title) != first_line:
            # The given title is not the text's first line: that line is body.
            paragraphs = [first_line, *paragraphs]
        clean_info = {"method": "plain-lines", "removed_elements": 0}
    else:
        return Rejection("empty_body", "clean", "article has no html or text content")

    body = paragraphs_to_body(paragraphs)
    n_words = len(words(body))
    if n_words < options.min_body_words:
        return Rejection("empty_body", "clean", "no article text found in the content")

    canonical = canonical_url(page_canonical) or canonical_url(raw.url)
    chash = content_hash(body)
    return CleanArticle(
        article_id=make_article_id(canonical, chash),
        url=raw.url,
        canonical_url=canonical,
        source=raw.source or url_host(canonical or raw.url),
        title=normalise_line(title) if title else None,
        body=body,
        authors=authors,
        published_at=published_at,
        fetched_at=raw.fetched_at,
        language_hint=raw.language,
        tags=tags,
        clean=clean_info,
        fingerprints=Fingerprints(content_hash=chash, body_words=n_words),
        origin=origin,
        extra=raw.extra,
    )


def _as_str(value: str | list[str] | None) -> str | None:
    return value if isinstance(value, str) else None
