"""dedup: canonical URLs, content hashes and the sequencer's decisions."""

from __future__ import annotations

import base64
import itertools
import random
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from worker.pipeline.clean import clean_article
from worker.pipeline.dedup import (
    DedupIndex,
    DedupOptions,
    canonical_url,
    content_hash,
    fingerprint,
    make_article_id,
    url_host,
)
from worker.pipeline.expiry import SWEEP_STEPS
from worker.pipeline.flow import InProcessPipeline, PipelineConfig, route_of
from worker.pipeline.minhash import DEFAULT_SCHEME, MinHashScheme
from worker.pipeline.records import (
    CleanArticle,
    DuplicateNotice,
    Fingerprints,
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


# Every input sits at its own offset unless a test re-processes one on purpose:
# the same position twice is a replay, not a resend.
_OFFSETS = itertools.count(1_000)


def article(url: str | None, text: str = BODY, offset: int | None = None) -> CleanArticle:
    at = next(_OFFSETS) if offset is None else offset
    result = clean_article(RawArticle(url=url, text=text), Origin("articles.raw", 0, at))
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
    # (Values are tuples in memory: untracked by the cycle collector; JSON arrays
    # in a table.)
    for state in (urls, hashes):
        assert orjson.dumps(orjson.loads(orjson.dumps(state))) == orjson.dumps(state)
    assert list(urls) == ["https://valley-times.example/news/flood"]
    assert list(urls["https://valley-times.example/news/flood"][:3]) == [
        first.article_id,
        first.fingerprints.content_hash,
        1,
    ]
    assert hashes[first.fingerprints.content_hash][0] == first.article_id


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
    assert list(urls["https://county-wire.example/stories/8812"][1:3]) == [
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


# --- near duplicates, short bodies, expiry ----------------------------------------------
# Synthetic stories written for these tests; each is well over the 50 shingles
# near-duplicate evidence needs.

FERRY = [
    "Ferry service to Kestrel Island resumes after storm repairs",
    "The ferry between Port Almery and Kestrel Island will run again from Monday after "
    "engineers finished repairing the landing stage that the February storm tore loose.",
    "The harbour master said the first crossing would leave at seven in the morning and "
    "that the winter timetable would apply until the end of April, with an extra evening "
    "sailing on Fridays for islanders who work on the mainland.",
    "Islanders had relied on a small charter boat for six weeks, and the school on the "
    "island had moved its lessons online while teachers were unable to travel.",
    "The council said the repair cost about two hundred thousand crowns, paid from the "
    "emergency fund, and that a review of the landing stage design would report in June.",
]
BAKERY = [
    "Riverton bakery wins regional bread prize for third year",
    "A bakery on Mill Lane in Riverton has won the regional bread prize for the third "
    "year running, beating forty entries from across the county with a rye loaf.",
    "The owner said the recipe came from her grandmother and that the secret was a slow "
    "overnight rise in a cool cellar, which gives the crust its deep colour.",
    "The judges praised the even crumb and said the loaf kept well for days, and queues "
    "formed outside the shop on Saturday morning as customers arrived to buy it.",
]
FOOTER = (
    "Sign up for our morning newsletter to get the top stories delivered to your inbox "
    "before breakfast. Copyright Valley Times Media. All rights reserved. This material "
    "may not be published, broadcast, rewritten or redistributed without permission."
)
T0 = "2024-06-01T08:00:00+00:00"
DAY = 86_400.0


def body(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def make(
    url: str | None, text: str, at: str | None = T0, prints: Fingerprints | None = None
) -> CleanArticle:
    """A clean article straight from a body: the sequencer needs nothing else."""
    canonical = canonical_url(url)
    prints = prints or fingerprint(text)
    return CleanArticle(
        article_id=make_article_id(canonical, prints.content_hash), url=url,
        canonical_url=canonical, source=None, title=None, body=text, authors=[],
        published_at=None, fetched_at=at, language_hint=None, tags=[], clean={},
        fingerprints=prints,
    )


def later(days: float) -> str:
    return datetime.fromtimestamp(datetime.fromisoformat(T0).timestamp() + days * DAY,
                                  UTC).isoformat()


def near(decision: UniqueArticle | DuplicateNotice) -> DuplicateNotice:
    notice = duplicate(decision)
    assert notice.method == "near", notice
    return notice


def test_fingerprints_carry_a_compact_sketch_and_round_trip() -> None:
    prints = fingerprint(body(FERRY))
    assert prints.shingles > 50
    assert prints.scheme == DEFAULT_SCHEME.name
    assert len(prints.bands) == DEFAULT_SCHEME.bands
    assert Fingerprints.from_dict(orjson.loads(orjson.dumps(prints.to_dict()))) == prints
    # The public record keeps only what it had before.
    assert prints.to_dict(sketch=False) == {
        "content_hash": prints.content_hash, "body_words": prints.body_words,
    }


def test_a_syndicated_copy_with_a_new_headline_and_edits_is_a_near_duplicate() -> None:
    index, _, _ = fresh_index()
    first = make("https://valley-times.example/news/ferry", body(FERRY))
    unique(index.decide(first))
    edited = [
        "Kestrel Island ferry back in service on Monday",
        FERRY[1].replace("engineers", "contractors"),
        FERRY[2],
        FERRY[3].replace("six weeks", "nearly six weeks"),
        FERRY[4],
    ]
    notice = near(index.decide(make("https://county-wire.example/8812", body(edited))))
    assert notice.duplicate_of == first.article_id
    assert DedupOptions().near_threshold <= notice.similarity < 1.0


def test_a_truncated_copy_is_a_near_duplicate_by_containment() -> None:
    index, _, _ = fresh_index()
    first = make("https://valley-times.example/news/ferry", body(FERRY))
    unique(index.decide(first))
    # Cut mid-paragraph at under half the story: Jaccard below the threshold,
    # but every shingle of the copy is in the original.
    words = body(FERRY).split(" ")
    truncated = " ".join(words[:62]) + " ..."
    notice = near(index.decide(make("https://county-wire.example/8812", truncated)))
    assert notice.duplicate_of == first.article_id
    assert notice.similarity >= DedupOptions().containment_threshold


def test_a_copy_with_an_added_paragraph_and_footer_is_a_near_duplicate() -> None:
    index, _, _ = fresh_index()
    first = make("https://valley-times.example/news/ferry", body(FERRY))
    unique(index.decide(first))
    local = "Riverton readers can find the new timetable at the library and the town hall."
    copy = body([*FERRY[:3], local, *FERRY[3:], FOOTER])
    assert near(index.decide(make("https://riverton-post.example/a/1", copy))).duplicate_of == (
        first.article_id
    )


def test_different_stories_sharing_boilerplate_are_both_unique() -> None:
    index, _, _ = fresh_index()
    unique(index.decide(make("https://valley-times.example/ferry", body([*FERRY, FOOTER]))))
    unique(index.decide(make("https://valley-times.example/bread", body([*BAKERY, FOOTER]))))


def test_short_bodies_never_match_each_other() -> None:
    index, _, _ = fresh_index()
    brief = "Police closed Mill Lane in Riverton on Friday after a water main burst."
    unique(index.decide(make("https://a.example/1", brief)))
    # Nearly the same brief about another street: too short to be evidence.
    unique(index.decide(make("https://b.example/2", brief.replace("Mill Lane", "Elm Walk"))))
    # Identical placeholder bodies of two different articles are not one story.
    unique(index.decide(make("https://a.example/3", "Developing story.")))
    unique(index.decide(make("https://b.example/4", "Developing story.")))
    # A body with no words at all has no evidence either.
    unique(index.decide(make("https://a.example/5", "...")))
    unique(index.decide(make("https://b.example/6", "...")))


def test_a_short_identical_body_at_the_same_url_is_still_a_url_duplicate() -> None:
    index, _, _ = fresh_index()
    first = make("https://a.example/live", "Live coverage")
    unique(index.decide(first))
    notice = duplicate(index.decide(make("https://www.a.example/live/", "Live coverage")))
    assert (notice.method, notice.duplicate_of) == ("url", first.article_id)


def test_an_edited_body_at_a_known_url_is_a_revision_not_a_near_duplicate() -> None:
    index, _, _ = fresh_index()
    first = make("https://valley-times.example/news/ferry", body(FERRY))
    unique(index.decide(first))
    edited = body([*FERRY, "Update: the first crossing has been moved to eight o'clock."])
    revision = unique(index.decide(make("https://valley-times.example/news/ferry", edited)))
    assert (revision.revision, revision.supersedes) == (2, first.article_id)


def test_a_resent_near_copy_names_the_first_seen_article() -> None:
    index, _, _ = fresh_index()
    first = make("https://valley-times.example/news/ferry", body(FERRY))
    unique(index.decide(first))
    copy = body(FERRY[:4])
    near(index.decide(make("https://county-wire.example/8812", copy)))
    again = duplicate(index.decide(make("https://county-wire.example/8812", copy)))
    assert (again.method, again.duplicate_of) == ("url", first.article_id)


def test_old_fingerprints_without_a_sketch_get_url_and_exact_decisions_only() -> None:
    index, _, _ = fresh_index()
    legacy = Fingerprints.from_dict(
        {"content_hash": content_hash(body(FERRY)), "body_words": 120}
    )
    assert (legacy.shingles, legacy.signature, legacy.bands) == (0, "", [])
    first = make("https://valley-times.example/ferry", body(FERRY), prints=legacy)
    unique(index.decide(first))
    assert duplicate(index.decide(
        make("https://county-wire.example/1", body(FERRY), prints=legacy)
    )).method == "exact"
    unique(index.decide(make("https://county-wire.example/2", body(FERRY[:4]))))


def test_sketches_of_another_scheme_are_never_compared() -> None:
    other = MinHashScheme(seed=99)
    index = DedupIndex({}, {}, options=DedupOptions(scheme=other))
    unique(index.decide(make("https://valley-times.example/ferry", body(FERRY))))
    unique(index.decide(make("https://county-wire.example/2", body(FERRY[:4]))))


def test_a_band_shared_by_many_articles_keeps_only_the_newest() -> None:
    """Articles that share bands but are not alike (boilerplate) must not grow a
    band's list without bound."""
    options = DedupOptions(max_band_fanout=3)
    bands: dict[str, Any] = {}
    index = DedupIndex({}, {}, bands, options=options)
    base = fingerprint(body(FERRY))
    rng = random.Random(4)
    for n in range(10):
        slots = bytes(rng.randrange(256) for _ in range(DEFAULT_SCHEME.num_perm))
        prints = Fingerprints(f"{n:032x}", 200, base.shingles,
                              base64.b64encode(slots).decode(), base.bands, base.scheme)
        unique(index.decide(make(f"https://a.example/{n}", f"story {n}", prints=prints)))
    assert bands and all(len(v) <= 3 * 16 for v in bands.values())


def test_dedup_options_are_validated_with_a_reason() -> None:
    with pytest.raises(ValueError, match="near_threshold"):
        DedupOptions(near_threshold=0.0)
    with pytest.raises(ValueError, match="empty body is no evidence"):
        DedupOptions(min_near_shingles=0)
    with pytest.raises(ValueError, match="at least one bucket"):
        DedupOptions(window_seconds=60)


# Expiry. The clock may jump at most max_clock_step_seconds per article; these
# tests allow big steps except where the step itself is tested.
WIDE = DedupOptions(max_clock_step_seconds=30 * 86_400)


def tables() -> dict[str, dict[str, Any]]:
    return {name: {} for name in ("urls", "hashes", "bands", "sketches", "timeline")}


def index_over(t: dict[str, dict[str, Any]], options: DedupOptions = WIDE) -> DedupIndex:
    return DedupIndex(t["urls"], t["hashes"], t["bands"], t["sketches"], t["timeline"],
                      options=options)


def test_copies_match_within_the_window_and_not_after_it() -> None:
    index = index_over(tables())
    first = make("https://valley-times.example/ferry", body(FERRY))
    unique(index.decide(first))
    near(index.decide(make("https://a.example/1", body(FERRY[:4]), later(6))))
    duplicate(index.decide(make("https://b.example/1", body(FERRY), later(6.5))))
    # A week and a bit later the first article has left the window.
    unique(index.decide(make("https://c.example/1", body(FERRY[:4]), later(7.2))))


def test_expired_state_is_swept_from_every_table() -> None:
    t = tables()
    index = index_over(t)
    first = make("https://valley-times.example/ferry", body(FERRY))
    unique(index.decide(first))
    handle = first.article_id[:16]
    assert handle in t["sketches"]
    # Time moves on: later articles sweep the expired records a few at a time.
    for n in range(10):
        index.decide(make(f"https://d.example/{n}", body(BAKERY) + f" {n}", later(8)))
    assert "https://valley-times.example/ferry" not in t["urls"]
    assert first.fingerprints.content_hash not in t["hashes"]
    assert handle not in t["sketches"]
    assert not any(handle in v for v in t["bands"].values())
    assert not any(k.startswith("e:") and v[2] == handle for k, v in t["timeline"].items())


def test_the_state_version_moves_with_every_change_to_the_bands() -> None:
    """The version the worker stamps its local bands with (worker/band_store.py)
    changes with every indexed article and every sweep, and with nothing that
    leaves the bands as they were."""
    t = tables()
    index = index_over(t)
    seen = [index.state_version()]

    def changed() -> bool:
        seen.append(index.state_version())
        return seen[-1] not in seen[:-1]

    unique(index.decide(make(None, body(FERRY), None)))  # no time yet: the pending bucket
    assert changed()
    first = make("https://valley-times.example/ferry", body(BAKERY))
    unique(index.decide(first))
    assert changed()
    bands = dict(t["bands"])
    # An exact copy without a URL writes nothing: the same version, the same bands.
    duplicate(index.decide(make(None, body(BAKERY))))
    assert not changed() and t["bands"] == bands
    # Time moves on: each later article indexes itself and sweeps the old ones.
    for n in range(6):
        index.decide(make(f"https://d.example/{n}", body(FERRY[:3]) + f" {n}", later(8 + n)))
        assert changed()
    assert first.article_id[:16] not in t["sketches"]


class CountingTable(dict[str, Any]):
    """A dict that counts lookups and writes and refuses to be scanned."""

    def __init__(self) -> None:
        super().__init__()
        self.ops = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.ops += 1
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.ops += 1
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self.ops += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.ops += 1
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self.ops += 1
        return super().pop(key, *default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        other = dict(*args, **kwargs)
        self.ops += len(other)
        super().update(other)

    def __iter__(self) -> Any:
        raise AssertionError("the sequencer scanned a table")

    def keys(self) -> Any:
        raise AssertionError("the sequencer scanned a table")

    def items(self) -> Any:
        raise AssertionError("the sequencer scanned a table")

    def values(self) -> Any:
        raise AssertionError("the sequencer scanned a table")

    def __len__(self) -> int:
        raise AssertionError("the sequencer sized a table")


def test_no_decision_scans_a_table_or_grows_with_the_state() -> None:
    counted = {name: CountingTable() for name in tables()}
    index = index_over(counted, DedupOptions())  # default clock steps
    bound = (SWEEP_STEPS + 1) * (3 * DEFAULT_SCHEME.bands + 12)
    worst = 0
    for n in range(400):
        # 400 articles, an hour apart: more than two weeks, so expiry runs.
        text = body(BAKERY if n % 2 else FERRY) + f" Item {n} of the feed, filed {n}."
        before = sum(t.ops for t in counted.values())
        index.decide(make(f"https://e.example/{n}", text, later(n / 24)))
        worst = max(worst, sum(t.ops for t in counted.values()) - before)
    assert worst <= bound
    # And expiry did run: the first articles' state is gone.
    assert "https://e.example/0" not in counted["urls"]
    assert "https://e.example/399" in counted["urls"]


def test_a_restarted_index_reaches_the_same_decisions() -> None:
    """The worker rebuilds DedupIndex over its recovered tables after a restart
    or a rebalance: the clock and the sweep cursor are in them."""
    stream = []
    for n in range(60):
        story = FERRY if n % 3 else BAKERY
        text = body(story[: 3 + n % 2]) if n % 4 else body(story) + f" Note {n // 4}."
        stream.append((f"https://f.example/{n % 17}", text, later(n / 4)))

    def run(restart_every: int | None) -> list[tuple[str, Any]]:
        t = tables()
        index = index_over(t, DedupOptions())
        out: list[tuple[str, Any]] = []
        for n, (url, text, at) in enumerate(stream):
            if restart_every and n % restart_every == 0:
                # A new process: nothing survives but what the tables recovered.
                t = {name: dict(table) for name, table in t.items()}
                index = index_over(t, DedupOptions())
            d = index.decide(make(url, text, at))
            out.append(("dup", d.method) if isinstance(d, DuplicateNotice)
                       else ("unique", d.revision))
        return out

    uninterrupted = run(None)
    assert run(7) == uninterrupted
    assert {kind for kind, _ in uninterrupted} == {"dup", "unique"}


def test_one_bad_timestamp_cannot_expire_the_window() -> None:
    index = index_over(tables(), DedupOptions())
    first = make("https://valley-times.example/ferry", body(FERRY))
    unique(index.decide(first))
    unique(index.decide(make("https://typo.example/1", body(BAKERY), "2099-06-01T08:00:00Z")))
    near(index.decide(make("https://a.example/1", body(FERRY[:4]), later(0.1))))


def test_articles_without_a_time_expire_with_the_first_time_seen() -> None:
    index = index_over(tables())
    untimed = make("https://valley-times.example/ferry", body(FERRY), at=None)
    unique(index.decide(untimed))
    unique(index.decide(make("https://d.example/1", body(BAKERY), T0)))
    near(index.decide(make("https://a.example/1", body(FERRY[:4]), later(3))))
    unique(index.decide(make("https://b.example/1", body(FERRY[:4]), later(7.5))))


def test_the_callers_time_overrides_the_articles() -> None:
    """The same stream with its times passed by the caller decides alike."""
    def run(pass_time: bool) -> list[str]:
        index = index_over(tables())
        out = []
        for n, days in enumerate((0, 2, 9)):
            at = later(days)
            article = make(f"https://g.example/{n}", body(FERRY[: 5 - n % 2]),
                           None if pass_time else at)
            now = datetime.fromisoformat(at).timestamp() if pass_time else None
            d = index.decide(article, now=now)
            out.append(d.method if isinstance(d, DuplicateNotice) else "unique")
        return out

    assert run(True) == run(False) == ["unique", "near", "unique"]


def test_the_offline_pipeline_decides_with_the_configured_options() -> None:
    edited = body([FERRY[0], FERRY[1].replace("engineers", "contractors"), *FERRY[2:]])
    strict = PipelineConfig(dedup=DedupOptions(near_threshold=0.99, containment_threshold=1.0))
    for config, expected in ((PipelineConfig(), "duplicates"), (strict, "unique")):
        pipeline = InProcessPipeline(config=config)
        routes = []
        for n, text in enumerate((body(FERRY), edited)):
            raw = orjson.dumps({"url": f"https://h.example/{n}", "text": text})
            routes.append(route_of(pipeline.run(raw, Origin("articles.raw", 0, n), "dedup")))
        assert routes == ["unique", expected]


# --- re-processing ------------------------------------------------------------------
# At-least-once delivery re-processes the uncommitted tail after a crash: the
# sequencer's state already holds those inputs' writes, and each must still get
# the decision it got the first time (never "a duplicate of itself").


def at(offset: int, url: str | None, text: str, when: str = T0) -> CleanArticle:
    """A clean article read from articles.raw at ``offset``."""
    return replace(make(url, text, when), origin=Origin("articles.raw", 0, offset))


def decision_of(d: UniqueArticle | DuplicateNotice) -> tuple[Any, ...]:
    if isinstance(d, DuplicateNotice):
        return ("dup", d.article_id, d.duplicate_of, d.method, d.similarity)
    return ("unique", d.article.article_id, d.revision, d.supersedes)


def test_a_re_processed_stream_tail_gets_the_same_decisions() -> None:
    stories = [FERRY, BAKERY]
    stream: list[CleanArticle] = []
    for n in range(40):
        story = stories[n % 2]
        if n % 5 == 4:
            text = body(story[: 3 + n % 2])  # a truncated or shortened copy: near
        elif n % 7 == 3:
            text = body(story) + f"\n\nCorrection {n}: an earlier version misnamed the ward."
        else:
            text = body(story)
        url = None if n % 11 == 10 else f"https://site{n % 3}.example/story/{n % 13}"
        if n % 6 == 5:  # a crawler re-sends an earlier page
            earlier = stream[-2]
            url, text = earlier.url, earlier.body
        stream.append(at(n, url, text, later(n / 24)))
    t = tables()
    index = index_over(t, DedupOptions())
    first = [decision_of(index.decide(a)) for a in stream]
    kinds = {d[0] if d[0] == "unique" else d[3] for d in first}
    assert {"unique", "url", "exact", "near"} <= kinds
    assert any(d[0] == "unique" and d[2] > 1 for d in first), "the stream has revisions"
    # A crash after the last decision, before any offset commit: the worker comes
    # back on the recovered tables and re-reads the last ten inputs.
    recovered = index_over({name: dict(table) for name, table in t.items()}, DedupOptions())
    again = [decision_of(recovered.decide(a)) for a in stream[-10:]]
    assert again == first[-10:]


def test_a_resend_from_another_position_is_still_a_duplicate() -> None:
    index = index_over(tables())
    original = at(1, "https://valley.example/a", body(FERRY))
    unique(index.decide(original))
    assert unique(index.decide(original)).revision == 1  # the same input again
    resent = at(2, "https://valley.example/a", body(FERRY))
    assert duplicate(index.decide(resent)).method == "url"


def test_a_re_processed_revision_keeps_its_number_and_what_it_supersedes() -> None:
    index = index_over(tables())
    v1 = at(1, "https://valley.example/a", body(FERRY))
    v2 = at(2, "https://valley.example/a", body(FERRY) + "\n\nUpdated with the mayor's reply.")
    unique(index.decide(v1))
    decided = unique(index.decide(v2))
    replayed = unique(index.decide(v2))
    assert (replayed.revision, replayed.supersedes) == (2, v1.article_id) == (
        decided.revision, decided.supersedes)


def test_a_re_processed_near_duplicate_keeps_its_method_and_similarity() -> None:
    index = index_over(tables())
    unique(index.decide(at(1, "https://valley.example/a", body(FERRY))))
    copy = at(2, "https://wire.example/b", body(FERRY[:-1]))
    decided = near(index.decide(copy))
    replayed = near(index.decide(copy))
    assert (replayed.duplicate_of, replayed.similarity) == (
        decided.duplicate_of, decided.similarity)


@pytest.mark.parametrize("lost", ["urls", "urls+hashes"])
def test_an_input_whose_writes_were_partly_lost_is_not_its_own_duplicate(lost: str) -> None:
    """Table writes reach their changelogs independently: a crash may keep some
    of a decision's writes and lose others."""
    t = tables()
    index = index_over(t)
    a = at(1, "https://valley.example/a", body(FERRY))
    unique(index.decide(a))
    t["urls"].clear()
    if lost == "urls+hashes":
        t["hashes"].clear()  # only the sketch and its bands survived
    replayed = unique(index.decide(a))
    assert (replayed.revision, replayed.supersedes) == (1, None)


def test_an_input_without_a_url_is_re_processed_as_itself() -> None:
    index = index_over(tables())
    a = at(1, None, body(BAKERY))
    unique(index.decide(a))
    unique(index.decide(a))
    assert duplicate(index.decide(at(2, None, body(BAKERY)))).method == "exact"


def test_revisions_of_one_url_re_processed_together_keep_their_numbers() -> None:
    """The tail re-processed after a crash may hold an article and its later
    revisions: each comes back as the revision it was, not renumbered."""
    t = tables()
    index = index_over(t)
    url = "https://valley.example/a"
    versions = [
        at(n, url, body(FERRY) + "".join(f"\n\nUpdate {k}: the vote is delayed." for k in range(n)))
        for n in range(4)
    ]
    first = [decision_of(index.decide(v)) for v in versions]
    assert [d[2] for d in first] == [1, 2, 3, 4]
    again = [decision_of(index.decide(v)) for v in versions]
    assert again == first
    # And a genuinely new version afterwards is the fifth.
    fifth = unique(index.decide(at(9, url, body(FERRY) + "\n\nThe vote passed.")))
    assert (fifth.revision, fifth.supersedes) == (5, versions[-1].article_id)


def test_a_re_processed_input_whose_body_cleans_differently_keeps_its_decision() -> None:
    """Cleaning depends on the source's learned boilerplate, which may move on
    between the first processing and a re-processing after a crash: the same
    input (same position) then arrives with a slightly different body. It is
    still the same input: same ids, same decision, never a revision of itself."""
    index = index_over(tables())
    url = "https://valley.example/a"
    first = unique(index.decide(at(1, url, body(FERRY) + "\n\nSign up for our newsletter.")))
    replayed = unique(index.decide(at(1, url, body(FERRY))))
    assert (replayed.article.article_id, replayed.revision, replayed.supersedes) == (
        first.article.article_id, 1, None)
    # A syndicated copy decided near, then re-processed with another cleaning.
    copy = at(2, "https://wire.example/b", body(FERRY[:-1]) + "\n\nMore at wire.example.")
    decided = near(index.decide(copy))
    again = near(index.decide(at(2, "https://wire.example/b", body(FERRY[:-1]))))
    assert (again.article_id, again.duplicate_of, again.method, again.similarity) == (
        decided.article_id, decided.duplicate_of, decided.method, decided.similarity)
    # The same page from a new position with that changed body is a new revision.
    assert unique(index.decide(at(3, url, body(FERRY)))).revision == 2
