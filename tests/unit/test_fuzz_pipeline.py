"""Property-based fuzzing of parse and clean (and the whole in-process pipeline):
whatever the bytes, no exception escapes, the outcome is exactly one record the
worker can publish, and a dead letter carries a reason code for the input, not
one for a bug of ours.

Deterministic for CI: derandomized, no example database, bounded examples.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.pipeline.flow import InProcessPipeline, clean_stage, route_of
from worker.pipeline.parse import parse_raw
from worker.pipeline.records import CleanArticle, DeadLetter, Origin, RawArticle, Rejection
from worker.schemas import validator

FUZZ = settings(
    max_examples=100, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PARSE_REASONS = {"too_large", "invalid_utf8", "malformed_json", "not_an_object",
                 "missing_content", "schema_violation"}
CLEAN_REASONS = {"empty_body", "extract_timeout", "too_large"}
ORIGIN = Origin("articles.raw", 0, 7, b"k")
VALIDATE = validator("raw")

# JSON values orjson writes: integers within 64 bits, finite floats, no surrogates.
json_scalars = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

_WORDS = ("Harbour", "council", "met", "on", "Tuesday", "budget", "Alice", "Smith", "said",
          "the", "ferry", "Berlin", "strike", "\u00e9t\u00e9", "\u043c\u0438\u0440", "\u6771\u4eac",
          ".", ",", "\u201cquote\u201d", "2024", "$5m", "per", "cent")
_TAGS = ["p", "div", "article", "main", "span", "a", "h1", "h2", "li", "ul", "nav", "footer",
         "script", "style", "figure", "figcaption", "table", "td", "br", "img", "svg", "math",
         "template", "noscript", "iframe", "title", "meta", "time", "header", "aside"]
_PIECES = [
    "<!DOCTYPE html>", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', "&e;",
    "<!-- c -->", "<!--", "<![CDATA[x]]>", "&amp;", "&#0;", "&#x110000;", "&#99999999999;",
    "&nbsp;", "&lol", "\x00", "<", ">", "</", "<?xml version='1.0'?>", '"', "'", "=",
    '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H"</script>',
    '<script type="application/ld+json">[[[[[</script>',
    '<meta property="og:title" content="T">', '<link rel="canonical" href="::">',
    '<time datetime="2024-13-45T99:99">', "\u202e", "\ufeff", "\r\n",
]
html_pieces = st.one_of(
    st.sampled_from(_TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(_TAGS).map(lambda t: f"</{t}>"),
    st.tuples(st.sampled_from(_TAGS), st.sampled_from(["class", "id", "role", "href", "src",
                                                        "datetime", "itemprop"]),
              st.text(max_size=12)).map(lambda t: f'<{t[0]} {t[1]}="{t[2]}">'),
    st.sampled_from(_PIECES),
    st.text(max_size=60),
    st.just("The harbour council met on Tuesday to debate the budget for next year. "),
)
html_ish = st.lists(html_pieces, max_size=60).map("".join)
text_ish = st.lists(
    st.one_of(st.text(max_size=80), st.sampled_from(
        ["\n", "\n\n", "Share", "Tags Harbour Council Budget", "Photo: Jo Bloggs/Agency",
         "Most Popular", "Load more", "The council met on Tuesday to debate the budget."])),
    max_size=40,
).map("".join)


def articles() -> st.SearchStrategy[dict[str, Any]]:
    """RawArticle-shaped objects, right types and wrong, with unknown fields."""
    content = st.one_of(html_ish, text_ish, json_values)
    return st.fixed_dictionaries(
        {},
        optional={
            "url": st.one_of(st.just("https://news.example.com/a/1"), st.text(max_size=30),
                             json_values),
            "html": st.one_of(html_ish, json_values),
            "text": st.one_of(text_ish, json_values),
            "title": st.one_of(st.text(max_size=30), json_values),
            "source": st.one_of(st.text(max_size=12), json_values),
            "published_at": st.one_of(st.sampled_from(["2024-02-30", "yesterday", ""]),
                                      json_values),
            "language": st.one_of(st.sampled_from(["en", "xx", ""]), json_values),
            "extra_field": json_values,
            "schema_version": json_values,
            "content": content,
        },
    )


def valid_articles() -> st.SearchStrategy[dict[str, Any]]:
    """Well-typed RawArticles with random content: these get past the schema
    and exercise cleaning, dedup and enrichment."""
    body = st.one_of(
        html_ish.map(lambda h: {"html": h}),
        text_ish.map(lambda t: {"text": t}),
        st.lists(st.sampled_from(_WORDS), min_size=20, max_size=200).map(
            lambda ws: {"text": "Harbour news\n" + " ".join(ws)}),
    )
    fields = st.fixed_dictionaries(
        {"url": st.integers(0, 40).map(lambda n: f"https://news.example.com/{n}")},
        optional={"title": st.text(max_size=30), "source": st.sampled_from(["a.example", "B"]),
                  "language": st.sampled_from(["en", "de", "xx"]),
                  "published_at": st.sampled_from(["2024-02-29T10:00:00Z", "2024-02-30"]),
                  "extra_field": json_values},
    )
    return st.tuples(fields, body).map(lambda fb: {**fb[0], **fb[1]})


def _check_clean(data: bytes, result: CleanArticle | DeadLetter) -> None:
    assert isinstance(result, CleanArticle | DeadLetter)
    if isinstance(result, DeadLetter):
        assert result.reason in PARSE_REASONS | CLEAN_REASONS, (result.reason, result.error)
        assert result.original == data  # replayable: the input travels whole
        assert result.origin == ORIGIN
    orjson.dumps(result.to_dict())  # the worker can publish it


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    parsed = parse_raw(data, VALIDATE)
    assert isinstance(parsed, RawArticle | Rejection)
    _check_clean(data, clean_stage(data, ORIGIN, VALIDATE))


@FUZZ
@given(st.one_of(articles(), valid_articles()))
def test_random_article_objects(obj: dict[str, Any]) -> None:
    data = orjson.dumps(obj)
    _check_clean(data, clean_stage(data, ORIGIN, VALIDATE))


@FUZZ
@given(st.one_of(json_values, st.lists(json_values)))
def test_random_json_values(value: Any) -> None:
    data = orjson.dumps(value)
    _check_clean(data, clean_stage(data, ORIGIN, VALIDATE))


@FUZZ
@given(html_ish, st.booleans())
def test_random_html_ish_pages(html: str, as_text: bool) -> None:
    data = orjson.dumps({"url": "https://news.example.com/a/2", ("text" if as_text else "html"):
                         html})
    _check_clean(data, clean_stage(data, ORIGIN, VALIDATE))


_PIPELINE = InProcessPipeline(VALIDATE)


@settings(FUZZ, max_examples=60)
@given(st.one_of(valid_articles(), articles()))
def test_the_whole_pipeline_ends_each_input_in_exactly_one_topic(obj: dict[str, Any]) -> None:
    data = orjson.dumps(obj)
    record = _PIPELINE.run(data, ORIGIN)
    route = route_of(record)
    assert route in ("enriched", "duplicates", "deadletter")
    if isinstance(record, DeadLetter):
        assert record.reason in PARSE_REASONS | CLEAN_REASONS, (record.reason, record.error)
    orjson.dumps(record.to_dict())
