"""HTML page -> Extraction: main text and metadata.

The page goes through lexbor (via selectolax), a fast C HTML5 parser: it is
stripped of non-content elements, and the body is the paragraphs of the
container that holds the most paragraph text (a density heuristic in the
readability family).
"""

from __future__ import annotations

from collections.abc import Iterable

from selectolax.lexbor import LexborHTMLParser, LexborNode

from worker.pipeline.extraction import Budget, Extraction
from worker.pipeline.text import normalise_line

# Elements that never hold article text; removing them first keeps menus,
# scripts and share widgets out of the density scores.
_NON_CONTENT = (
    "script, style, noscript, template, svg, canvas, iframe, object, embed, form, button,"
    " select, input, textarea, nav, header, footer, aside, menu, dialog"
)
_PARAGRAPH_TAGS = ("p", "h2", "h3", "h4", "blockquote", "li", "pre")
# Paragraph text shorter than this is scored but rarely body text on its own.
_MIN_PARAGRAPH_CHARS = 25


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


def extract_html(html: str, budget: Budget | None = None) -> Extraction:
    """Main text and metadata of a news page."""
    tree = LexborHTMLParser(html)
    if budget is not None:
        budget.check()
    out = Extraction(method="html-density")
    out.title = _meta(
        tree, 'meta[property="og:title"]', 'meta[name="twitter:title"]', "title", "h1"
    )
    out.canonical_url = _meta(tree, 'link[rel="canonical"]', 'meta[property="og:url"]')
    out.published_at = _meta(
        tree,
        'meta[property="article:published_time"]',
        'meta[name="pubdate"]',
        'meta[name="date"]',
        'meta[itemprop="datePublished"]',
        "time[datetime]",
    )
    author = _meta(tree, 'meta[name="author"]', 'meta[property="article:author"]')
    out.authors = [author] if author else []
    out.section = _meta(tree, 'meta[property="article:section"]')
    out.tags = _meta_all(tree, 'meta[property="article:tag"], meta[name="keywords"]')
    image = _meta(tree, 'meta[property="og:image"]', 'meta[name="twitter:image"]')
    if image:
        out.image = {"url": image, "caption": None, "credit": None}
    for node in tree.css(_NON_CONTENT):
        out.removed.add(f"element:{node.tag}", _node_text(node))
        node.decompose()
    if budget is not None:
        budget.check()
    root = tree.body or tree.root
    if root is None:
        return out
    candidates = [(n, _node_text(n)) for n in root.css(", ".join(_PARAGRAPH_TAGS))]
    candidates = [(n, t) for n, t in candidates if t]
    container = _best_container(candidates)
    if container is None:
        fallback = _node_text(root)
        out.paragraphs = [fallback] if fallback else []
        return out
    seen: set[str] = set()
    for node, text in candidates:
        # Nested paragraph tags (li > p) would repeat text; keep the first copy.
        if text in seen:
            continue
        if not _is_inside(node, container):
            out.removed.add("outside-main-container", text)
            continue
        seen.add(text)
        out.paragraphs.append(text)
    return out
