"""Article metadata from a page's head and markup.

Each field comes from the most deliberate source a page offers, in order:
OpenGraph/article meta tags and JSON-LD (written for machines), then schema.org
microdata, then what a reader sees (``<title>``, ``<h1>``, bylines, ``<time>``).
Values are cleaned the way readers expect them: titles without a " | Site
Name" suffix, authors as bare names, URLs absolute when a base is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from worker.pipeline.html_dates import iso_date
from worker.pipeline.html_jsonld import JsonLd, first_text, names, read_jsonld
from worker.pipeline.text import normalise_line

# Separators between a headline and the site name in <title> and og:title.
# Not ":": "Fact check: ..." is one headline.
_TITLE_SEPARATORS = re.compile(r"\s+(?:[|\u2013\u2014\u00b7\u2022\u00bb]|::|-{1,2})\s+")
# Not "de"/"di": they start surnames ("De Luca") as often as bylines.
_BYLINE_PREFIX = re.compile(
    r"^(?:(?:(?:written|posted|reported|words|story|text)\s+)?(?:by|from|por|par|von|door|av)\b"
    r"|authors?\s*:)[:\s]*",
    re.IGNORECASE,
)
_NAME_SPLIT = re.compile(r"\s*(?:,|;|\||/|&|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)
# Job titles and bureau lines that share a byline with the names.
_NOT_A_NAME = re.compile(
    r"\b(?:staff|writer|reporter|correspondent|editor|editors|contributor|columnist|"
    r"photographer|published|updated|bureau|newsroom|team|desk|wire|copyright|follow|"
    r"for|admin|guest|anonymous)\b|[@:]|\d|https?://|www\.|\.com\b",
    re.IGNORECASE,
)
_MAX_NAME_WORDS = 5
_MAX_TAG_CHARS = 60
_NON_ALNUM = re.compile(r"[\W_]+")
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "ne", "or"})
_BYLINE_SELECTOR = (
    '[rel~="author"], [class*="byline"] [class*="name"], [class*="author-name"],'
    ' [class*="byline__name"], [class*="byline"]'
)
_CREDIT_SELECTOR = (
    '[class*="credit"], [class*="copyright"], [class*="source"], [class*="attribution"],'
    ' [itemprop="copyrightHolder"], [itemprop="creditText"]'
)
_AUTHOR_META = ("author", "byl", "sailthru.author", "parsely-author", "dc.creator")
# Longer "bylines" are author boxes with a biography.
_MAX_BYLINE_CHARS = 200
_DATE_META = (
    "article:published_time", "article:published", "og:published_time", "datepublished",
    "pubdate", "publishdate", "publish-date", "publish_date", "article.published",
    "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date",
    "dcterms.created", "date", "original-publish-date", "article:modified_time",
)


@dataclass(slots=True)
class Metadata:
    title: str | None = None
    # Every spelling of the headline the page uses, to find it in the body.
    title_variants: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    image: dict[str, str | None] | None = None
    canonical_url: str | None = None
    # JSON-LD articleBody as written (plain text or HTML), when the page gives one.
    article_body: str | None = None


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = normalise_line(value)
    return text or None


def _meta_tags(tree: LexborHTMLParser) -> dict[str, list[str]]:
    """Every <meta> value by its lower-cased property, name or itemprop."""
    out: dict[str, list[str]] = {}
    for node in tree.css("meta[content]"):
        attrs = node.attributes
        content = attrs.get("content")
        if not content or not content.strip():
            continue
        for key in ("property", "name", "itemprop"):
            # itemprop may list several properties: "datePublished dateCreated".
            for name in (attrs.get(key) or "").lower().split():
                out.setdefault(name, []).append(content)
    return out


def _first(meta: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        for value in meta.get(key, ()):
            text = _clean(value)
            if text:
                return text
    return None


def _site_key(text: str) -> str:
    return _NON_ALNUM.sub("", text.casefold())


def _host_label(url: str | None) -> str | None:
    """"nytimes" for https://www.nytimes.com/...: the part of a host that names a site."""
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    labels = [p for p in host.split(".") if p not in ("www", "m", "amp", "")]
    # Country domains nest a generic one: "bbc" in bbc.co.uk, "abc" in abc.net.au.
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else (labels[0] if labels else None)


def _names_site(key: str, sites: set[str]) -> bool:
    """Whether a title part or byline (as a ``_site_key``) is the site's name:
    equal to it, a short form of it ("Chronicle" for Houston Chronicle) or it
    with a little more ("WSJ.com", "The Hill")."""
    return bool(key) and any(
        key == site
        or (site in key and len(key) - len(site) <= 4)
        or (key in site and len(key) >= 4 and 2 * len(key) >= len(site))
        for site in sites
    )


def clean_title(title: str, sites: set[str], headline: str | None = None) -> str:
    """``title`` without leading or trailing parts that name the site (``sites``:
    its names as ``_site_key`` gives them), or else the part that is the page's
    visible ``headline`` when one is."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title

    def is_site(part: str) -> bool:
        return _names_site(_site_key(part), sites)

    while len(parts) > 1 and is_site(parts[-1]):
        parts.pop()
    while len(parts) > 1 and is_site(parts[0]):
        parts.pop(0)
    if len(parts) > 1 and headline:
        wanted = _site_key(headline)
        for part in parts:
            if _site_key(part) == wanted:
                return part.strip()
    # Only the matched separators are gone; the title's own dashes stay.
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip() if start >= 0 and end > start else title


def clean_names(raw: str) -> list[str]:
    """Names in a byline: "By Jane Roe and John Doe, Staff Writers" -> both names."""
    text = _BYLINE_PREFIX.sub("", normalise_line(raw))
    out: list[str] = []
    for part in _NAME_SPLIT.split(text):
        part = _BYLINE_PREFIX.sub("", part.strip(" .-\u2013\u2014|"))
        if not part or _NOT_A_NAME.search(part) or len(part.split()) > _MAX_NAME_WORDS:
            continue
        # A lower-case single word is a CMS login ("jdoe", "kevin-r"), not a byline.
        if not any(c.isalpha() for c in part) or (" " not in part and part.islower()):
            continue
        # Wire bylines are set in capitals: "TOM KRISHER" -> "Tom Krisher".
        out.append(part.title() if part.isupper() and " " in part else part)
    return out


def _unique(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _texts(tree: LexborHTMLParser, selector: str, limit: int = 4) -> list[str]:
    return [n.text(deep=True, separator=" ") for n in tree.css(selector)[:limit]]


def _authors(
    tree: LexborHTMLParser, meta: dict[str, list[str]], ld: JsonLd, sites: set[str]
) -> list[str]:
    people: list[str] = []
    organisations: list[str] = []
    author = ld.article.get("author") or ld.article.get("creator")
    for item in author if isinstance(author, list) else [author] if author else []:
        item = ld.resolve(item)
        kinds = item.get("@type") if isinstance(item, dict) else None
        found = names(item, ld)
        if kinds == "Organization" or (isinstance(kinds, list) and "Organization" in kinds):
            organisations.extend(found)
        else:
            people.extend(found)
    # Cheapest and most deliberate first; the markup is only searched when the
    # head has no author.
    sources: list[Callable[[], Iterable[str]]] = [
        lambda: people,
        lambda: [v for key in _AUTHOR_META for v in meta.get(key, ())],
        lambda: [v for v in meta.get("article:author", []) if not v.startswith(("http", "/"))],
        lambda: _texts(tree, '[itemprop="author"] [itemprop="name"]'),
        lambda: _texts(tree, '[itemprop="author"]'),
        lambda: _texts(tree, _BYLINE_SELECTOR),
        lambda: organisations,
    ]
    for source in sources:
        found = _unique(
            name for raw in source() if len(raw) < _MAX_BYLINE_CHARS for name in clean_names(raw)
        )
        # "Jill Lawless Associated Press" next to "Jill Lawless": a byline run on.
        keys = [n.casefold() for n in found]
        found = [n for n, k in zip(found, keys, strict=True)
                 if not any(k.startswith(m + " ") for m in keys)]
        # "Jane Roe, CNN Business": the publisher credited next to its writers.
        writers = [name for name in found if not _names_site(_site_key(name), sites)]
        if writers or found:
            return writers or found
    return []


def _published_at(tree: LexborHTMLParser, meta: dict[str, list[str]], ld: JsonLd) -> str | None:
    candidates: list[str | None] = [first_text(ld.article.get("datePublished"))]
    candidates += [v for key in _DATE_META for v in meta.get(key, ())]
    for node in tree.css('[itemprop="datePublished"], time[pubdate], time[datetime]')[:5]:
        candidates.append(node.attributes.get("datetime") or node.attributes.get("content"))
    for candidate in candidates:
        date = iso_date(candidate)
        if date:
            return date
    return None


def _tags(meta: dict[str, list[str]], ld: JsonLd, title: str | None) -> list[str]:
    raw: list[str] = list(meta.get("article:tag", []))
    raw += meta.get("keywords", []) + meta.get("news_keywords", [])
    keywords = ld.article.get("keywords")
    if isinstance(keywords, list):
        raw += [k for k in keywords if isinstance(k, str)]
    elif isinstance(keywords, str):
        raw.append(keywords)
    found = (_clean(t) for value in raw for t in value.split(","))
    title_key = _site_key(title or "")
    return _unique(
        t for t in found
        if t and _is_tag(t) and _site_key(t) != title_key
    )


def _is_tag(text: str) -> bool:
    """Readers' tags, not CMS plumbing ("@hp-top-stories", "ctp_video",
    "Section: News") or a sentence pasted into the keywords."""
    return (
        len(text) <= _MAX_TAG_CHARS
        and text[0].isalnum()
        and not any(c in text for c in "_:/=@")
    )


def _absolute(url: str | None, base: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    return url if urlsplit(url).scheme in ("http", "https") else None


def _file_stem(url: str) -> str:
    """"team-photo" for https://cdn.example/img/team-photo.jpg?w=1200."""
    name = urlsplit(url.strip()).path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0].lower()


def _lead_figure(tree: LexborHTMLParser, image_url: str | None) -> LexborNode | None:
    """The <figure> that shows the lead image: the one showing the same file as
    og:image when there is one (pages resize it, so the file name is compared),
    else the first figure of the article."""
    figures = tree.css("article figure") or tree.css("main figure") or tree.css("figure")
    if image_url:
        stem = _file_stem(image_url)
        if len(stem) < 4:  # "image", "1": too generic to identify a file
            return None
        for figure in figures:
            for img in figure.css("img, source"):
                attrs = img.attributes
                sources = " ".join(filter(None, (
                    attrs.get("src"), attrs.get("data-src"), attrs.get("srcset"),
                    attrs.get("data-srcset"),
                ))).lower()
                if stem in sources:
                    return figure
        return None
    for figure in figures[:3]:
        if figure.css_first("img") is not None:
            return figure
    return None


def _image(
    tree: LexborHTMLParser, meta: dict[str, list[str]], ld: JsonLd, base: str | None
) -> dict[str, str | None] | None:
    url = _first(meta, "og:image:secure_url", "og:image", "og:image:url", "twitter:image",
                 "twitter:image:src", "image", "thumbnailurl")
    caption = credit = None
    image = ld.resolve(ld.article.get("image"))
    if isinstance(image, list) and image:
        image = ld.resolve(image[0])
    if isinstance(image, dict):
        url = url or _clean(first_text(image.get("url") or image.get("contentUrl")))
        caption = _clean(image.get("caption"))
        holders = names(image.get("copyrightHolder"), ld)
        credit = _clean(image.get("creditText")) or (_clean(holders[0]) if holders else None)
    elif isinstance(image, str):
        url = url or _clean(image)
    figure = _lead_figure(tree, url)
    if figure is not None:
        img = figure.css_first("img")
        if url is None and img is not None:
            url = img.attributes.get("src") or img.attributes.get("data-src")
        credit_node = figure.css_first(_CREDIT_SELECTOR)
        if credit_node is not None and credit is None:
            credit = _clean(credit_node.text(deep=True, separator=" "))
        figcaption = figure.css_first("figcaption")
        if figcaption is not None and caption is None:
            caption = _clean(figcaption.text(deep=True, separator=" "))
            # The credit often sits inside the caption, before or after it.
            if caption and credit and credit in caption:
                caption = caption.replace(credit, " ").strip(" |-\u2013\u2014") or None
                caption = _clean(caption)
    url = _absolute(url, base)
    if url is None and caption is None and credit is None:
        return None
    return {"url": url, "caption": caption, "credit": credit}


def extract_metadata(tree: LexborHTMLParser, base_url: str | None = None) -> Metadata:
    meta = _meta_tags(tree)
    ld = read_jsonld(tree)
    out = Metadata()

    base_node = tree.css_first("base[href]")
    base = base_url
    if base_node is not None:
        base = urljoin(base_url or "", base_node.attributes.get("href") or "") or base_url
    canonical = tree.css_first('link[rel~="canonical"][href]')
    out.canonical_url = _absolute(
        canonical.attributes.get("href") if canonical is not None else None, base
    ) or _absolute(_first(meta, "og:url"), base)

    h1 = tree.css_first("h1")
    headline = _clean(h1.text(deep=True, separator=" ")) if h1 is not None else None
    doc_title = tree.css_first("title")
    candidates = [
        _first(meta, "og:title"),
        _first(meta, "twitter:title"),
        _clean(first_text(ld.article.get("headline"))),
        _clean(doc_title.text(deep=True)) if doc_title is not None else None,
    ]
    # The first <h1> is the title only when nothing else names the page: on
    # many sites it is the logo.
    if not any(candidates):
        candidates.append(headline)
    site_names = [
        *meta.get("og:site_name", []), *meta.get("application-name", []),
        *(s.lstrip("@") for s in meta.get("twitter:site", [])), *ld.publisher_names,
        *filter(None, (_host_label(u) for u in (out.canonical_url, base))),
    ]
    sites = {k for k in map(_site_key, site_names) if k}
    variants = [clean_title(c, sites, headline) for c in candidates if c]
    out.title = variants[0] if variants else None
    out.title_variants = _unique([*variants, *(c for c in candidates if c)])

    out.authors = _authors(tree, meta, ld, sites)
    out.published_at = _published_at(tree, meta, ld)
    out.section = _first(meta, "article:section", "section", "parsely-section") or _clean(
        first_text(ld.article.get("articleSection"))
    )
    out.tags = _tags(meta, ld, out.title)
    out.image = _image(tree, meta, ld, base)
    out.article_body = first_text(ld.article.get("articleBody"))
    return out
