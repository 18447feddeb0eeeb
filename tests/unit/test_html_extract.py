"""html_extract: main text and metadata of news pages (synthetic pages written here)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from worker.inputs import decode_page
from worker.pipeline.extraction import Budget, ExtractTimeout, RemovalLog
from worker.pipeline.html_dom import vocabulary_rule
from worker.pipeline.html_extract import extract_html
from worker.pipeline.html_metadata import clean_names, clean_title
from worker.pipeline.text import words

# The story of every synthetic page: prose paragraphs of a made-up local report.
STORY = [
    "The Millbrook ferry resumed its crossings on Tuesday after engineers replaced the worn "
    "hydraulic ramp that had kept the vessel in dock for three weeks.",
    "Commuters who had driven the long way around the estuary said the closure added almost "
    "an hour to each journey, and several shops near the pier reported fewer customers.",
    "The operator said the new ramp was built to last twenty years and that a spare set of "
    "pumps would now be kept on the quay to shorten any future repairs.",
    "Timetables return to normal from Monday, with the first sailing at six in the morning "
    "and the last at half past ten at night, seven days a week.",
]


def page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def paragraphs(texts: list[str]) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def body_of(html: str, **kwargs: str) -> list[str]:
    return extract_html(html, **kwargs).paragraphs  # type: ignore[arg-type]


NAV = (
    '<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>'
    '<li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav>'
)
TEASERS = "".join(
    f'<div class="card"><h3><a href="/s/{i}">Another story about the harbour number {i}</a></h3>'
    f"<p>A short summary of another story that a reader might click on next, number {i}.</p>"
    "</div>"
    for i in range(5)
)


# --- main text ---------------------------------------------------------------


def test_article_paragraphs_win_over_navigation_and_teasers() -> None:
    html = page(
        f"{NAV}<main><article><h1>Ferry back in service</h1>{paragraphs(STORY)}</article>"
        f'<section class="more">{TEASERS}</section></main>'
    )
    assert body_of(html) == STORY


def test_a_body_split_by_an_advert_and_a_related_box_stays_whole() -> None:
    html = page(
        '<div class="story-body">'
        f'<div class="part">{paragraphs(STORY[:2])}</div>'
        '<div class="ad-slot">Advertisement</div>'
        '<div class="related"><h4>Related</h4><ul>'
        '<li><a href="/a">Bridge tolls to rise in spring</a></li>'
        '<li><a href="/b">Council approves new cycle lanes</a></li></ul></div>'
        f'<div class="part">{paragraphs(STORY[2:])}</div>'
        "</div>"
    )
    assert body_of(html) == STORY


def test_comments_are_not_the_article_even_when_they_are_long() -> None:
    comments = "".join(
        f'<div class="comment"><p>{t} I have lived here for years and agree entirely.</p></div>'
        for t in STORY
    )
    html = page(
        f'<article><div class="entry-content">{paragraphs(STORY[:3])}</div></article>'
        f'<section id="comments">{comments}</section>'
    )
    assert body_of(html) == STORY[:3]


def test_a_comment_thread_longer_than_the_article_is_still_not_the_article() -> None:
    thread = "".join(f"<p>{t} Just my view as a regular passenger.</p>" for t in STORY * 2)
    html = page(
        f'<article><div class="entry-content">{paragraphs(STORY[:1])}</div></article>'
        f'<section id="comments"><h3>8 responses</h3>{thread}</section>'
    )
    assert body_of(html) == STORY[:1]


def test_a_listing_of_teaser_cards_after_a_short_article_is_left_out() -> None:
    html = page(f"<div><article>{paragraphs(STORY[:1])}</article><div>{TEASERS}</div></div>")
    assert body_of(html) == STORY[:1]


def test_headline_byline_and_dateline_are_not_body() -> None:
    html = page(
        "<article><h1>Ferry back in service</h1>"
        '<div class="byline">By Ruth Okafor</div><time datetime="2024-05-07">7 May</time>'
        f'<div class="article-body">{paragraphs(STORY)}</div></article>',
        head='<meta property="og:title" content="Ferry back in service">',
    )
    assert body_of(html) == STORY


def test_figure_captions_and_credits_are_not_body() -> None:
    figure = (
        '<figure><img src="/img/ferry.jpg"><figcaption>The ferry leaving the quay'
        '<span class="credit">Photo: Dana Lee</span></figcaption></figure>'
    )
    html = page(f"<article>{paragraphs(STORY[:2])}{figure}{paragraphs(STORY[2:])}</article>")
    assert body_of(html) == STORY


def test_embedded_posts_the_article_quotes_are_kept() -> None:
    tweet = (
        '<div class="social-embed"><blockquote class="twitter-tweet">'
        "<p>Back on the water at last, see you on the six o'clock crossing!</p>"
        '&mdash; Millbrook Ferry (@millbrookferry) <a href="https://t.example/1">May 7</a>'
        "</blockquote></div>"
    )
    out = body_of(page(f"<article>{paragraphs(STORY[:2])}{tweet}{paragraphs(STORY[2:])}</article>"))
    assert "Back on the water at last, see you on the six o'clock crossing!" in out
    assert out[0] == STORY[0] and out[-1] == STORY[-1]


def test_hidden_elements_are_not_rendered_text() -> None:
    html = page(
        "<article>"
        f"<p>{STORY[0]}<span style='display: none'> HIDDEN-INLINE</span></p>"
        f'<div hidden><p>{STORY[1]} HIDDEN-BLOCK</p></div>'
        f'<div aria-hidden="true"><p>Decorative duplicate of the story text.</p></div>'
        f"{paragraphs(STORY[2:])}</article>"
    )
    assert body_of(html) == [STORY[0], *STORY[2:]]


def test_line_breaks_two_in_a_row_end_a_paragraph_one_is_a_space() -> None:
    html = page(
        "<div class='text'>The ferry resumed its crossings on Tuesday<br>after three weeks in "
        "dock.<br><br>Commuters said the closure had added an hour to each journey.<br/>"
        " <br/>Timetables return to normal from Monday.</div>"
    )
    assert body_of(html) == [
        "The ferry resumed its crossings on Tuesday after three weeks in dock.",
        "Commuters said the closure had added an hour to each journey.",
        "Timetables return to normal from Monday.",
    ]


def test_short_paragraphs_between_and_after_prose_are_kept() -> None:
    html = page(
        f"<article><div class='body'><p>{STORY[0]}</p><h2>What changes</h2><p>{STORY[1]}</p>"
        "<p>The mayor welcomed the news.</p></div></article>"
    )
    assert body_of(html) == [STORY[0], "What changes", STORY[1], "The mayor welcomed the news."]


def test_closing_newsletter_pitch_and_contact_line_are_dropped() -> None:
    html = page(
        f"<article><div class='body'>{paragraphs(STORY)}"
        "<p>Sign up for our free daily newsletter to get the harbour news first.</p>"
        "<p>Contact the reporter at ruth.okafor@millbrook-post.example.</p></div></article>"
    )
    assert body_of(html) == STORY


def test_a_wrapper_named_like_furniture_still_holds_the_article() -> None:
    html = page(
        f'<div class="content-with-sidebar"><div class="post">{paragraphs(STORY)}</div>'
        '<div class="sidebar"><p><a href="/x">Most read today</a></p></div></div>'
    )
    assert body_of(html) == STORY


def test_a_ticker_of_other_headlines_before_the_title_is_not_the_article() -> None:
    ticker = "".join(
        f'<li><a href="/t/{i}">Unrelated headline number {i} from elsewhere</a> and a long '
        f"summary line of that other story that runs on past the link itself, item {i}.</li>"
        for i in range(8)
    )
    html = page(
        f'<div class="main"><ul class="ticker">{ticker}</ul>'
        f"<h2>Ferry back in service</h2>{paragraphs(STORY)}</div>",
        head="<title>Ferry back in service | Millbrook Post</title>"
        '<meta property="og:site_name" content="Millbrook Post">',
    )
    assert body_of(html) == STORY


def test_a_round_up_whose_items_link_their_headings_is_the_article() -> None:
    items = "".join(
        f'<div class="item"><h3><a href="https://shop.example/{i}">Pick number {i}: a sturdy '
        f"ferry model</a></h3><p>{STORY[i]}</p><p>{STORY[(i + 1) % 4]}</p></div>"
        for i in range(4)
    )
    out = body_of(page(f"<article><p>{STORY[0]}</p>{items}</article>"))
    assert len(out) == 9 and out.count(STORY[1]) == 2


def test_a_page_hidden_from_screen_readers_behind_a_dialog_is_still_read() -> None:
    html = page(
        f'<div id="page" aria-hidden="true"><article>{paragraphs(STORY)}</article></div>'
        '<div role="dialog"><p>We use cookies to improve your experience.</p></div>'
    )
    assert body_of(html) == STORY


def test_the_headline_repeated_in_a_share_box_after_the_story_is_not_its_start() -> None:
    html = page(
        f"<article><h1>Ferry back in service</h1>{paragraphs(STORY)}"
        '<div class="share-tools"><h2>Ferry back in service</h2>'
        '<a href="/s">Share</a></div></article>',
        head='<meta property="og:title" content="Ferry back in service">',
    )
    assert body_of(html) == STORY


def test_jsonld_article_body_stands_in_for_a_page_rendered_by_scripts() -> None:
    ld = {"@type": "NewsArticle", "headline": "Ferry back", "articleBody": "\n".join(STORY)}
    html = page(
        '<div id="app">Loading…</div>',
        f'<script type="application/ld+json">{json.dumps(ld)}</script>',
    )
    out = extract_html(html)
    assert out.paragraphs == STORY
    assert out.method == "html-jsonld"
    ld["articleBody"] = "".join(f"<p>{t}</p>" for t in STORY)
    html = page("", f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    assert body_of(html) == STORY


def test_a_list_of_more_stories_after_the_article_is_dropped() -> None:
    more = "".join(
        f'<li>Harbour story {i} <a href="/m/{i}">you might also like</a></li>' for i in range(4)
    )
    html = page(f"<article><div class='body'>{paragraphs(STORY)}<ul>{more}</ul></div></article>")
    assert body_of(html) == STORY


def test_an_article_list_is_kept() -> None:
    items = ["Ramp replaced", "Pumps kept on the quay", "Normal timetable from Monday"]
    html = page(
        f"<article><div class='body'><p>{STORY[0]}</p>"
        f"<ul>{''.join(f'<li>{i}</li>' for i in items)}</ul><p>{STORY[1]}</p></div></article>"
    )
    assert body_of(html) == [STORY[0], *items, STORY[1]]


def test_pages_without_paragraph_markup_fall_back_to_their_text() -> None:
    assert body_of(page("<div>Ferry timetable changes from Monday.</div>")) == [
        "Ferry timetable changes from Monday."
    ]
    assert body_of(page(NAV)) == []
    assert body_of("") == []


def test_custom_elements_inside_a_paragraph_do_not_split_it() -> None:
    html = page(
        "<article><p>Engineers replaced the worn hydraulic ramp "
        '(<cite-source><a href="/ref/1">1</a></cite-source>) in three weeks.</p>'
        f"<story-box><p>{STORY[1]}</p></story-box></article>"
    )
    assert body_of(html) == [
        "Engineers replaced the worn hydraulic ramp (1) in three weeks.", STORY[1]
    ]


def test_body_text_is_normalised() -> None:
    html = page("<p>The cafe\u0301 on Ma\u200bin Street   re\u00adopened\n today.</p>")
    assert body_of(html) == ["The caf\u00e9 on Main Street reopened today."]


# --- metadata ----------------------------------------------------------------


def test_title_loses_the_site_name_suffix() -> None:
    head = (
        '<meta property="og:site_name" content="Millbrook Post">'
        "<title>Ferry back in service - Millbrook Post</title>"
    )
    assert extract_html(page("", head)).title == "Ferry back in service"


def test_site_name_from_the_address_when_the_page_does_not_name_itself() -> None:
    html = page("", "<title>Ferry back in service | Millbrook Post</title>")
    out = extract_html(html, base_url="https://www.millbrookpost.example/news/1")
    assert out.title == "Ferry back in service"


def test_title_keeps_its_own_dashes_and_colons() -> None:
    head = '<meta property="og:title" content="Fact check: is the ferry - really - back?">'
    assert extract_html(page("", head)).title == "Fact check: is the ferry - really - back?"


@pytest.mark.parametrize(
    ("title", "sites", "headline", "expected"),
    [
        ("Ferry back | Millbrook Post", {"millbrookpost"}, None, "Ferry back"),
        ("Millbrook Post: Ferry back", {"millbrookpost"}, None, "Millbrook Post: Ferry back"),
        ("News \u2014 Ferry back \u2014 MPost", set(), "Ferry back", "Ferry back"),
        ("Ferry back", {"millbrookpost"}, None, "Ferry back"),
    ],
)
def test_clean_title(title: str, sites: set[str], headline: str | None, expected: str) -> None:
    assert clean_title(title, sites, headline) == expected


def test_jsonld_article_gives_headline_authors_date_section_keywords_and_body_image() -> None:
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "@id": "#site", "name": "Millbrook Post"},
            {"@type": "Person", "@id": "#ruth", "name": "Ruth Okafor"},
            {
                "@type": "NewsArticle",
                "headline": "Ferry back in service",
                "author": [{"@id": "#ruth"}, {"@type": "Person", "name": "Tom Reyes"}],
                "datePublished": "2024-05-07T09:30:00+01:00",
                "articleSection": ["Transport", "Local"],
                "keywords": "ferry, harbour, Transport",
                "image": {"@type": "ImageObject", "url": "https://cdn.example/ferry.jpg",
                          "caption": "The ferry at the quay", "creditText": "Dana Lee"},
                "publisher": {"@type": "Organization", "name": "Millbrook Post"},
            },
        ],
    }
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    out = extract_html(page(paragraphs(STORY), head))
    assert out.title == "Ferry back in service"
    assert out.authors == ["Ruth Okafor", "Tom Reyes"]
    assert out.published_at == "2024-05-07T09:30:00+01:00"
    assert out.section == "Transport"
    assert out.tags == ["ferry", "harbour", "Transport"]
    assert out.image == {
        "url": "https://cdn.example/ferry.jpg", "caption": "The ferry at the quay",
        "credit": "Dana Lee",
    }


def test_broken_jsonld_is_ignored_and_raw_newlines_are_tolerated() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", oops</script>'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Ferry\n'
        'back", "datePublished": "2024-05-07"}</script>'
    )
    out = extract_html(page(paragraphs(STORY), head))
    assert out.title == "Ferry back"
    assert out.published_at == "2024-05-07"


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("By Ruth Okafor and Tom Reyes", ["Ruth Okafor", "Tom Reyes"]),
        ("By RUTH OKAFOR, Associated Press Writer", ["Ruth Okafor"]),
        ("Ruth Okafor | Staff Reporter", ["Ruth Okafor"]),
        ("Written by: Ruth Okafor; Tom Reyes", ["Ruth Okafor", "Tom Reyes"]),
        ("Updated 10:30 am", []),
        ("jdoe", []),
    ],
)
def test_bylines_become_bare_names(byline: str, names: list[str]) -> None:
    assert clean_names(byline) == names


def test_authors_from_meta_then_markup() -> None:
    head = '<meta name="author" content="By Ruth Okafor">'
    assert extract_html(page("", head)).authors == ["Ruth Okafor"]
    body = '<p class="byline">By <a rel="author" href="/staff/tom">Tom Reyes</a></p>'
    assert extract_html(page(body)).authors == ["Tom Reyes"]


def test_the_publisher_credited_next_to_the_writer_is_not_an_author() -> None:
    head = (
        '<meta property="og:site_name" content="Millbrook Post">'
        '<meta name="author" content="Ruth Okafor, Millbrook Post">'
    )
    assert extract_html(page("", head)).authors == ["Ruth Okafor"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta property="article:published_time" content="2024-05-07T09:30:00Z">',
         "2024-05-07T09:30:00Z"),
        ('<meta name="pubdate" content="Tue, 07 May 2024 09:30:00 +0100">',
         "2024-05-07T09:30:00+01:00"),
        ('<meta name="date" content="0001-01-01T00:00:00Z">'
         '<meta name="pubdate" content="May 7th, 2024 9:30 am">', "2024-05-07T09:30:00"),
        ('<meta name="date" content="sometime last week">', None),
    ],
)
def test_published_at_is_iso_8601(head: str, expected: str | None) -> None:
    assert extract_html(page("", head)).published_at == expected


def test_tags_merge_article_tags_and_keywords_without_cms_plumbing() -> None:
    head = (
        '<meta property="article:tag" content="Ferry">'
        '<meta property="article:tag" content="Harbour">'
        '<meta name="keywords" content="harbour, Transport, @top-stories, video_autoplay">'
    )
    assert extract_html(page("", head)).tags == ["Ferry", "Harbour", "Transport"]


def test_relative_urls_resolve_against_the_page_address() -> None:
    head = (
        '<link rel="canonical" href="/news/ferry-back">'
        '<meta property="og:image" content="/img/ferry.jpg">'
    )
    out = extract_html(page("", head), base_url="https://millbrook.example/x?id=1")
    assert out.canonical_url == "https://millbrook.example/news/ferry-back"
    assert out.image is not None and out.image["url"] == "https://millbrook.example/img/ferry.jpg"
    # Without an address a relative URL is unusable.
    assert extract_html(page("", head)).canonical_url is None


def test_lead_image_caption_and_credit_come_from_its_figure() -> None:
    head = '<meta property="og:image" content="https://cdn.example/photos/ferry-quay.jpg">'
    body = (
        '<article><figure><img src="https://cdn.example/small/other.jpg"></figure>'
        '<figure><img src="https://cdn.example/photos/ferry-quay.jpg?w=800">'
        '<figcaption>The ferry at the quay on Tuesday. <span class="credit">Dana Lee</span>'
        f"</figcaption></figure>{paragraphs(STORY)}</article>"
    )
    out = extract_html(page(body, head))
    assert out.image == {
        "url": "https://cdn.example/photos/ferry-quay.jpg",
        "caption": "The ferry at the quay on Tuesday.",
        "credit": "Dana Lee",
    }


# --- audit, budget, vocabulary ----------------------------------------------------


def test_removed_blocks_are_audited_by_rule_with_a_few_samples() -> None:
    scripts = "".join(f"<script>var x{i} = {i};</script>" for i in range(5))
    html = page(
        f"{scripts}{NAV}<article>{paragraphs(STORY)}</article><div>{TEASERS}</div>",
        "<style>p{}</style>",
    )
    removed = {r["rule"]: r for r in extract_html(html).removed.to_list()}
    assert removed["element:script"] == {
        "rule": "element:script", "count": 5, "chars": 0, "sample": []
    }
    assert removed["element:style"]["count"] == 1
    # A menu is one removal, read as one text.
    assert removed["element:nav"] == {
        "rule": "element:nav", "count": 1, "chars": 23, "sample": ["Home News Sport Weather"]
    }
    # Blocks are removed one by one, and only the first few are sampled.
    teasers = removed["listing"]
    assert teasers["count"] == 10 and len(teasers["sample"]) == 3


def test_removal_log_add_count_keeps_the_output_shape() -> None:
    log = RemovalLog()
    log.add("link-dense", "Read more")
    log.add_count("link-dense", 3, 40, "More stories")
    log.add_count("element:svg", 2, 0)
    assert log.to_list() == [
        {"rule": "link-dense", "count": 4, "chars": 49, "sample": ["Read more", "More stories"]},
        {"rule": "element:svg", "count": 2, "chars": 0, "sample": []},
    ]
    assert log.removed_chars == 49


def test_an_exhausted_budget_raises() -> None:
    with pytest.raises(ExtractTimeout):
        extract_html(page(paragraphs(STORY)), Budget(0.0))


def test_pathologically_deep_nesting_is_refused_before_parsing() -> None:
    html = "<div>" * 50_000 + "text" + "</div>" * 50_000
    with pytest.raises(ExtractTimeout, match="nest"):
        extract_html(html, Budget(1.0))


@pytest.mark.parametrize(
    ("names", "rule"),
    [
        ("article-share-bar", "class:share"),
        ("relatedStories", "class:related"),
        ("sr-only", "class:hidden"),
        ("entry-meta", "class:byline"),
        ("header", None),
        ("shared-content", None),
        ("has-comments", None),
        ("twitter-tweet share", None),
        ("post-123 type-post tag-ferry category-news", None),
        ("inlinegallery-item", "class:gallery"),
        ("sitefooter", "class:footer"),
        ("metadata", None),
    ],
)
def test_class_vocabulary_matches_words_not_substrings(names: str, rule: str | None) -> None:
    assert vocabulary_rule(names) == rule


# --- shared corpus -------------------------------------------------------------


def _shingles(text: str) -> dict[tuple[str, ...], int]:
    tokens = [t.lower() for t in words(text)]
    grams: dict[tuple[str, ...], int] = {}
    for i in range(max(len(tokens) - 3, 1) if tokens else 0):
        gram = tuple(tokens[i : i + 4])
        grams[gram] = grams.get(gram, 0) + 1
    return grams


def test_extraction_dev_quality_floor(corpus: Path) -> None:
    """A regression gate, well under the measured score (bench/extract.py gives
    the numbers): macro precision and recall of 4-token shingles."""
    root = corpus / "extraction-dev"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    precision = recall = 0.0
    for page_id, expected in sorted(truth.items()):
        html = decode_page(gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes()))
        out = extract_html(html, base_url=expected.get("url"))
        got, gold = _shingles("\n\n".join(out.paragraphs)), _shingles(expected["articleBody"])
        common = sum(min(n, gold.get(g, 0)) for g, n in got.items())
        precision += common / sum(got.values()) if got else 0.0
        recall += common / sum(gold.values()) if gold else 1.0
        assert all(p and p == p.strip() and not re.search(r"\s\s|\n", p) for p in out.paragraphs)
    precision, recall = precision / len(truth), recall / len(truth)
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.96, (precision, recall, f1)
