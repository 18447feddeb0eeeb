"""parse: message bytes -> RawArticle, or a Rejection with a stable reason code."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from worker.pipeline.parse import DEFAULT_MAX_BYTES, parse_raw
from worker.pipeline.records import RawArticle, Rejection
from worker.schemas import validator

VALIDATE = validator("raw")


def rejected(data: bytes, **kwargs: Any) -> Rejection:
    result = parse_raw(data, VALIDATE, **kwargs)
    assert isinstance(result, Rejection), f"expected a rejection, got {result!r}"
    assert result.stage == "parse"
    assert result.error, "a rejection must say what was wrong"
    return result


def accepted(data: bytes, **kwargs: Any) -> RawArticle:
    result = parse_raw(data, VALIDATE, **kwargs)
    assert isinstance(result, RawArticle), f"expected an article, got {result!r}"
    return result


def test_full_article_is_parsed_field_by_field() -> None:
    doc = {
        "url": "https://valley-times.example/news/flood-defences",
        "html": "<p>The new flood wall held through the weekend storm.</p>",
        "title": "Flood wall holds",
        "source": "valley-times.example",
        "published_at": "2024-05-02T07:15:00Z",
        "fetched_at": "2024-05-02T07:20:11Z",
        "language": "en",
    }
    raw = accepted(orjson.dumps(doc))
    assert raw.url == doc["url"]
    assert raw.html == doc["html"]
    assert raw.text is None
    assert raw.title == "Flood wall holds"
    assert raw.source == "valley-times.example"
    assert raw.published_at == "2024-05-02T07:15:00Z"
    assert raw.fetched_at == "2024-05-02T07:20:11Z"
    assert raw.language == "en"
    assert raw.extra == {}


def test_unknown_fields_are_kept_in_extra_not_rejected() -> None:
    doc = {
        "url": "https://valley-times.example/a",
        "text": "Headline\nBody.",
        "feed_id": "vt-42",
        "crawl": {"depth": 2, "agent": "spider/1.0"},
        "labels": ["local", "weather"],
    }
    raw = accepted(orjson.dumps(doc))
    assert raw.extra == {
        "feed_id": "vt-42",
        "crawl": {"depth": 2, "agent": "spider/1.0"},
        "labels": ["local", "weather"],
    }
    assert raw.text == "Headline\nBody."


@pytest.mark.parametrize(
    "doc",
    [
        {"url": "https://valley-times.example/only-a-url"},
        {"html": "<p>Content without a URL.</p>"},
        {"text": "Content without a URL."},
    ],
)
def test_url_or_content_alone_is_enough(doc: dict[str, Any]) -> None:
    accepted(orjson.dumps(doc))


def test_too_large_is_checked_before_decoding() -> None:
    data = orjson.dumps({"url": "https://valley-times.example/a", "text": "x" * 200})
    assert rejected(data, max_bytes=100).reason == "too_large"
    # Even bytes that are not JSON at all: the size limit comes first.
    assert rejected(b"\xff" * 101, max_bytes=100).reason == "too_large"
    # Exactly at the limit is accepted.
    accepted(data, max_bytes=len(data))


def test_default_limit_is_ten_megabytes() -> None:
    assert DEFAULT_MAX_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe{}",
        b'{"url": "https://valley-times.example/a", "text": "caf\xe9 opens"}',  # latin-1 byte
        b"\xc3\x28",
    ],
)
def test_invalid_utf8(data: bytes) -> None:
    assert rejected(data).reason == "invalid_utf8"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json at all",
        b'{"url": "https://valley-times.example/a"',
        b"{'url': 'single quotes'}",
        b'{"url": "https://valley-times.example/a",}',
    ],
)
def test_malformed_json(data: bytes) -> None:
    assert rejected(data).reason == "malformed_json"


@pytest.mark.parametrize("data", [b"[]", b'["url"]', b'"a string"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object(data: bytes) -> None:
    assert rejected(data).reason == "not_an_object"


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"title": "A headline alone is not an article"},
        {"url": None, "html": None, "text": None},
        {"url": "   ", "html": "", "text": "\n\t "},
        {"source": "valley-times.example", "feed_id": "vt-42"},
    ],
)
def test_missing_content(doc: dict[str, Any]) -> None:
    assert rejected(orjson.dumps(doc)).reason == "missing_content"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"url": 12345}, "url"),
        ({"url": "https://valley-times.example/a", "html": ["<p>list</p>"]}, "html"),
        ({"text": {"body": "nested"}}, "text"),
        ({"text": "Body.", "title": 7}, "title"),
        ({"text": "Body.", "published_at": 1714633200}, "published_at"),
        ({"text": "Body.", "schema_version": 2}, "schema_version"),
        ({"url": "https://valley-times.example/" + "a" * 8200}, "url"),
    ],
)
def test_schema_violation_names_the_field(doc: dict[str, Any], field: str) -> None:
    rejection = rejected(orjson.dumps(doc))
    assert rejection.reason == "schema_violation"
    assert field in rejection.error


def test_wrong_types_pass_without_a_validator_but_fail_with_it() -> None:
    data = orjson.dumps({"url": "https://valley-times.example/a", "title": 7})
    assert isinstance(parse_raw(data), RawArticle)
    assert rejected(data).reason == "schema_violation"


def test_reason_codes_are_stable_machine_codes() -> None:
    samples = [
        (b"x" * 20, {"max_bytes": 10}),
        (b"\xff", {}),
        (b"{", {}),
        (b"[]", {}),
        (b"{}", {}),
        (b'{"url": 1}', {}),
    ]
    reasons = [rejected(data, **kw).reason for data, kw in samples]
    assert reasons == [
        "too_large",
        "invalid_utf8",
        "malformed_json",
        "not_an_object",
        "missing_content",
        "schema_violation",
    ]
