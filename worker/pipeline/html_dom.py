"""A parsed page as a flat list of text blocks over a table of elements.

One walk over the DOM turns the page into what the main-text scorer needs:
every run of rendered text between two block boundaries becomes a ``Block``
(its text, how much of it is link text, the element that holds it), and every
element gets an entry (tag, parent, and the removal rule its tag, attributes or
class names suggest). Everything after this walk is plain Python over lists, so
the DOM is visited once and no node's text is computed twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

# Never rendered as text (or only as a fallback for missing plugins): not walked,
# only counted for the removal audit.
SKIPPED_TAGS = frozenset({
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object",
    "embed", "button", "select", "input", "textarea", "option", "optgroup", "datalist",
    "dialog", "audio", "video", "map", "img", "picture", "source", "track", "param",
    "hr", "wbr",
})
# Document metadata and empty elements: not walked and not worth an audit line.
_SILENT_TAGS = frozenset({"title", "meta", "link", "base", "area", "col", "colgroup"})
# Elements a page lays out around, not inside, its article: walked so their text
# is audited, but their blocks start out removed (the scorer may overrule that
# when such an element holds most of the page's prose).
BOILERPLATE_TAGS = frozenset({"nav", "header", "footer", "aside", "menu", "figure", "figcaption"})
# Phrasing content: text in these flows into the surrounding block. Every other
# element (including unknown custom elements, which pages use as layout boxes)
# starts a new block.
INLINE_TAGS = frozenset({
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn",
    "em", "font", "i", "ins", "kbd", "label", "mark", "nobr", "q", "rp", "rt", "ruby", "s",
    "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var",
    "o:p",
})
_CONTENT_TAGS = frozenset({"article", "main"})
# Navigation without paragraphs is read as one text, not walked.
_SKIMMED_RULES = frozenset({
    "element:nav", "element:menu", "role:navigation", "role:menubar", "role:menu",
    "class:navigation",
})
# Blocks that hold only phrasing content by definition.
_PHRASING_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# ARIA landmark roles that are site furniture, never the article.
_BOILERPLATE_ROLES = frozenset({
    "navigation", "banner", "contentinfo", "complementary", "menu", "menubar", "search",
    "dialog", "alertdialog", "toolbar",
})

# Class/id vocabulary of page furniture, by the rule name it is audited under.
# Class names and ids are split into words ("article-share-bar" -> article,
# share, bar; "relatedStories" -> related, stories), and a word matches when it
# is listed; so does a word joined with the one before it ("sr-only",
# "shareBar"). Substrings never match: "header" does not contain "ad".
_VOCABULARY: dict[str, tuple[str, ...]] = {
    # Not "social": "social-embed" boxes hold embedded posts the article quotes;
    # social link bars are link text and go as such.
    "share": ("share", "sharing", "sharebar", "sociallinks", "addthis", "sharethis",
              "follow", "followus"),
    "related": ("related", "recommended", "recommendation", "recommendations", "recirc",
                "recirculation", "trending", "popular", "mostread", "mostpopular",
                "outbrain", "taboola", "zergnet", "morestories", "readnext", "upnext",
                "teaser", "teasers"),
    # Not "paywall": paywalled pages wrap the rest of the article in it.
    "newsletter": ("newsletter", "newsletters", "subscribe", "subscription", "signup"),
    "comment": ("comment", "comments", "disqus", "respond", "responses", "replies",
                "discussion"),
    "ad": ("ad", "ads", "advert", "advertisement", "advertising", "adslot", "adunit", "dfp",
           "gpt", "sponsor", "sponsored", "promo", "promotion", "promoted", "affiliate",
           "commercial"),
    # Not "rail": layouts name the whole page after their rail ("page-rail-tall").
    "navigation": ("nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs",
                   "pagination", "pager", "sidebar", "widget", "masthead", "skip", "toolbar",
                   "tools"),
    "byline": ("byline", "author", "authors", "dateline", "timestamp", "meta", "date",
               "published", "updated"),
    "caption": ("caption", "credit", "credits", "figcaption", "photo"),
    "tags": ("tags", "taglist", "tagcloud", "keywords", "topics"),
    "popup": ("popup", "modal", "overlay", "cookie", "cookies", "consent", "gdpr", "banner"),
    "hidden": ("sronly", "screenreader", "visuallyhidden", "offscreen"),
    "footer": ("footer", "copyright", "disclaimer"),
    "gallery": ("gallery", "slideshow", "carousel", "slider"),
}
_WORD_RULE = {word: f"class:{rule}" for rule, words in _VOCABULARY.items() for word in words}
# Vocabulary words long enough to be recognised at the end of a compound.
_MIN_HEAD = 5
_HEAD_RULE = {word: rule for word, rule in _WORD_RULE.items() if len(word) >= _MIN_HEAD}
_HEAD_SIZES = sorted({len(word) for word in _HEAD_RULE}, reverse=True)
# Words of a class name: lower-case runs with an optional leading capital, and
# runs of capitals ("ADS", "sr-Only", "shareBar").
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
# Embedded posts the article quotes ("social-embed", "twitter-tweet") are
# content whatever else their class names say.
_EMBEDS = frozenset({"embed", "embedded", "tweet"})
# Class names made only of these words name the article's own box.
_CONTENT_WORDS = frozenset({
    "article", "post", "entry", "hentry", "story", "content", "body", "text", "main",
    "single", "blog", "news",
})
_PARTS = re.compile(r"[-_]+")
# State classes describe the layout around the article, not furniture:
# "has-comments", "with-sidebar", "no-ads".
_STATES = frozenset({"has", "with", "no", "without"})


def _names_content(name: str) -> bool:
    """ "entry-content", "l-article-body" (short parts are namespaces)."""
    parts = [p for p in _PARTS.split(name.lower()) if len(p) > 2]
    return bool(parts) and _CONTENT_WORDS.issuperset(parts)


def vocabulary_rule(names: str) -> str | None:
    """The boilerplate rule a class/id string matches, or None. An element that
    also names itself the content ("entry", "post-content", "article-body") is
    the content: its other classes describe the post ("author-jdoe")."""
    if any(_names_content(name) for name in names.split()):
        return None
    words = [w.lower() for w in _WORDS.findall(names)]
    if not _EMBEDS.isdisjoint(words):
        return None
    previous = ""
    for word in words:
        rule = _WORD_RULE.get(word)
        if rule is not None and previous not in _STATES:
            return rule
        rule = _WORD_RULE.get(previous + word)
        if rule is not None:
            return rule
        # Compounds written as one word end in their head: "inlinegallery",
        # "sitefooter", "postcomments".
        if len(word) > _MIN_HEAD:
            for size in _HEAD_SIZES:
                if size < len(word):
                    rule = _HEAD_RULE.get(word[-size:])
                    if rule is not None:
                        return rule
        previous = word
    return None


# Nodes walked between two calls of the time budget's check.
_CHECK_EVERY = 4096


@dataclass(slots=True)
class Block:
    """Rendered text between two block boundaries."""

    text: str
    element: int  # index of the innermost block-level element holding the text
    link_chars: int


@dataclass(slots=True)
class Page:
    """Elements (parallel lists, indexed by walk order) and the blocks they hold."""

    tags: list[str] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    # The removal rule an element's own tag or attributes suggest, or None.
    rules: list[str | None] = field(default_factory=list)
    # Class and id, space-separated ("" when neither).
    names: list[str] = field(default_factory=list)
    # Index of the last element inside each element (its subtree is the range).
    ends: list[int] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    # Elements that were never walked: counted for the audit, text not computed.
    skipped: dict[str, int] = field(default_factory=dict)
    # Menus that were not walked either: their rule and text, for the audit.
    skimmed: list[tuple[str, str]] = field(default_factory=list)


def _is_hidden(attrs: dict[str, str | None]) -> bool:
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    return bool(style and ("none" in style or "hidden" in style) and _HIDDEN_STYLE.search(style))


def _element_rule(
    tag: str, attrs: dict[str, str | None], names: str, cache: dict[str, str | None]
) -> str | None:
    if _is_hidden(attrs):
        return "hidden"
    # Visible, but kept from screen readers: decorative or duplicated text.
    if attrs.get("aria-hidden") == "true":
        return "aria-hidden"
    role = attrs.get("role")
    if role and role.lower() in _BOILERPLATE_ROLES:
        return f"role:{role.lower()}"
    if tag in BOILERPLATE_TAGS:
        return f"element:{tag}"
    # An <article> or <main> is the content, whatever its other classes say
    # (WordPress adds "author-jdoe" and "tag-x" to the post's own element).
    if not names or tag in _CONTENT_TAGS:
        return None
    if names not in cache:
        cache[names] = vocabulary_rule(names)
    return cache[names]


def walk(root: LexborNode, check: Callable[[], None] | None = None) -> Page:
    """Blocks and elements of ``root``'s subtree, in document order; ``check``
    (a time budget's) is called every few thousand nodes and may raise."""
    page = Page()
    tags, parents, rules, names_of, ends = (
        page.tags, page.parents, page.rules, page.names, page.ends
    )
    blocks, skipped, skimmed = page.blocks, page.skipped, page.skimmed
    cache: dict[str, str | None] = {}
    pieces: list[str] = []
    link_chars = 0
    link_depth = 0
    # A <br> directly after another <br> (only spaces between) ends a paragraph;
    # a single one is a line break inside it, rendered here as a space.
    after_br = False
    open_elements: list[int] = []
    open_blocks: list[int] = []

    def flush() -> None:
        nonlocal link_chars
        # Whitespace is collapsed here and the full normalisation (NFC, invisible
        # characters) left to the few blocks that are kept: it is the costlier.
        text = " ".join("".join(pieces).split())
        if text:
            blocks.append(Block(text, open_blocks[-1], min(link_chars, len(text))))
        pieces.clear()
        link_chars = 0

    # Items are nodes to enter, or the int index of an element to leave.
    stack: list[LexborNode | int] = [root]
    countdown = _CHECK_EVERY
    while stack:
        item = stack.pop()
        countdown -= 1
        if not countdown:
            countdown = _CHECK_EVERY
            if check is not None:
                check()
        if type(item) is int:
            open_elements.pop()
            ends[item] = len(tags) - 1
            if open_blocks[-1] == item:
                if pieces:
                    flush()
                open_blocks.pop()
            elif tags[item] == "a":
                link_depth -= 1
            continue
        node: LexborNode = item  # type: ignore[assignment]
        tag = node.tag
        if tag == "-text":
            text = node.text_content
            if text:
                pieces.append(text)
                if not text.isspace():
                    after_br = False
                    if link_depth:
                        link_chars += len(text.strip())
            continue
        if tag is None or tag[0] == "-":  # comments, doctype
            continue
        if tag in SKIPPED_TAGS:
            skipped[tag] = skipped.get(tag, 0) + 1
            continue
        if tag in _SILENT_TAGS:
            continue
        if tag == "br":
            if after_br:
                if pieces:
                    flush()
            else:
                pieces.append(" ")
                after_br = True
            continue
        # Custom elements render inline unless styled otherwise: inside a
        # paragraph they are citation markers and tooltips, elsewhere layout boxes.
        inline = tag in INLINE_TAGS or (
            "-" in tag and bool(open_blocks) and tags[open_blocks[-1]] in _PHRASING_BLOCKS
        )
        if inline:
            # Hidden phrasing (hover cards, screen-reader duplicates) is not
            # rendered inside its paragraph: skipped like a script. Pages hide
            # it in spans; reading every link's attributes to find the rare
            # other case would cost a fifth of the walk. Other rules need a
            # box: phrasing elements get none.
            if tag == "span":
                attrs = node.attributes
                if attrs and (_is_hidden(attrs) or attrs.get("aria-hidden") == "true"):
                    skipped["hidden"] = skipped.get("hidden", 0) + 1
                    continue
            rule = None
            names = ""
        elif attrs := node.attributes:
            klass, ident = attrs.get("class"), attrs.get("id")
            names = f"{klass} {ident}" if klass and ident else klass or ident or ""
            rule = _element_rule(tag, attrs, names, cache)
        else:
            names = ""
            rule = f"element:{tag}" if tag in BOILERPLATE_TAGS else None
        if rule in _SKIMMED_RULES and node.css_first("p") is None:
            # Menus are a third of a typical page's nodes and never the article:
            # their text is read in one call, for the audit, instead of walked.
            if pieces:
                flush()
            skimmed.append((rule, " ".join(node.text(deep=True, separator=" ").split())))
            continue
        after_br = False
        index = len(tags)
        tags.append(tag)
        parents.append(open_elements[-1] if open_elements else -1)
        names_of.append(names)
        rules.append(rule)
        ends.append(index)
        open_elements.append(index)
        if inline:
            if tag == "a":
                link_depth += 1
        else:
            if pieces:
                flush()
            open_blocks.append(index)
        stack.append(index)
        child = node.last_child
        while child is not None:
            stack.append(child)
            child = child.prev
    return page
