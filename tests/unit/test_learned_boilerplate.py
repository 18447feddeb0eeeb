"""Learned boilerplate through the clean stage: a source's repeated lines are
learned from its stream and then removed from its articles, deterministically."""

from __future__ import annotations

import orjson

from worker.pipeline.boilerplate import SourceLines
from worker.pipeline.flow import InProcessPipeline, clean_stage, source_key, source_of
from worker.pipeline.parse import parse_raw
from worker.pipeline.records import CleanArticle, Origin

FOOTER = (
    "Support independent local reporting in the valley with a subscription to the Ledger today."
)
PLACES = ["Ashford", "Brinley", "Coldwater", "Dunmore", "Eastwick", "Farrow", "Glenmore",
          "Hollins"]


def article(n: int, source: str | None = "valley-ledger.example") -> bytes:
    place = PLACES[n % len(PLACES)]
    text = "\n".join([
        f"{place} opens its new library wing",
        f"The new library wing in {place} opened on Saturday after two years of building work, "
        f"and {n * 7 + 12} residents signed up for cards on the first day.",
        f"Volunteers in {place} said the reading room would stay open late on weekdays, "
        "and that the children's corner already needs more shelves.",
        FOOTER,
    ])
    doc = {"url": f"https://valley-ledger.example/news/{place.lower()}-{n}", "text": text}
    if source:
        doc["source"] = source
    return orjson.dumps(doc)


def test_a_line_on_most_of_a_sources_pages_is_learned_and_removed() -> None:
    sources: dict[str, SourceLines] = {}
    bodies = []
    for n in range(12):
        result = clean_stage(article(n), Origin(), sources=sources)
        assert isinstance(result, CleanArticle)
        bodies.append(result)
    assert FOOTER in bodies[0].body  # nothing learned yet: the first pages keep it
    assert FOOTER not in bodies[-1].body
    rules = {r["rule"] for r in bodies[-1].clean["removed"]}
    assert "learned-boilerplate" in rules
    assert sources["valley-ledger.example"].articles == 12


def test_learning_is_per_source() -> None:
    sources: dict[str, SourceLines] = {}
    for n in range(12):
        clean_stage(article(n), Origin(), sources=sources)
    other = clean_stage(article(99, source="hill-courier.example"), Origin(), sources=sources)
    assert isinstance(other, CleanArticle)
    assert FOOTER in other.body


def test_offline_pipeline_learns_the_same_way_every_run() -> None:
    def run() -> list[str]:
        pipeline = InProcessPipeline()
        out = []
        for n in range(12):
            record = pipeline.run(article(n), Origin(), stop_after="clean")
            assert isinstance(record, CleanArticle)
            out.append(record.article_id)
        return out

    assert run() == run()


def test_source_is_the_crawler_source_else_the_host() -> None:
    with_source = parse_raw(article(1))
    without = parse_raw(article(1, source=None))
    assert source_of(with_source) == "valley-ledger.example"  # type: ignore[arg-type]
    assert source_of(without) == "valley-ledger.example"  # type: ignore[arg-type]
    assert source_key(b'{"url": "https://www.Example.com/a?utm_source=x", "text": "x"}') == (
        "example.com"
    )
    assert source_key(b"not json") is None
    assert source_key(b'{"url": 5, "text": "wrong type"}') is None
