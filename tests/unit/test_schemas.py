"""The JSON Schemas are the public contract: every record the worker emits must match."""

from __future__ import annotations

import base64
import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest

from worker.pipeline import records
from worker.pipeline.clean import clean_article
from worker.pipeline.dedup import DedupIndex
from worker.pipeline.enrich import enrich_article
from worker.pipeline.flow import InProcessPipeline, route_of
from worker.pipeline.records import (
    CleanArticle,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    Origin,
    RawArticle,
    Rejection,
    UniqueArticle,
)
from worker.schemas import SCHEMA_FILES, load_schema, schema_dir, validator

SCHEMA_OF_ROUTE = {
    "cleaned": "clean",
    "enriched": "enriched",
    "duplicates": "duplicates",
    "deadletter": "deadletter",
}
OUTPUT_SCHEMAS = ["clean", "enriched", "duplicates", "deadletter"]


def valid(name: str, document: dict[str, Any]) -> None:
    problem = validator(name)(document)
    assert problem is None, f"{name}: {problem}\n{document}"


_AT = itertools.count(77)


def clean_of(text: str, url: str | None = "https://valley-times.example/a") -> CleanArticle:
    # Each article at its own offset: the same position twice would be a replay.
    result = clean_article(RawArticle(url=url, text=text), Origin("articles.raw", 2, next(_AT)))
    assert isinstance(result, CleanArticle)
    return result


def test_schema_files_are_found_and_named_after_their_version() -> None:
    assert schema_dir().is_dir()
    for name, filename in SCHEMA_FILES.items():
        schema = load_schema(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert filename.endswith(".v1.json")
        assert schema["properties"]["schema_version"] == {"const": 1}, name


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("raw", records.RAW_SCHEMA_VERSION),
        ("clean", records.CLEAN_SCHEMA_VERSION),
        ("enriched", records.ENRICHED_SCHEMA_VERSION),
        ("duplicates", records.DUPLICATE_SCHEMA_VERSION),
        ("deadletter", records.DEADLETTER_SCHEMA_VERSION),
    ],
)
def test_record_versions_match_the_schema_consts(name: str, version: int) -> None:
    assert load_schema(name)["properties"]["schema_version"]["const"] == version


@pytest.mark.parametrize("name", OUTPUT_SCHEMAS)
def test_output_schemas_require_every_property_and_allow_no_others(name: str) -> None:
    schema = load_schema(name)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])


# --- every record type validates ---------------------------------------------------


def test_clean_article_validates() -> None:
    valid("clean", clean_of("Headline\nA paragraph of body text.").to_dict())


def test_clean_article_from_html_with_metadata_validates(fixtures_dir: Path) -> None:
    html = (fixtures_dir / "harbour-bridge.html").read_text(encoding="utf-8")
    article = clean_article(RawArticle(url=None, html=html, extra={"feed": {"id": 3}}))
    assert isinstance(article, CleanArticle)
    d = article.to_dict()
    assert d["authors"] and d["tags"] and d["published_at"]
    valid("clean", d)


def test_enriched_article_validates_first_version_and_revision() -> None:
    index = DedupIndex({}, {})
    first = index.decide(clean_of("Headline\nThe wall held through the storm."))
    second = index.decide(clean_of("Headline\nThe wall held through the storm. More later."))
    assert isinstance(first, UniqueArticle) and isinstance(second, UniqueArticle)
    for unique in (first, second):
        d = enrich_article(unique).to_dict()
        valid("enriched", d)
    assert enrich_article(second).to_dict()["supersedes"] == first.article.article_id


def test_enriched_article_with_unknown_language_validates() -> None:
    unique = UniqueArticle(clean_of("Scores\n3 1 2 0 4 4 1 0", url=None), 1, None)
    d = enrich_article(unique).to_dict()
    assert d["language"] is None
    valid("enriched", d)


def test_duplicate_notice_validates() -> None:
    # Long enough to count as evidence: identical bodies under ten words never match.
    body = "Headline\nThe new flood wall held through the weekend storm, officials said."
    index = DedupIndex({}, {})
    index.decide(clean_of(body))
    for url in ("https://www.valley-times.example/a/", "https://county-wire.example/b"):
        notice = index.decide(clean_of(body, url=url))
        assert isinstance(notice, DuplicateNotice)
        valid("duplicates", notice.to_dict())


@pytest.mark.parametrize(
    "letter",
    [
        DeadLetter.from_rejection(
            Rejection("malformed_json", "parse", "unexpected end of data"),
            b'{"url": ',
            Origin("articles.raw", 1, 99, b"key"),
        ),
        DeadLetter("too_large", "parse", "value is 11 bytes, limit is 10", b"\xff" * 11),
        DeadLetter("enrich_error", "enrich", "RuntimeError: boom", b"{}", Origin()),
    ],
    ids=["from-rejection", "offline-origin", "crash"],
)
def test_dead_letter_validates(letter: DeadLetter) -> None:
    d = letter.to_dict()
    valid("deadletter", d)


def test_dead_letter_original_is_base64_of_the_exact_bytes() -> None:
    original = b"\x00\xffnot json\n"
    d = DeadLetter("invalid_utf8", "parse", "bad byte", original, Origin("t", 0, 5)).to_dict()
    assert base64.b64decode(d["original"]) == original
    assert (d["source_topic"], d["partition"], d["offset"]) == ("t", 0, 5)


def test_dead_letter_can_cap_its_copy_of_the_original() -> None:
    original = b"0123456789" * 10
    letter = DeadLetter("too_large", "parse", "too big", original, Origin("articles.raw", 0, 1))
    whole = letter.to_dict()
    assert (whole["original_size"], whole["original_truncated"]) == (100, False)
    capped = letter.to_dict(max_original_bytes=16)
    valid("deadletter", capped)
    assert base64.b64decode(capped["original"]) == original[:16]
    assert (capped["original_size"], capped["original_truncated"]) == (100, True)
    assert letter.to_dict(max_original_bytes=100)["original_truncated"] is False


def test_every_record_of_a_pipeline_run_matches_its_topic_schema(fixtures_dir: Path) -> None:
    pipeline = InProcessPipeline(validator("raw"))
    lines = (fixtures_dir / "wire.jsonl").read_bytes().splitlines()
    html = (fixtures_dir / "harbour-bridge.html").read_text(encoding="utf-8")
    inputs = [line for line in lines if line.strip()] + [orjson.dumps({"html": html}), b"[1]"]
    routes = []
    for n, data in enumerate(inputs):
        record = pipeline.run(data, Origin("articles.raw", 0, n))
        route = route_of(record)
        routes.append(route)
        valid(SCHEMA_OF_ROUTE[route], record.to_dict())
    assert set(routes) == {"enriched", "duplicates", "deadletter"}


# --- the validators reject what the contract forbids ---------------------------------


def test_validators_reject_broken_documents() -> None:
    clean = clean_of("Headline\nBody text.").to_dict()
    for broken in (
        {**clean, "body": ""},
        {**clean, "article_id": "not-hex"},
        {**clean, "surprise": 1},
        {k: v for k, v in clean.items() if k != "canonical_url"},
        {**clean, "schema_version": 2},
    ):
        assert validator("clean")(broken) is not None
    letter = DeadLetter("x", "parse", "e", b"").to_dict()
    assert validator("deadletter")({**letter, "reason": "Not A Code"}) is not None
    assert validator("deadletter")({**letter, "stage": "publish"}) is not None
    notice = DuplicateNotice("a" * 32, None, "b" * 32, "exact", 1.0).to_dict()
    assert validator("duplicates")({**notice, "method": "fuzzy"}) is not None
    assert validator("duplicates")({**notice, "similarity": 1.5}) is not None


@pytest.mark.parametrize(
    "doc",
    [
        {"url": "https://valley-times.example/a"},
        {"text": "Headline\nBody.", "anything": {"else": [1, 2]}},
        {"url": None, "html": "<p>x</p>", "schema_version": 1, "language": "de"},
    ],
)
def test_raw_schema_accepts_minimal_and_extended_articles(doc: dict[str, Any]) -> None:
    valid("raw", doc)


# --- records survive the trip through a topic --------------------------------------


def test_clean_and_unique_records_round_trip_through_json() -> None:
    article = clean_of("Headline\nBody text.")
    wire = orjson.loads(orjson.dumps(article.to_dict()))
    back = CleanArticle.from_dict(wire)
    assert back.to_dict() == article.to_dict()
    unique = UniqueArticle(article, 3, "c" * 32)
    assert UniqueArticle.from_dict(orjson.loads(orjson.dumps(unique.to_dict()))) == UniqueArticle(
        back, 3, "c" * 32
    )


def test_enriched_record_routes_to_enriched() -> None:
    enriched = enrich_article(UniqueArticle(clean_of("Headline\nBody text."), 1, None))
    assert isinstance(enriched, EnrichedArticle)
    assert route_of(enriched) == "enriched"
