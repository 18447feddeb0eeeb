"""Which blocks of a walked page are the article's main text.

Every block gets a weight: its non-link characters when it reads like prose,
a negative weight when it is link text or sits in page furniture. The article
is the element whose subtree has the largest total weight (a maximum-weight
subtree: prose counts for it, menus and teaser lists against it), which keeps a
body split across sibling boxes together while leaving sidebars out. Inside it,
furniture, link lists, the title and the short lines before the first and after
the last paragraph are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from worker.pipeline.extraction import RemovalLog
from worker.pipeline.html_dom import INLINE_TAGS, Block, Page
from worker.pipeline.text import normalise_line

# A block is prose when its non-link text is at least this long, or half as long
# and it ends a sentence somewhere.
_PROSE_CHARS = 100
_SENTENCE = re.compile(r"[.!?\u2026\u3002\uff01\uff1f]")
# Blocks whose text is mostly link text are navigation, teasers or "read more".
_MAX_LINK_DENSITY = 0.5
# A furniture-named element (class "comments", tag <aside>...) that holds at
# least this share of the page's prose is a mislabelled wrapper, not furniture.
_WRAPPER_SHARE = 0.6
_COMMENTS_WRAPPER_SHARE = 0.97
# Link text and furniture count against a subtree at this rate: enough to keep
# menus and sidebars out, not so much that a link-heavy paragraph or an
# embedded post in the middle of an article splits it in two.
_NOISE_WEIGHT = 0.7
# Teaser cards: repeated sibling boxes, each a headline link plus at most this
# many prose blocks; this many of them make a listing.
_CARD_MAX_PROSE = 2
_MIN_CARDS = 3
# A teaser's summary is a sentence or two; longer items are the article's own.
_TEASER_CHARS = 200
# Items of a link list are at most this long: headlines, not paragraphs.
_LINK_ITEM_CHARS = 160
_LINK_ITEM_SHARE = 0.25
# ... and this share of a list's items are such lines (an odd longer pitch
# among them does not make it the article's).
_LINK_LIST_SHARE = 0.75
# A link this long reads as a headline (short ones are citations, "more", icons).
_HEADLINE_CHARS = 20
# Elements that structure text rather than lay out the page: a block's "box" is
# its nearest ancestor that is not one of these.
_TEXT_STRUCTURE = frozenset({
    "p", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption",
    "figure", "center",
}) | INLINE_TAGS
_PARAGRAPHS = frozenset({"p", "blockquote"})
_SHORT_PARAGRAPH_WEIGHT = 0.5
_HEADLINES = frozenset({"h1", "h2"})
# Contact lines ("Email the reporter at ...") are pitches too: an address in a
# closing paragraph is for readers to write to, not part of the story.
_CALL_TO_ACTION = re.compile(
    r"\b(?:sign(?:ing)? up (?:for|to|now|here|today)|subscribe (?:to|now|today|for|here)"
    r"|(?:our|free|daily|weekly) newsletters?|follow (?:us|him|her|them|me) (?:on|@)"
    r"|follow\b[^.]{0,60}\bon (?:twitter|facebook|instagram)"
    r"|join (?:us|our) |click here|download (?:our|the) app|contributed to this report)"
    r"|[\w.+-]+@[\w-]+\.[a-z]{2,}",
    re.IGNORECASE,
)
# Pitches are a sentence or two: a long paragraph that mentions a newsletter
# is the story.
_CALL_TO_ACTION_CHARS = 400
# The characters normalise_line deletes (zero-width spaces and joiners, BOM,
# soft hyphen).
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Texts kept per rule in the removal audit (RemovalLog keeps as many).
_SAMPLES = 3
_DIGITS = re.compile(r"\d+")
_WORDS = re.compile(r"\w+")


@dataclass(slots=True)
class _Features:
    prose: bool
    link_dense: bool
    plain: int  # characters outside links


def _features(block: Block) -> _Features:
    n = len(block.text)
    plain = n - block.link_chars
    link_dense = block.link_chars > _MAX_LINK_DENSITY * n
    prose = not link_dense and (
        plain >= _PROSE_CHARS or (plain >= _PROSE_CHARS // 2 and bool(_SENTENCE.search(block.text)))
    )
    return _Features(prose, link_dense, plain)


def _word_key(text: str) -> str:
    return " ".join(_WORDS.findall(text.casefold()))


@dataclass(slots=True)
class _Subtrees:
    """Per-element totals over each element's subtree."""

    prose_chars: list[float]
    prose_blocks: list[int]
    link_blocks: list[int]  # headline-length link blocks
    blocks: list[int]
    chars: list[int]
    link_chars: list[int]


def _subtrees(page: Page, features: list[_Features]) -> _Subtrees:
    n = len(page.tags)
    parents = page.parents
    prose_chars, prose_blocks = [0.0] * n, [0] * n
    link_blocks, blocks, chars, link_chars = [0] * n, [0] * n, [0] * n, [0] * n
    for block, feat in zip(page.blocks, features, strict=True):
        e = block.element
        blocks[e] += 1
        chars[e] += len(block.text)
        link_chars[e] += block.link_chars
        if feat.prose:
            prose_chars[e] += feat.plain
            prose_blocks[e] += 1
        elif feat.link_dense and len(block.text) >= _HEADLINE_CHARS:
            link_blocks[e] += 1
    # Parents precede their children in walk order: one reverse pass adds every
    # subtree into its parent (most elements hold no text and are skipped).
    for e in range(n - 1, 0, -1):
        if blocks[e]:
            p = parents[e]
            prose_chars[p] += prose_chars[e]
            prose_blocks[p] += prose_blocks[e]
            link_blocks[p] += link_blocks[e]
            blocks[p] += blocks[e]
            chars[p] += chars[e]
            link_chars[p] += link_chars[e]
    return _Subtrees(prose_chars, prose_blocks, link_blocks, blocks, chars, link_chars)


def _teaser_cards(page: Page, sub: _Subtrees) -> set[int]:
    """Boxes that repeat among their siblings with the same tag and classes and
    each hold a headline link and a line or two of summary: a listing of other
    articles (related stories, a ticker, a feed), never the article itself,
    unless the listing is most of the page's prose and its items say more than
    a teaser does: then it is the article (a round-up whose items link their
    headings)."""
    groups: dict[tuple[int, str, str], list[int]] = {}
    for e in range(1, len(page.tags)):
        if (
            sub.link_blocks[e]
            and sub.blocks[e] >= 2
            and sub.prose_blocks[e] <= _CARD_MAX_PROSE
        ):
            key = (page.parents[e], page.tags[e], _DIGITS.sub("", page.names[e]))
            groups.setdefault(key, []).append(e)
    limit = _WRAPPER_SHARE * sub.prose_chars[0]
    listings: set[int] = set()
    for members in groups.values():
        if len(members) < _MIN_CARDS:
            continue
        prose = sum(sub.prose_chars[m] for m in members)
        if prose < limit or prose < _TEASER_CHARS * len(members):
            listings.update(members)
    return listings


def _is_wrapper(rule: str, e: int, sub: _Subtrees, total_prose: float) -> bool:
    """Whether a furniture-named element is a mislabelled wrapper of the article
    ("content-with-sidebar", "slider" page shells, a page hidden behind a
    consent dialog until a script shows it): it holds most of the page's prose.
    (Counting its paragraphs instead frees prose-heavy footers and sidebars.)
    Comment threads can outweigh a short article, so a comment-named element
    must hold nearly all of it (a "comments-open" <body>)."""
    share = _COMMENTS_WRAPPER_SHARE if rule == "class:comment" else _WRAPPER_SHARE
    return total_prose > 0 and sub.prose_chars[e] >= share * total_prose


def _link_lists(page: Page, sub: _Subtrees) -> set[int]:
    """Lists whose items are nearly all short lines that are largely a link: "more
    stories", "read next" and source lists, even when only part of each line is
    linked (but not a summary whose items end in a "(more)" jump link)."""
    items: dict[int, list[int]] = {}
    for e in range(1, len(page.tags)):
        if page.tags[e] == "li" and page.tags[page.parents[e]] in ("ul", "ol"):
            items.setdefault(page.parents[e], []).append(e)
    return {
        lst for lst, lis in items.items()
        if len(lis) >= _MIN_CARDS
        and sum(
            sub.chars[li] < _LINK_ITEM_CHARS
            and sub.link_chars[li] >= _LINK_ITEM_SHARE * sub.chars[li] > 0
            for li in lis
        ) >= _LINK_LIST_SHARE * len(lis)
    }


def _title_anchor(
    page: Page, features: list[_Features], keys: set[str], furniture: list[int]
) -> int:
    """Index of the heading that shows the headline, or -1. The article starts
    after its headline, so whatever comes before it (tickers, teasers) is not
    the article. Only a top-level heading outside page furniture (a <header>
    aside: that is where headlines live) counts: the same words in a share box
    or a "next story" teaser may come after the body."""
    if not keys:
        return -1
    for i, block in enumerate(page.blocks):
        e = block.element
        if (
            page.tags[e] in _HEADLINES
            and (furniture[e] < 0 or page.rules[furniture[e]] == "element:header")
            and not features[i].link_dense
            and _word_key(block.text) in keys
        ):
            return i
    return -1


def _is_call_to_action(text: str) -> bool:
    return len(text) < _CALL_TO_ACTION_CHARS and bool(_CALL_TO_ACTION.search(text))


def _furniture(page: Page, sub: _Subtrees, listings: set[int]) -> list[int]:
    """The innermost furniture element around each element (-1: none). Named
    furniture inside furniture is audited under the inner name ("nav" in a
    "header"); listings only count where no name applies."""
    parents, rules = page.parents, page.rules
    total_prose = sub.prose_chars[0]
    furniture = [-1] * len(page.tags)
    for e in range(len(page.tags)):
        inherited = furniture[parents[e]] if e else -1
        rule = rules[e]
        named = rule is not None and not _is_wrapper(rule, e, sub, total_prose)
        listing = inherited < 0 and e in listings
        furniture[e] = e if named or listing else inherited
    return furniture


def _best_container(
    page: Page, features: list[_Features], furniture: list[int], anchor: int
) -> int:
    """The element whose subtree weighs most: prose for it, link text and
    furniture against it; nothing up to the headline counts."""
    tags, parents = page.tags, page.parents
    n_elements = len(tags)
    weight = [0.0] * n_elements
    for i, (block, feat) in enumerate(zip(page.blocks, features, strict=True)):
        if i <= anchor:
            continue
        e = block.element
        if furniture[e] >= 0 or feat.link_dense:
            weight[e] -= _NOISE_WEIGHT * len(block.text)
        elif feat.prose:
            weight[e] += feat.plain
        elif tags[e] in _PARAGRAPHS:
            # Short paragraphs count a little: written as paragraphs, they are
            # more often the article's last line than furniture.
            weight[e] += _SHORT_PARAGRAPH_WEIGHT * feat.plain
    for e in range(n_elements - 1, 0, -1):
        weight[parents[e]] += weight[e]
    # Highest weight; on a tie the descendant (visited first here) wins.
    best = n_elements - 1
    for e in range(n_elements - 1, -1, -1):
        if weight[e] > weight[best]:
            best = e
    return best


def _edge_lines(
    page: Page, features: list[_Features], kept: list[int], container: int
) -> set[int]:
    """Short lines before the first and after the last paragraph: bylines,
    datelines, share prompts and tag lists, unless they share the box of the
    paragraphs: then they are the article's own short paragraphs and items."""
    prose_at = [i for i in kept if features[i].prose]
    if not prose_at:
        return set()
    tags, parents, blocks = page.tags, page.parents, page.blocks
    box = {container: container}
    for e in range(container + 1, page.ends[container] + 1):
        box[e] = box[parents[e]] if tags[e] in _TEXT_STRUCTURE else e
    lo, hi = prose_at[0], prose_at[-1]
    lo_box, hi_box = box[blocks[lo].element], box[blocks[hi].element]
    return {
        i for i in kept
        if (i < lo and box[blocks[i].element] != lo_box)
        or (i > hi and box[blocks[i].element] != hi_box)
    }


def select_paragraphs(page: Page, titles: list[str], log: RemovalLog) -> list[str]:
    """The article's paragraphs; every other block is logged under its rule."""
    blocks = page.blocks
    if not blocks:
        _audit(log, page.skimmed)
        return []
    features = [_features(b) for b in blocks]
    sub = _subtrees(page, features)
    cards = _teaser_cards(page, sub)
    link_lists = _link_lists(page, sub)
    furniture = _furniture(page, sub, cards | link_lists)
    title_keys = {k for k in map(_word_key, titles) if k}
    # Longer blocks cannot be the title: their words are not worth comparing.
    title_chars = 2 * max(map(len, titles), default=0)
    anchor = _title_anchor(page, features, title_keys, furniture)
    container = _best_container(page, features, furniture, anchor)
    end = page.ends[container]

    kept: list[int] = []
    drops: list[tuple[str, int]] = []
    for i, block in enumerate(blocks):
        e = block.element
        f = furniture[e]
        if f >= 0:
            rule = "listing" if f in cards else "link-list" if f in link_lists else page.rules[f]
            drops.append((rule or "furniture", i))
        elif not container <= e <= end:
            drops.append(("outside-main-container", i))
        elif i <= anchor:
            drops.append(("title" if i == anchor else "before-title", i))
        elif features[i].link_dense:
            drops.append(("link-dense", i))
        elif page.tags[e] == "h1" or (
            len(block.text) <= title_chars and _word_key(block.text) in title_keys
        ):
            drops.append(("title", i))
        else:
            kept.append(i)
    edge = _edge_lines(page, features, kept, container)
    drops.extend(("short-edge", i) for i in edge)
    kept = [i for i in kept if i not in edge]
    # The paragraphs that close many articles are the site talking, not the
    # story: newsletter and subscription pitches, "follow us", contact lines.
    while kept and _is_call_to_action(blocks[kept[-1]].text):
        drops.append(("call-to-action", kept.pop()))
    _audit(log, [*page.skimmed, *((rule, blocks[i].text) for rule, i in drops)])
    out = (_normalise(blocks[i].text) for i in kept)
    # Blocks of invisible characters only are empty once normalised.
    return [p for p in out if p]


def _audit(log: RemovalLog, dropped: list[tuple[str, str]]) -> None:
    """One log entry per rule: counts, characters and the first few texts."""
    by_rule: dict[str, tuple[int, int, list[str]]] = {}
    for rule, text in dropped:
        count, chars, samples = by_rule.get(rule, (0, 0, []))
        if len(samples) < _SAMPLES:
            samples.append(text)
        by_rule[rule] = (count + 1, chars + len(text), samples)
    for rule, (count, chars, samples) in by_rule.items():
        log.add_count(rule, count, chars, *samples)


def _normalise(text: str) -> str:
    """``normalise_line`` for block text, whose spaces are already collapsed:
    most blocks are NFC and free of invisible characters, and checking that is
    much cheaper than rewriting them."""
    if text.isascii() or (
        unicodedata.is_normalized("NFC", text) and not _INVISIBLE.search(text)
    ):
        return text
    return normalise_line(text)
