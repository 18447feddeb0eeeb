"""Scraped plain text -> Extraction: headline, body paragraphs, tags and photo credit.

A scraped page has its headline on the first line and every visible line of
the page after it: menus, share buttons, photo credits, teasers of other
stories, comments, footers and a trailing tag line. The article is usually one
contiguous run of long, sentence-like lines, so the extractor

1. flags lines by what they say: a tag line, a photo credit, share or
   navigation words, a cookie notice or copyright line, a line the page prints
   twice, a line the source prints on most of its pages (``SourceLines``), and
   the headline printed again above the article;
2. scores every line by how much it reads like prose (length, final
   punctuation, few Title-Case link words) and takes the run of lines with the
   highest total, a maximum-subarray search: long paragraphs pay for the
   subheads and ads between them, but not for a menu between the article and a
   teaser. The run starts at the repeated headline when the page has one, ends
   at a comment section, and takes in a list or table that the article
   introduces;
3. keeps the prose of that run, and its short lines where they read as body:
   a subhead or quote before a paragraph, a short list between paragraphs, a
   list or table of any length.

Every dropped line is recorded in ``Extraction.removed`` under the rule that
dropped it. Lengths are counted in words, a character of a script written
without spaces (Chinese, Japanese, Thai) counting half a word, so the same
thresholds hold for every language.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from worker.pipeline.boilerplate import SourceLines
from worker.pipeline.extraction import Budget, Extraction
from worker.pipeline.text import normalise_line

# --- tunables (measured on bench/extract.py's plain-text set) -----------------

# A line of at least this many words is prose even without final punctuation;
# a sentence-like line (final punctuation) needs _SENTENCE_WORDS.
_PROSE_WORDS = 20
_SENTENCE_WORDS = 4
# A line's region score is its (weighted) length minus this: lines shorter
# than it pull a region's total down.
_REGION_OFFSET = 7.0
_FLAGGED_SCORE = -6.0  # the region score of a line a rule has flagged
# A region total worth calling an article, a couple of real paragraphs.
_ENOUGH_BODY = 40.0
# The repeated headline starts the article unless the region after it holds
# less than this share of the best region (the headline was a teaser's).
_AFTER_HEADLINE = 0.25
_HEADLINE_SLACK = 3  # lines before the repeated headline that may be body (a kicker)
# A prose line with no other prose line within this many lines on either side
# is a teaser blurb, not a paragraph.
_ISOLATION = 3
# More short lines in a row than this, between paragraphs, is a menu.
_SHORT_RUN = 6
_MIN_LIST = 3  # items of a list or rows of a table
_LIST_ITEM_SCORE = 0.5  # region score per word of an item of an introduced list
_MAX_HEADLINE_WORDS = 40  # a longer first line is a paragraph, not a headline
# Hard-wrapped text: at least _WRAPPED_SHARE of the lines that another line
# follows end within _WRAP_SLACK characters of one width in [_MIN_WRAP, _MAX_WRAP].
_MIN_WRAP, _MAX_WRAP, _WRAP_SLACK = 40, 100, 12
_WRAPPED_SHARE = 0.6
_MIN_WRAPPED_LINES = 5
_MAX_TAG_WORDS = 5  # in one tag
_MAX_TAG_LINES = 20  # under one tag heading
# Rules that leave a line free to be a tag under a tag heading.
_MAYBE_TAG = (None, "outside-body-region", "short-line", "repeated", "isolated-line")

# --- line features ----------------------------------------------------------------

_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+")
_CLOSERS = "\"'\u201d\u2019\u00bb)\\]\u300d\u300f"
# Full stops, question and exclamation marks of Latin, CJK, Arabic and Indic scripts.
_TERMINAL = re.compile(
    rf"[.!?\u2026\u3002\uff01\uff0e\uff1f\u061f\u06d4\u0964:;][{_CLOSERS}]*$"
)
_INTRODUCES = (":", "\uff1a")
# Separators between the headline and the site name in a <title>.
_TITLE_SEPARATORS = re.compile(r"\s+[|\-\u2013\u2014:\u00b7\u00bb/]+\s+")

# --- vocabularies: generic words, no site names --------------------------------

_TAG_LABEL = re.compile(
    r"^(?:tags?|tagged(?: with| in)?|topics?|related topics|keywords|filed under"
    r"|schlagw\u00f6rter|etiquetas)\b\s*[:\-\u2013]?\s*",
    re.IGNORECASE,
)
_TAG_SEPARATORS = re.compile(r"\s*[,;|\u00b7\u2022#]\s*")
# Names end at punctuation other than an abbreviation's full stop or a hyphen.
_NAME_BREAK = re.compile(r"[^\w\s'\u2019.-]+|\.\s")
_GLUED = re.compile(r"(?<=[a-z\u00df-\u00ff]{2})(?=[A-Z\u00c0-\u00de])")
_CREDIT_LABEL = re.compile(
    r"\b(?:photo(?:graph)?s?|images?|pictures?|foto|bild|illustration|credit)"
    r"\s*(?:credit)?\s*(?::|\.\.\.|\u2026|\bby\b)\s*",
    re.IGNORECASE,
)
_CREDIT_TAIL = re.compile(r"\b(?:images?|photos?|pictures?)\s*\)?$", re.IGNORECASE)
_COPYRIGHT = re.compile(r"\u00a9|\(c\)\s*\d{4}|\ball rights reserved\b|\bcopyright\b", re.I)
_COOKIES = re.compile(r"\bcookies?\b", re.IGNORECASE)
_COOKIE_CONTEXT = re.compile(
    r"\b(?:websites?|site|browser|browsing|consent|privacy|experience|accept|settings)\b",
    re.IGNORECASE,
)
_SHARE_VOCABULARY = (
    "share shares sharing tweet facebook twitter whatsapp linkedin pinterest reddit email "
    "e-mail mail print messenger telegram instagram youtube tumblr flipboard copy link "
    "google comment comments pocket sms on via this article story social media network "
    "networks friends x"
)
# Share widgets often lose their spaces ("FacebookTwitterPinterestEmail"): a
# share line is share words end to end once spaces and symbols are gone.
_SHARE_WORDS = sorted({w.replace("-", "") for w in _SHARE_VOCABULARY.split()}, key=len)
_SHARE_LINE = re.compile("(?:" + "|".join(reversed(_SHARE_WORDS)) + ")+")
_NAV_VOCABULARY = (
    "home menu search log login logout sign in up out register subscribe subscription "
    "subscriptions newsletter newsletters more load read see view show all next previous prev "
    "back top skip to content main navigation sections section most popular trending latest "
    "recommended related stories articles news video videos photos gallery galleries "
    "advertisement advertising advert ad ads sponsored contact us about privacy policy terms "
    "of use service cookie cookies settings sitemap site map help faq jobs careers follow "
    "feedback accessibility continue reading story the and for you your our page watch "
    "listen live now today close open toggle account my profile edit"
)
_NAV_WORDS = frozenset(_NAV_VOCABULARY.split())
_NAV_START = re.compile(
    r"^(?:see|view|show|load|read|watch|click|tap|continue|skip|back to|go to|sign|log|"
    r"subscribe|follow us|advertisement|sponsored|most (?:popular|read|viewed|shared))\b",
    re.IGNORECASE,
)
# The heading of a comment section ("167 comments", "Leave a reply"): readers'
# comments read like prose, but they are not the article.
_COMMENTS = re.compile(
    r"comment(?!ar)|coment|kommentar|\u043a\u043e\u043c\u043c\u0435\u043d\u0442\u0430\u0440"
    r"|\ub313\uae00|\u8bc4\u8bba|\u8a55\u8ad6|\u30b3\u30e1\u30f3\u30c8"
    r"|\brepl(?:y|ies)\b|\bdiscussion\b|\bconversation\b",
    re.IGNORECASE,
)
_NOT_LETTERS = re.compile(r"[\W\d_]+")
_URL_START = re.compile(r"(?:https?://|www\.)", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r"\s(?:--?|[\u2013\u2014])\s|[:|@(),;/]")


@dataclass(slots=True)
class _Line:
    text: str
    size: float  # words; a character of an unspaced script counts half
    terminal: bool  # ends like a sentence (or introduces something, with a colon)
    caps: float  # share of words starting with a capital: menus are Title Case
    words: list[str]  # case-folded
    rule: str | None = None  # why the line is dropped; None while it is kept

    @property
    def prose(self) -> bool:
        return self.size >= _PROSE_WORDS or (self.terminal and self.size >= _SENTENCE_WORDS)

    @property
    def introduces(self) -> bool:
        return self.text.endswith(_INTRODUCES)


def _measure(text: str) -> _Line:
    unspaced = len(_UNSPACED.findall(text))
    tokens = _WORD.findall(_UNSPACED.sub(" ", text) if unspaced else text)
    alpha = [t[0] for t in tokens if not t.isdigit()]
    caps = sum(map(str.isupper, alpha)) / len(alpha) if alpha else 0.0
    size = len(tokens) + unspaced / 2
    return _Line(text, size, bool(_TERMINAL.search(text)), caps, _folded_words(text))


def _folded_words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


# --- rules ------------------------------------------------------------------------


def photo_credit(text: str) -> str | None:
    """The credit a photo-credit line gives ("Photo: Jane Roe/Agency" -> "Jane
    Roe/Agency", "Getty Images" -> itself), or None for any other line."""
    return _credit(_measure(text))


def _credit(line: _Line) -> str | None:
    text = line.text
    if line.size > 30:
        return None
    label = _CREDIT_LABEL.search(text)
    if label and (
        label.start() == 0
        or "credit" in label.group().lower()  # "Caption.Credit...Name", "(Image credit: Name)"
        or (line.size <= 12 and not line.terminal)
    ):
        return text[label.end() :].strip(" )]") or None
    if 2 <= line.size <= 6 and not line.terminal and _CREDIT_TAIL.search(text):
        return text.strip("()[] ")
    if line.size <= 10 and text.startswith("(") and "/" in text:  # "(AP Photographer/Agency)"
        return text.strip("()[] ")
    return None


def _is_share(line: _Line) -> bool:
    if line.size > 12:
        return False
    squashed = _NOT_LETTERS.sub("", line.text.casefold())
    return bool(squashed) and _SHARE_LINE.fullmatch(squashed) is not None


def _is_navigation(line: _Line) -> bool:
    if line.size > 8 or (line.terminal and line.size > 3):
        return False
    words = line.words
    if not words:
        return True  # arrows, bullets, separators
    if _NAV_START.match(line.text):
        return True
    return sum(w in _NAV_WORDS for w in words) >= 0.75 * len(words)


def _rule(line: _Line) -> str | None:
    text = line.text
    if _TAG_LABEL.match(text) and line.size <= 40 and not line.terminal:
        return "tags-line"
    if _credit(line) is not None:
        return "photo-credit"
    if _is_share(line):
        return "share"
    if _COOKIES.search(text) and _COOKIE_CONTEXT.search(text):
        return "cookie-notice"
    if line.size <= 25 and _COPYRIGHT.search(text):
        return "copyright"
    if _is_navigation(line):
        return "navigation"
    return None


def _is_headline(line: _Line, headline: set[str], words: set[str]) -> bool:
    """The page's headline printed again: the first line, its longest part
    between separators, or a line made of the headline's words."""
    if line.text.casefold() in headline:
        return True
    own = set(line.words)
    if len(own) < 3 or not words:
        return False
    common = len(own & words)
    return common >= 0.8 * len(own) and common >= 0.6 * len(words)


def _headline_forms(title: str | None) -> tuple[set[str], set[str]]:
    """The headline as pages repeat it: the whole <title> line and its longest
    part between site-name separators ("Headline | Site"), and that part's words."""
    if title is None:
        return set(), set()
    forms = {title.casefold()}
    longest = max(_TITLE_SEPARATORS.split(title), key=len)
    if len(longest) >= 0.4 * len(title) and _measure(longest).size >= 3:
        forms.add(longest.casefold())
    return forms, set(_folded_words(longest))


def _flag(
    lines: list[_Line], title: str | None, known: SourceLines | None
) -> dict[str, list[int]]:
    """Set each line's rule from what it says; return where repeated lines are."""
    where: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        where.setdefault(" ".join(line.words) or line.text, []).append(i)
    repeats = {key: at for key, at in where.items() if len(at) > 1}
    repeated = {i for at in repeats.values() for i in at}
    forms, words = _headline_forms(title)

    def generic(i: int, line: _Line) -> str | None:
        if _is_headline(line, forms, words):
            return "title"
        return _rule(line) or ("repeated" if i in repeated else None)

    for i, line in enumerate(lines):
        learned = known is not None and known.is_boilerplate(line.text)
        line.rule = "learned-boilerplate" if learned else generic(i, line)
    if known is not None and not any(line.prose and line.rule is None for line in lines):
        # What a source usually prints can't be all of an article: the
        # statistics do not fit this one (a source sending one text again).
        for i, line in enumerate(lines):
            if line.rule == "learned-boilerplate":
                line.rule = generic(i, line)
    return repeats


# --- the body region --------------------------------------------------------------


def _score(line: _Line) -> float:
    if line.rule is not None:
        return _FLAGGED_SCORE
    value = line.size
    if not line.terminal:
        value *= 0.5
    if line.caps > 0.6 and line.size > 3:
        value *= 0.5
    return value - _REGION_OFFSET


def _best_region(scores: list[float], first: int) -> tuple[int, int, float]:
    """The [start, end) run of lines from ``first`` on with the highest total
    score, and that total (Kadane's maximum subarray)."""
    best, span = float("-inf"), (first, first)
    total, start = 0.0, first
    for i in range(first, len(scores)):
        if total <= 0:
            total, start = 0.0, i
        total += scores[i]
        if total > best:
            best, span = total, (start, i + 1)
    return span[0], span[1], best


def _find_region(lines: list[_Line], scores: list[float]) -> tuple[int, int, float]:
    start, end, total = _best_region(scores, 0)
    anchor = next((i for i, line in enumerate(lines) if line.rule == "title"), 0)
    if anchor > start + _HEADLINE_SLACK:
        # Pages print the headline again right above the article; prose before
        # it is teasers of other stories. Unless the headline comes back only
        # after the article, in a list of links.
        after = _best_region(scores, anchor - _HEADLINE_SLACK)
        if after[2] >= min(_AFTER_HEADLINE * total, _ENOUGH_BODY):
            return after
    return start, end, total


def _isolated_prose(lines: list[_Line]) -> list[int]:
    """Prose lines with only short lines for ``_ISOLATION`` lines on each side:
    the blurbs of a teaser list (kicker, headline, blurb, byline, date), where
    an article's paragraphs come in runs."""
    prose = [line.prose and line.rule is None for line in lines]
    isolated: list[int] = []
    last = -_ISOLATION - 1
    for i, is_prose in enumerate(prose):
        if is_prose:
            if i - last > _ISOLATION and not any(prose[i + 1 : i + 1 + _ISOLATION]):
                isolated.append(i)
            last = i
    return isolated


def _comments_cut(lines: list[_Line], scores: list[float], start: int, end: int) -> int:
    """The region's end, moved up to a comment-section heading that follows
    enough of the article."""
    body = 0.0
    for i in range(start, end):
        line = lines[i]
        heading = line.size <= 6 and (not line.terminal or line.text.endswith(("...", "\u2026")))
        if body >= _ENOUGH_BODY and heading and _COMMENTS.search(line.text):
            return i
        body += max(scores[i], 0.0)
    return end


# --- lists and tables -------------------------------------------------------------


def _shape(text: str) -> tuple[str, str]:
    """What items of one list share: how the line starts (a number, a link, a
    word) and its first separator ("June 9 -- Arena, City")."""
    first = "url" if _URL_START.match(text) else "digit" if text[:1].isdigit() else "word"
    separator = _LIST_SEPARATOR.search(text)
    return first, separator.group().strip() if separator else ""


def _list_end(lines: list[_Line], i: int, limit: int, introduced: bool) -> int:
    """The end of the list or table starting at line ``i``, or ``i`` if there is
    none: at least three short lines of one shape, or of two alternating shapes
    (an item and its link). Lines that are just words make a list only when a
    line introduces them with a colon."""
    shapes: list[tuple[str, str]] = []
    k = i
    while k < limit and lines[k].rule is None and lines[k].size < _PROSE_WORDS:
        shape = _shape(lines[k].text)
        if len(shapes) >= 2 and shape not in shapes[-2:]:
            break
        if len(shapes) == 2 and shapes[0] != shapes[1] and shape != shapes[0]:
            break
        shapes.append(shape)
        k += 1
    if k - i < _MIN_LIST or (not introduced and shapes[0] == ("word", "")):
        return i
    return k


def _score_introduced_lists(lines: list[_Line], scores: list[float]) -> None:
    """Score the items of a list or table that a line introduces ("Final
    standings:") as text: one by one they are short, together they are body."""
    i = 0
    while i < len(lines):
        if lines[i].rule is None and lines[i].introduces:
            for first in (i + 1, i + 2):  # a table may have a header row
                stop = _list_end(lines, first, len(lines), introduced=True)
                if stop > first:
                    for k in range(i + 1, stop):
                        scores[k] = max(scores[k], _LIST_ITEM_SCORE * lines[k].size)
                    i = stop - 1
                    break
        i += 1


def _extend_with_list(lines: list[_Line], end: int) -> int:
    """The region's end, moved past a list that its last line introduces ("The
    tour dates:") or that follows under a short heading."""
    if end == 0 or end >= len(lines):
        return end
    if lines[end - 1].introduces and lines[end - 1].rule is None:
        for first in (end, end + 1):  # a table may have a header row
            stop = _list_end(lines, first, len(lines), introduced=True)
            if stop > first:
                return stop
    heading = lines[end]
    if heading.rule is None and heading.size <= 12 and (not heading.terminal or heading.introduces):
        stop = _list_end(lines, end + 1, len(lines), introduced=heading.introduces)
        if stop > end + 1:
            return stop
    return end


def _drop_short_lines(lines: list[_Line], start: int, end: int) -> None:
    """Flag the short lines of the body region that don't read as body. A run
    of short lines is kept as a subhead or quote before a paragraph, a short
    list between paragraphs, or a list or table of any length; other runs are
    menus, bylines, datelines and widget labels."""
    i = start
    while i < end:
        if lines[i].rule is not None or lines[i].prose:
            i += 1
            continue
        k = i
        while k < end and lines[k].rule is None and not lines[k].prose:
            k += 1
        before = i > start and lines[i - 1].rule is None
        stop = _list_end(lines, i, k, introduced=before and lines[i - 1].introduces)
        if stop == i and k - i > _MIN_LIST:  # a list under a heading
            under = _list_end(lines, i + 1, k, introduced=lines[i].introduces)
            stop = under if under > i + 1 else i
        if stop > i:
            i = stop  # kept; what follows the list is judged on its own
            continue
        after = k < end and lines[k].rule is None
        if k - i == 1:
            keep = after and (lines[i].size >= 2 or lines[i].terminal)
        else:
            keep = after and before and k - i <= _SHORT_RUN
        if not keep:
            for j in range(i, k):
                lines[j].rule = "short-line"
        i = k


def _tag_items(lines: list[_Line], start: int) -> set[int]:
    """The lines under a bare tag heading ("Topics", "Tags:"), one tag each, as
    long as they are short and no rule took them for a menu or share bar. A
    heading above the article is a site menu's, not the article's."""
    items: set[int] = set()
    for i in range(max(start - _HEADLINE_SLACK, 0), len(lines)):
        if lines[i].rule != "tags-line" or not _TAG_LABEL.fullmatch(lines[i].text):
            continue
        for j in range(i + 1, min(i + 1 + _MAX_TAG_LINES, len(lines))):
            line = lines[j]
            if line.rule not in _MAYBE_TAG or line.size > _MAX_TAG_WORDS or line.terminal:
                break
            if len(line.text) >= 2:
                line.rule = "tags-line"
                items.add(j)
    return items


def _closes(line: _Line) -> bool:
    return line.rule is None and line.terminal and line.size >= 2 and not line.introduces


@dataclass(slots=True)
class _Page:
    lines: list[_Line]  # the lines after the headline; ``rule`` is set on dropped ones
    scores: list[float]
    start: int  # the body region: lines[start:end]
    end: int
    tag_items: set[int]  # lines that are one tag each, under a "Tags" or "Topics" heading


def _analyse(title: str | None, texts: list[str], known: SourceLines | None) -> _Page:
    """Decide every line of ``texts``, the lines after the headline ``title``."""
    lines = [_measure(t) for t in texts]
    repeats = _flag(lines, title, known)
    scores = [_score(line) for line in lines]
    _score_introduced_lists(lines, scores)
    isolated = _isolated_prose(lines)
    damped = scores.copy()
    for i in isolated:
        damped[i] = _FLAGGED_SCORE
    start, end, total = _find_region(lines, damped)
    if total >= _ENOUGH_BODY:
        scores = damped
    else:  # a short article: one paragraph among the menus is all there is
        isolated = []
        start, end, total = _find_region(lines, scores)
    if total <= 0:
        # No line reads like a paragraph of a page (a brief, a clean snippet):
        # whatever no rule flagged is the article.
        return _Page(lines, scores, 0, len(lines), _tag_items(lines, 0))
    end = _comments_cut(lines, scores, start, end)
    for at in repeats.values():
        # A line that repeats only inside the article, and not right after
        # itself, is its structure (a recipe's "Meal 1" ... "Meal 2"); menus
        # repeat outside it, widgets right after themselves.
        if start <= at[0] and at[-1] < end and all(b - a > 1 for a, b in pairwise(at)):
            for i in at:
                if lines[i].rule == "repeated":
                    lines[i].rule = None
    end = _extend_with_list(lines, end)
    for i in isolated:
        if lines[i].rule is None:
            lines[i].rule = "isolated-line"
    while end < len(lines) and _closes(lines[end]):
        end += 1  # a short last sentence ("Crews cleared it.") scores too low on its own
    _drop_short_lines(lines, start, end)
    for i, line in enumerate(lines):
        if line.rule is None and not start <= i < end:
            line.rule = "outside-body-region"
    return _Page(lines, scores, start, end, _tag_items(lines, start))


# --- tags -------------------------------------------------------------------------


def split_tags(line: str, text: str) -> list[str]:
    """The tags of a tag line, in order and without repeats. Separators split
    it when it has them; otherwise ("Tags Iraq Islamic State troops") it is cut
    into the fewest tags such that every multi-word tag is a name, a run of
    capitalised words, that ``text`` (the article) itself uses."""
    label = _TAG_LABEL.match(line)
    rest = line[label.end() :] if label else line
    if _TAG_SEPARATORS.search(rest):
        parts = [p.strip(" #") for p in _TAG_SEPARATORS.split(rest)]
        return list(dict.fromkeys(p for p in parts if p))
    tokens = [t for t in rest.split() if any(ch.isalnum() for ch in t)]
    names = _names(text, {token.casefold() for token in tokens})
    return list(dict.fromkeys(_segment(tokens, names)))


def _names(text: str, words: set[str]) -> Counter[str]:
    """Every stretch of two to ``_MAX_TAG_WORDS`` words of a run of capitalised
    words of ``text`` that starts with one of ``words``, case-folded: the names
    a tag can be, and how often the text uses them. Words that a page glued
    together ("Gov. Jane RoeJane Ann Roe", a name and its hover card) are also
    read apart."""
    names: Counter[str] = Counter()
    for variant in (text, _GLUED.sub(" ", text)):
        for chunk in _NAME_BREAK.split(variant):
            run: list[str] = []
            for word in [*chunk.split(), ""]:
                word = word.strip(".'\u2019")
                if word[:1].isupper():
                    run.append(word.casefold())
                    continue
                for a in range(len(run) - 1):
                    if run[a] not in words:
                        continue
                    for b in range(a + 2, min(a + _MAX_TAG_WORDS, len(run)) + 1):
                        names[" ".join(run[a:b])] += 1
                run = []
    return names


def _segment(tokens: list[str], names: Counter[str]) -> list[str]:
    """The fewest tags covering ``tokens``; between equally few, the one whose
    names the text uses most often."""
    n = len(tokens)
    # best[end] = ((tags, -uses of their names) for tokens[:end], start of the last tag)
    best: list[tuple[tuple[int, int], int]] = [((0, 0), 0)] + [((n + 1, 0), 0)] * n
    for end in range(1, n + 1):
        for begin in range(max(0, end - _MAX_TAG_WORDS), end):
            uses = 0
            if end - begin > 1:
                uses = names[" ".join(tokens[begin:end]).casefold()]
                if not uses:
                    continue
            (tags, minus_uses), _ = best[begin]
            cost = (tags + 1, minus_uses - uses)
            if cost < best[end][0]:
                best[end] = (cost, begin)
    out: list[str] = []
    end = n
    while end > 0:
        begin = best[end][1]
        out.append(" ".join(tokens[begin:end]))
        end = begin
    return out[::-1]


# --- entry point ------------------------------------------------------------------


def page_lines(text: str) -> list[str]:
    """The normalised, non-blank lines of a scraped page, as ``extract_text``
    reads them: what to feed ``SourceLines.observe`` after extracting. Text
    hard-wrapped at a fixed width (wire copy, e-mail) is unwrapped first."""
    lines = [normalise_line(raw) for raw in text.splitlines()]
    width = _wrap_width(lines)
    if width:
        joined: list[str] = []
        continues = False
        for line in lines:
            if line and continues:
                joined[-1] += " " + line
            else:
                joined.append(line)
            # A line that reaches the width was cut there; a shorter one ends its paragraph.
            continues = len(line) >= width - _WRAP_SLACK
        lines = joined
    return [line for line in lines if line]


def _wrap_width(lines: list[str]) -> int:
    """The width the text was hard-wrapped at, or 0: most lines followed by
    another line end within a few characters of one same width."""
    cut = [len(line) for line, after in pairwise(lines) if line and after]
    if len(cut) < _MIN_WRAPPED_LINES:
        return 0
    width = sorted(cut)[int(0.9 * (len(cut) - 1))]
    if not _MIN_WRAP <= width <= _MAX_WRAP:
        return 0
    near = sum(width - _WRAP_SLACK <= n <= width for n in cut)
    return width if near >= _WRAPPED_SHARE * len(cut) else 0


def extract_text(
    text: str, budget: Budget | None = None, known: SourceLines | None = None
) -> Extraction:
    """Headline, body paragraphs, tags and photo credit of a scraped page.

    ``known`` is the boilerplate learned so far for the page's source; lines it
    flags are dropped as "learned-boilerplate". Observe the page's lines into
    it only after this call, so a page never counts as evidence against itself.
    """
    out = Extraction(method="plain-lines")
    texts = page_lines(text)
    if budget is not None:
        budget.check()
    if not texts:
        return out
    title: str | None = texts[0]
    if _measure(texts[0]).size > _MAX_HEADLINE_WORDS:
        title = None  # a paragraph: the text has no headline line (a one-line dump)
    else:
        out.title = texts[0]
        out.removed.add("title", texts[0])
        texts = texts[1:]
    page = _analyse(title, texts, known)
    if budget is not None:
        budget.check()
    tag_lines: list[tuple[int, str]] = []
    for i, line in enumerate(page.lines):
        if line.rule is None:
            out.paragraphs.append(line.text)
            continue
        out.removed.add(line.rule, line.text)
        if line.rule == "tags-line":
            tag_lines.append((i, line.text))
        elif line.rule == "photo-credit" and out.image is None:
            out.image = {"url": None, "caption": None, "credit": _credit(line)}
    article = "\n".join([title or "", *out.paragraphs])
    for i, tag_line in tag_lines:
        tags = [tag_line] if i in page.tag_items else split_tags(tag_line, article)
        out.tags.extend(tag for tag in tags if tag not in out.tags)
    return out
