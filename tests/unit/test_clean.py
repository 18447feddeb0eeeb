"""clean: RawArticle -> CleanArticle (HTML main text, plain-text lines, metadata)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from worker.inputs import decode_page
from worker.pipeline.clean import CleanOptions, clean_article
from worker.pipeline.dedup import content_hash
from worker.pipeline.records import CleanArticle, Origin, RawArticle, Rejection
from worker.pipeline.text import words
from worker.schemas import validator


def clean(raw: RawArticle, **kwargs: Any) -> CleanArticle:
    result = clean_article(raw, **kwargs)
    assert isinstance(result, CleanArticle), f"expected a clean article, got {result!r}"
    return result


def page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


P1 = "The Harbour Bridge in Port Almery reopened to traffic on Thursday morning after repairs."
P2 = "Engineers replaced the corroded deck plates and repainted the steel arches of the span."
P3 = "Commuters had faced detours of up to forty minutes while the crossing was closed."


# --- HTML: the fixture page -------------------------------------------------


@pytest.fixture
def harbour(fixtures_dir: Path) -> CleanArticle:
    html = (fixtures_dir / "harbour-bridge.html").read_text(encoding="utf-8")
    return clean(RawArticle(url="https://coastal-ledger.example/story?id=991", html=html))


def test_html_metadata(harbour: CleanArticle) -> None:
    assert harbour.title == "Harbour bridge reopens after two-year repair"  # og:title wins
    assert harbour.published_at == "2024-03-14T08:30:00Z"
    assert harbour.authors == ["Mara Ellison"]
    # article:tag and keywords, in order, without repeats
    assert harbour.tags == ["Transport", "Infrastructure", "Harbour"]


def test_html_canonical_link_wins_over_fetched_url_and_is_canonicalised(
    harbour: CleanArticle,
) -> None:
    assert harbour.url == "https://coastal-ledger.example/story?id=991"
    assert harbour.canonical_url == "https://coastal-ledger.example/news/harbour-bridge-reopens"
    assert harbour.source == "coastal-ledger.example"


def test_html_body_is_the_article_paragraphs_separated_by_blank_lines(
    harbour: CleanArticle,
) -> None:
    paragraphs = harbour.body.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("The Harbour Bridge in Port Almery reopened")
    assert paragraphs[1].startswith("Engineers replaced the corroded deck plates")
    assert paragraphs[2].startswith("Commuters had faced detours")
    assert all(p == p.strip() and "\n" not in p for p in paragraphs)


def test_html_non_content_is_removed(harbour: CleanArticle) -> None:
    for marker in ("SCRIPT", "NAV_", "FOOTER_", "ASIDE_", "color:red", "Home"):
        assert marker not in harbour.body
    assert harbour.clean["method"] == "html-density"
    removed = {r["rule"]: r for r in harbour.clean["removed"]}
    assert sum(r["count"] for r in removed.values() if r["rule"].startswith("element:")) >= 6
    assert {"element:script", "element:nav", "element:footer"} <= set(removed)
    assert harbour.clean["removed_chars"] > 0


def test_html_fingerprints_describe_the_body(harbour: CleanArticle) -> None:
    assert harbour.fingerprints.body_words == len(words(harbour.body))
    assert harbour.fingerprints.content_hash == content_hash(harbour.body)


def test_main_text_wins_over_sidebars_and_teaser_lists() -> None:
    html = page(
        '<div class="layout">'
        '<div class="teasers"><ul>'
        '<li><a href="/a">Council votes on parking fees</a></li>'
        '<li><a href="/b">Five walks for the autumn</a></li>'
        '<li><a href="/c">School opens a new science wing</a></li>'
        "</ul></div>"
        f'<div class="story"><p>{P1}</p><p>{P2}</p><blockquote>{P3}</blockquote></div>'
        '<div class="promo"><p>Subscribe today.</p></div>'
        "</div>"
    )
    article = clean(RawArticle(url="https://coastal-ledger.example/a", html=html))
    assert article.body == f"{P1}\n\n{P2}\n\n{P3}"


def test_nested_paragraph_tags_are_not_repeated() -> None:
    html = page(f"<article><ul><li><p>{P1}</p></li><li><p>{P2}</p></li></ul><p>{P3}</p></article>")
    article = clean(RawArticle(url=None, html=html))
    assert article.body.count(P1) == 1
    assert article.body.count(P2) == 1


def _well_formed(body: str) -> bool:
    """The body format: non-empty one-line paragraphs separated by one blank line."""
    return all(p and p == p.strip() and "\n" not in p for p in body.split("\n\n"))


def test_source_line_breaks_inside_html_elements_are_spaces() -> None:
    html = (
        "<html><head><title>Harbour bridge\n   reopens</title></head><body>"
        "<p>The bridge reopened\non Thursday after\r\n\n  two years of repairs.</p>"
        "<p>Traffic was light<br>in the first hour.</p></body></html>"
    )
    article = clean(RawArticle(url=None, html=html))
    assert article.title == "Harbour bridge reopens"
    assert article.body == (
        "The bridge reopened on Thursday after two years of repairs.\n\n"
        "Traffic was light in the first hour."
    )
    assert _well_formed(article.body)


def test_html_without_paragraph_tags_falls_back_to_the_visible_text() -> None:
    html = page("<div>Ferry timetable changes from Monday for the island routes.</div>")
    article = clean(RawArticle(url="https://coastal-ledger.example/a", html=html))
    assert article.body == "Ferry timetable changes from Monday for the island routes."


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        (
            '<meta name="twitter:title" content="Twitter headline"><title>Doc title</title>',
            "<h1>H1 headline</h1>",
            "Twitter headline",
        ),
        ("<title>  Doc   title  </title>", "<h1>H1 headline</h1>", "Doc title"),
        ("", "<h1>H1 headline</h1>", "H1 headline"),
        ("", "", None),
    ],
)
def test_html_title_fallbacks(head: str, body: str, expected: str | None) -> None:
    html = page(f"{body}<p>{P1}</p>", head=head)
    assert clean(RawArticle(url=None, html=html)).title == expected


def test_given_title_and_published_at_win_over_page_metadata() -> None:
    html = page(
        f"<p>{P1}</p>",
        head='<meta property="og:title" content="Page title">'
        '<meta property="article:published_time" content="2024-01-01T00:00:00Z">',
    )
    raw = RawArticle(
        url=None, html=html, title="Crawler title", published_at="2024-02-02T10:00:00Z"
    )
    article = clean(raw)
    assert article.title == "Crawler title"
    assert article.published_at == "2024-02-02T10:00:00Z"


def test_published_at_from_a_time_element() -> None:
    html = page(f'<time datetime="2024-06-30T18:00:00+02:00">30 June</time><p>{P1}</p>')
    assert clean(RawArticle(url=None, html=html)).published_at == "2024-06-30T18:00:00+02:00"


def test_og_url_is_used_when_there_is_no_canonical_link() -> None:
    html = page(
        f"<p>{P1}</p>",
        head='<meta property="og:url" content="https://www.coastal-ledger.example/n/9/">',
    )
    article = clean(RawArticle(url="https://coastal-ledger.example/print/9", html=html))
    assert article.canonical_url == "https://coastal-ledger.example/n/9"


def test_unusable_page_canonical_falls_back_to_the_fetched_url() -> None:
    html = page(f"<p>{P1}</p>", head='<link rel="canonical" href="javascript:void(0)">')
    article = clean(RawArticle(url="https://coastal-ledger.example/n/9?utm_source=x", html=html))
    assert article.canonical_url == "https://coastal-ledger.example/n/9"


def test_html_wins_when_both_html_and_text_are_given() -> None:
    raw = RawArticle(url=None, html=page(f"<p>{P1}</p>"), text="Other headline\nOther text.")
    article = clean(raw)
    assert article.body == P1
    assert article.clean["method"] == "html-density"


# --- Unicode ------------------------------------------------------------------


def test_html_text_is_nfc_without_zero_width_characters() -> None:
    decomposed = "The cafe\u0301 on Ma\u200bin Street re\u00adopened with a\u00a0new menu."
    article = clean(RawArticle(url=None, html=page(f"<p>{decomposed}</p>")))
    assert article.body == "The caf\u00e9 on Main Street reopened with a new menu."


def test_composed_and_decomposed_inputs_give_the_same_article() -> None:
    composed = "Z\u00fcrich tram strike ends\nDrivers in Z\u00fcrich returned to work."
    decomposed = "Zu\u0308rich tram strike ends\nDrivers in Zu\u0308rich\u200b returned to work."
    a = clean(RawArticle(url="https://alpine.example/a", text=composed))
    b = clean(RawArticle(url="https://alpine.example/a", text=decomposed))
    assert (a.title, a.body, a.article_id) == (b.title, b.body, b.article_id)


# --- plain text -----------------------------------------------------------------


def test_plain_text_headline_is_the_first_line(fixtures_dir: Path) -> None:
    text = (fixtures_dir / "council-budget.txt").read_text(encoding="utf-8")
    article = clean(RawArticle(url="https://riverton-gazette.example/budget", text=text))
    assert article.title == "Riverton council approves budget with more weekend buses"
    paragraphs = article.body.split("\n\n")
    assert article.title not in paragraphs
    # The photo credit, the share line and the tag line are boilerplate, not body.
    assert paragraphs[0].startswith("The Riverton town council approved its budget")
    assert paragraphs[-1].startswith("Opposition members criticised")
    assert len(paragraphs) == 4
    assert article.tags == ["Riverton", "Council", "Transport"]
    assert article.image == {"url": None, "caption": None, "credit": "Riverton Gazette staff"}
    assert article.clean["method"] == "plain-lines"


def test_plain_text_skips_blank_lines_and_normalises_each_line() -> None:
    text = (
        "\n\n  Storm   closes\u00a0coast road  \n\n\n"
        "The road reopened at noon.\n   \nCrews cleared it.\n"
    )
    article = clean(RawArticle(url=None, text=text))
    assert article.title == "Storm closes coast road"
    assert article.body == "The road reopened at noon.\n\nCrews cleared it."


def test_given_title_that_differs_keeps_the_first_line_as_body() -> None:
    raw = RawArticle(
        url=None, text="Crews cleared the road.\nIt reopened at noon.", title="Road open"
    )
    article = clean(raw)
    assert article.title == "Road open"
    assert article.body == "Crews cleared the road.\n\nIt reopened at noon."


def test_given_title_equal_to_first_line_is_not_repeated_in_body() -> None:
    raw = RawArticle(url=None, text="Road open\nIt reopened at noon.", title=" Road  open ")
    article = clean(raw)
    assert article.title == "Road open"
    assert article.body == "It reopened at noon."


# --- rejections and options --------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        RawArticle(url="https://a.example/x"),  # URL only: nothing to clean
        RawArticle(url="https://a.example/x", html="   \n "),
        RawArticle(url="https://a.example/x", text=" \n\t\n"),
        RawArticle(url="https://a.example/x", text="Only a headline"),
        RawArticle(url="https://a.example/x", html=page("<nav>Home News Sport</nav>")),
        RawArticle(
            url="https://a.example/x", html=page("<script>track()</script><footer>(c)</footer>")
        ),
    ],
    ids=["url-only", "blank-html", "blank-text", "headline-only", "nav-only", "script-footer"],
)
def test_empty_body_is_rejected(raw: RawArticle) -> None:
    result = clean_article(raw)
    assert isinstance(result, Rejection)
    assert (result.reason, result.stage) == ("empty_body", "clean")


def test_min_body_words_option() -> None:
    raw = RawArticle(url=None, text="Headline\nThree words here.")
    assert isinstance(clean_article(raw, options=CleanOptions(min_body_words=3)), CleanArticle)
    rejected = clean_article(raw, options=CleanOptions(min_body_words=4))
    assert isinstance(rejected, Rejection)
    assert rejected.reason == "empty_body"


# --- passthrough and identity -------------------------------------------------


def test_origin_extra_and_hints_pass_through() -> None:
    origin = Origin("articles.raw", 3, 1207, b"key")
    raw = RawArticle(
        url="https://riverton-gazette.example/a",
        text="Headline\nBody text.",
        source="Riverton Gazette",
        fetched_at="2024-02-20T09:01:00Z",
        language="en",
        extra={"feed_id": "rg-local"},
    )
    article = clean(raw, origin=origin)
    assert article.origin == origin
    assert article.extra == {"feed_id": "rg-local"}
    assert article.source == "Riverton Gazette"
    assert article.fetched_at == "2024-02-20T09:01:00Z"
    assert article.language_hint == "en"


def test_source_defaults_to_the_host_of_the_url() -> None:
    raw = RawArticle(url="https://www.riverton-gazette.example/a", text="Headline\nBody text.")
    assert clean(raw).source == "riverton-gazette.example"
    assert clean(RawArticle(url=None, text="Headline\nBody text.")).source is None


def test_article_id_is_deterministic_and_depends_on_url_and_body() -> None:
    def article_id(url: str | None, text: str) -> str:
        return clean(RawArticle(url=url, text=text)).article_id

    url = "https://riverton-gazette.example/a"
    first = article_id(url, "Headline\nBody text.")
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert article_id(url, "Headline\nBody text.") == first
    assert article_id(url + "?utm_campaign=spring", "Headline\nBody text.") == first
    assert article_id(url, "Headline\nDifferent body text.") != first
    assert article_id("https://riverton-gazette.example/b", "Headline\nBody text.") != first
    assert article_id(None, "Headline\nBody text.") != first


# --- shared corpus -------------------------------------------------------------


def _shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    tokens = [t.lower() for t in words(text)]
    return {tuple(tokens[i : i + n]) for i in range(max(len(tokens) - n + 1, 1))}


def _f1(predicted: str, truth: str) -> float:
    p, t = _shingles(predicted), _shingles(truth)
    common = len(p & t)
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(t)
    return 2 * precision * recall / (precision + recall)


def test_extraction_dev_pages_clean_into_valid_records(corpus: Path) -> None:
    """Every real page becomes a schema-valid CleanArticle (or an empty_body
    rejection, never an exception), and extraction quality stays above a floor
    well under the measured score: a regression guard, not a benchmark."""
    root = corpus / "extraction-dev"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    validate = validator("clean")
    scores: list[float] = []
    for page_id, expected in sorted(truth.items()):
        html = decode_page(gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes()))
        result = clean_article(RawArticle(url=expected.get("url"), html=html))
        if isinstance(result, Rejection):
            assert result.reason == "empty_body", page_id
            scores.append(0.0)
            continue
        assert validate(result.to_dict()) is None, page_id
        assert _well_formed(result.body), page_id
        scores.append(_f1(result.body, expected["articleBody"]))
    assert len(scores) == len(truth) > 0
    assert sum(scores) / len(scores) >= 0.7


def test_seed_article_headline_is_its_first_line(corpus: Path) -> None:
    seeds = sorted((corpus / "seed").glob("*.txt"))
    if not seeds:
        pytest.skip(f"no seed article in {corpus / 'seed'}")
    text = seeds[0].read_text(encoding="utf-8")
    first_line = next(line.strip() for line in text.splitlines() if line.strip())
    article = clean(RawArticle(url=None, text=text))
    assert article.title == " ".join(first_line.split())
    assert article.fingerprints.body_words > 100
