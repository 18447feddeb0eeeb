"""dedup: canonical URLs, content hashes and the sequencer's decisions."""

from __future__ import annotations

from typing import Any

import pytest

from worker.pipeline.clean import clean_article
from worker.pipeline.dedup import (
    DedupIndex,
    canonical_url,
    content_hash,
    make_article_id,
    url_host,
)
from worker.pipeline.records import (
    CleanArticle,
    DuplicateNotice,
    Origin,
    RawArticle,
    UniqueArticle,
)

# --- canonical_url -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host case; scheme folded to https
        ("HTTP://Valley-Times.EXAMPLE/News/Flood", "https://valley-times.example/News/Flood"),
        ("http://valley-times.example/a", "https://valley-times.example/a"),
        # default ports dropped, other ports kept
        ("http://valley-times.example:80/a", "https://valley-times.example/a"),
        ("https://valley-times.example:443/a", "https://valley-times.example/a"),
        ("https://valley-times.example:8443/a", "https://valley-times.example:8443/a"),
        # www. / m. / mobile. / amp. hosts
        ("https://www.valley-times.example/a", "https://valley-times.example/a"),
        ("https://m.valley-times.example/a", "https://valley-times.example/a"),
        ("https://mobile.valley-times.example/a", "https://valley-times.example/a"),
        ("https://amp.valley-times.example/a", "https://valley-times.example/a"),
        # AMP paths and the amp flag
        ("https://valley-times.example/news/flood/amp", "https://valley-times.example/news/flood"),
        ("https://valley-times.example/news/flood/amp/", "https://valley-times.example/news/flood"),
        ("https://valley-times.example/news/flood.amp", "https://valley-times.example/news/flood"),
        (
            "https://valley-times.example/news/flood?amp=1",
            "https://valley-times.example/news/flood",
        ),
        ("https://valley-times.example/news/flood?amp", "https://valley-times.example/news/flood"),
        # tracking parameters, in any case
        (
            "https://valley-times.example/a?utm_source=rss&utm_medium=feed&UTM_Campaign=x",
            "https://valley-times.example/a",
        ),
        ("https://valley-times.example/a?fbclid=IwAR0abc", "https://valley-times.example/a"),
        ("https://valley-times.example/a?gclid=Cj0KCQ&id=7", "https://valley-times.example/a?id=7"),
        # fragments
        ("https://valley-times.example/a#comments", "https://valley-times.example/a"),
        # trailing slash, but the root stays "/"
        ("https://valley-times.example/news/flood/", "https://valley-times.example/news/flood"),
        ("https://valley-times.example", "https://valley-times.example/"),
        ("https://valley-times.example/", "https://valley-times.example/"),
        # sorted query, blank values kept
        ("https://valley-times.example/a?b=2&a=1&c=", "https://valley-times.example/a?a=1&b=2&c="),
        # surrounding whitespace
        ("  https://valley-times.example/a  ", "https://valley-times.example/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_keeps_path_case_and_content_parameters() -> None:
    assert (
        canonical_url("https://valley-times.example/Story?id=42&page=2")
        == "https://valley-times.example/Story?id=42&page=2"
    )


def test_a_short_host_is_not_stripped_to_a_bare_suffix() -> None:
    # "m.example" is a domain of its own, not the mobile site of "example".
    assert canonical_url("https://m.example/a") == "https://m.example/a"
    assert canonical_url("https://www.example/a") == "https://www.example/a"


def test_spellings_of_one_page_share_a_canonical_url() -> None:
    spellings = [
        "https://valley-times.example/news/flood",
        "http://www.valley-times.example/news/flood/",
        "https://m.valley-times.example/news/flood?utm_source=twitter#top",
        "https://VALLEY-TIMES.example:443/news/flood/amp?fbclid=abc",
    ]
    assert {canonical_url(u) for u in spellings} == {"https://valley-times.example/news/flood"}


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "ftp://valley-times.example/a",
        "mailto:desk@valley-times.example",
        "javascript:void(0)",
        "/news/relative/path",
        "valley-times.example/a",
        "https://",
        "https://valley-times.example:notaport/a",
        "https://[::1/a",
    ],
)
def test_canonical_url_of_non_http_urls_is_none(url: str | None) -> None:
    assert canonical_url(url) is None


def test_url_host() -> None:
    assert url_host("https://Valley-Times.example/a") == "valley-times.example"
    assert url_host(None) is None
    assert url_host("https://[::1/a") is None


# --- fingerprints and ids -------------------------------------------------------


def test_content_hash_ignores_case_punctuation_and_whitespace() -> None:
    a = content_hash("Flood wall holds.\n\nThe new wall held, officials said!")
    b = content_hash("flood wall holds the new   wall held officials said")
    assert a == b
    assert content_hash("Flood wall fails.") != a
    assert len(a) == 32 and int(a, 16) >= 0


def test_article_id_is_deterministic_and_separates_url_from_content_ids() -> None:
    h = content_hash("Body text.")
    assert make_article_id("https://valley-times.example/a", h) == make_article_id(
        "https://valley-times.example/a", h
    )
    assert make_article_id("https://valley-times.example/a", h) != make_article_id(
        "https://valley-times.example/b", h
    )
    assert make_article_id(None, h) == make_article_id(None, h)
    assert make_article_id(None, h) != make_article_id("https://valley-times.example/a", h)
    assert make_article_id(None, h) != make_article_id(None, content_hash("Other text."))


# --- DedupIndex -------------------------------------------------------------------

BODY = (
    "Flood wall holds\n"
    "The new flood wall in Lower Valley held through the weekend storm.\n"
    "Residents who were evacuated on Friday returned home on Sunday."
)
UPDATED = BODY + "\nThe council will inspect the wall again next month."


def article(url: str | None, text: str = BODY, offset: int = 0) -> CleanArticle:
    result = clean_article(RawArticle(url=url, text=text), Origin("articles.raw", 0, offset))
    assert isinstance(result, CleanArticle)
    return result


def fresh_index() -> tuple[DedupIndex, dict[str, Any], dict[str, Any]]:
    urls: dict[str, Any] = {}
    hashes: dict[str, Any] = {}
    return DedupIndex(urls, hashes), urls, hashes


def unique(decision: UniqueArticle | DuplicateNotice) -> UniqueArticle:
    assert isinstance(decision, UniqueArticle), f"expected unique, got {decision!r}"
    return decision


def duplicate(decision: UniqueArticle | DuplicateNotice) -> DuplicateNotice:
    assert isinstance(decision, DuplicateNotice), f"expected a duplicate, got {decision!r}"
    return decision


def test_first_sighting_is_unique_revision_one() -> None:
    index, urls, hashes = fresh_index()
    first = article("https://valley-times.example/news/flood")
    decision = unique(index.decide(first))
    assert decision.article is first
    assert decision.revision == 1
    assert decision.supersedes is None
    # The state is JSON-friendly, so a changelogged Faust table can hold it.
    assert urls == {
        "https://valley-times.example/news/flood": [
            first.article_id,
            first.fingerprints.content_hash,
            1,
        ]
    }
    assert hashes == {first.fingerprints.content_hash: first.article_id}


def test_same_page_under_another_spelling_is_a_url_duplicate() -> None:
    index, _, _ = fresh_index()
    first = article("https://valley-times.example/news/flood")
    unique(index.decide(first))
    again = article("http://www.valley-times.example/news/flood/?utm_source=rss", offset=1)
    notice = duplicate(index.decide(again))
    assert notice.method == "url"
    assert notice.duplicate_of == first.article_id
    assert notice.similarity == 1.0
    assert notice.url == "http://www.valley-times.example/news/flood/?utm_source=rss"
    assert notice.origin.offset == 1


def test_same_body_under_another_url_is_an_exact_duplicate() -> None:
    index, _, _ = fresh_index()
    first = article("https://valley-times.example/news/flood")
    unique(index.decide(first))
    syndicated = article("https://county-wire.example/stories/8812")
    notice = duplicate(index.decide(syndicated))
    assert notice.method == "exact"
    assert notice.duplicate_of == first.article_id
    assert notice.article_id == syndicated.article_id != first.article_id


def test_same_body_without_any_url_is_an_exact_duplicate() -> None:
    index, _, _ = fresh_index()
    first = article(None)
    unique(index.decide(first))
    notice = duplicate(index.decide(article(None)))
    assert notice.method == "exact"
    assert notice.duplicate_of == first.article_id


def test_changed_body_at_a_known_url_is_a_revision() -> None:
    index, urls, _ = fresh_index()
    first = article("https://valley-times.example/news/flood")
    unique(index.decide(first))
    second = article("https://valley-times.example/news/flood", UPDATED)
    revision = unique(index.decide(second))
    assert revision.revision == 2
    assert revision.supersedes == first.article_id
    assert second.article_id != first.article_id
    assert urls["https://valley-times.example/news/flood"][0] == second.article_id

    third = article(
        "https://valley-times.example/news/flood", UPDATED + "\nA correction was appended."
    )
    third_decision = unique(index.decide(third))
    assert (third_decision.revision, third_decision.supersedes) == (3, second.article_id)

    # Re-sending the latest revision is a duplicate of it, not of the first.
    notice = duplicate(
        index.decide(
            article(
                "https://valley-times.example/news/flood", UPDATED + "\nA correction was appended."
            )
        )
    )
    assert (notice.method, notice.duplicate_of) == ("url", third.article_id)


def test_a_page_reverted_to_an_earlier_body_is_a_new_revision() -> None:
    """A known URL whose body changes back is the page's current state, not a copy."""
    index, _, _ = fresh_index()
    url = "https://valley-times.example/news/flood"
    first = article(url)
    unique(index.decide(first))
    edited = article(url, UPDATED)
    unique(index.decide(edited))
    reverted = unique(index.decide(article(url)))
    assert (reverted.revision, reverted.supersedes) == (3, edited.article_id)
    # Same URL and body as the first version: the same deterministic id.
    assert reverted.article.article_id == first.article_id


def test_a_change_at_a_syndicating_url_is_a_revision_of_what_was_seen_there() -> None:
    """URL state is kept for duplicates too: the copy was seen at that URL."""
    index, urls, _ = fresh_index()
    unique(index.decide(article("https://valley-times.example/news/flood")))
    copy = article("https://county-wire.example/stories/8812")
    duplicate(index.decide(copy))
    assert urls["https://county-wire.example/stories/8812"][1:] == [
        copy.fingerprints.content_hash,
        1,
    ]
    later = unique(index.decide(article("https://county-wire.example/stories/8812", UPDATED)))
    assert later.revision == 2


def test_a_resent_syndicated_copy_names_the_first_seen_article() -> None:
    index, _, _ = fresh_index()
    first = article("https://valley-times.example/news/flood")
    unique(index.decide(first))
    duplicate(index.decide(article("https://county-wire.example/stories/8812")))
    again = duplicate(index.decide(article("https://county-wire.example/stories/8812")))
    # DuplicateNotice.duplicate_of is "the article_id of the first-seen article".
    assert again.method == "url"
    assert again.duplicate_of != again.article_id
    assert again.duplicate_of == first.article_id


def test_decisions_and_ids_are_deterministic_across_fresh_indexes() -> None:
    stream = [
        ("https://valley-times.example/news/flood", BODY),
        ("https://www.valley-times.example/news/flood/", BODY),
        ("https://county-wire.example/stories/8812", BODY),
        ("https://valley-times.example/news/flood", UPDATED),
        (None, "Untitled\nA wire brief with no link at all."),
    ]

    def run() -> list[tuple[str, str, str | None, Any]]:
        index, _, _ = fresh_index()
        out: list[tuple[str, str, str | None, Any]] = []
        for url, text in stream:
            d = index.decide(article(url, text))
            if isinstance(d, DuplicateNotice):
                out.append(("duplicate", d.article_id, d.duplicate_of, d.method))
            else:
                out.append(("unique", d.article.article_id, d.supersedes, d.revision))
        return out

    first_run = run()
    assert first_run == run()
    assert [row[0] for row in first_run] == ["unique", "duplicate", "duplicate", "unique", "unique"]
    assert [row[3] for row in first_run] == [1, "url", "exact", 2, 1]


def test_index_state_survives_a_restart_from_its_tables() -> None:
    """The worker rebuilds the index from changelogged tables after failover."""
    index, urls, hashes = fresh_index()
    first = article("https://valley-times.example/news/flood")
    unique(index.decide(first))
    restored = DedupIndex(dict(urls), dict(hashes))
    notice = duplicate(restored.decide(article("https://county-wire.example/stories/1")))
    assert notice.duplicate_of == first.article_id


def test_a_change_at_a_syndicating_url_supersedes_the_article_it_showed() -> None:
    index, _, _ = fresh_index()
    first = article("https://valley-times.example/news/flood")
    unique(index.decide(first))
    duplicate(index.decide(article("https://county-wire.example/stories/8812")))
    changed = index.decide(article("https://county-wire.example/stories/8812", UPDATED))
    assert isinstance(changed, UniqueArticle)
    assert changed.revision == 2
    assert changed.supersedes == first.article_id
