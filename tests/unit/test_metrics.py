"""End-to-end latency, language mix and entity counts, measured by the real agents
(driven in-process as in test_agents.py) on articles whose raw Kafka timestamp we
set, and the label values those metrics may take."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
from prometheus_client import REGISTRY

from tests.unit.test_agents import ARTICLE, captured_sends, make_app, sent
from worker import metrics
from worker.app import Newswire, decode_origin, encode_origin
from worker.pipeline.enrich_entities import ENTITY_TYPES as ENRICH_ENTITY_TYPES
from worker.pipeline.flow import source_key
from worker.pipeline.records import Origin
from worker.schemas import validator

E2E = "newswire_end_to_end_latency_seconds"
# Entities of several kinds for the English model to find.
NAMED = {
    "url": "https://riverton-post.example/city/water-board-vote",
    "source": "riverton-post.example",
    "text": (
        "Water board approves new reservoir\n"
        "Mayor Helen Okafor said on Tuesday that the Riverton Water Board had approved "
        "the new reservoir near Lake Ashby after a two-year review.\n"
        "The Environmental Protection Agency and the University of Michigan will monitor "
        "the site, Okafor told reporters in Detroit.\n"
        "Board chair Samuel Brandt said construction would begin in March and that the "
        "project would cost the city about 40 million dollars."
    ),
}
GERMAN = {
    "url": "https://tageblatt.example/stadt/brunnen",
    "text": (
        "Der Brunnen am Marktplatz wird saniert\n"
        "Die Stadtverwaltung hat am Montag beschlossen, den alten Brunnen auf dem "
        "Marktplatz im kommenden Frühjahr zu sanieren. Die Arbeiten sollen etwa drei "
        "Monate dauern und werden aus dem Haushalt der Stadt bezahlt.\n"
        "Während der Bauzeit bleibt der Wochenmarkt geöffnet, die Stände werden aber "
        "auf die andere Seite des Platzes verlegt."
    ),
}


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def e2e(outcome: str) -> tuple[float, float]:
    """(count, sum) of the end-to-end histogram for one outcome."""
    labels = {"outcome": outcome}
    return sample(f"{E2E}_count", labels), sample(f"{E2E}_sum", labels)


async def clean_with_timestamps(
    newswire: Newswire, values: list[tuple[bytes, float | None]]
) -> dict[str, Any]:
    """Feeds the clean agent as the route agent does, the raw messages carrying
    the given Kafka timestamps (seconds, as Faust gives them)."""
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["clean"].test_context() as agent:
            for offset, (value, timestamp) in enumerate(values):
                message = SimpleNamespace(topic="articles.raw", partition=0, offset=offset,
                                          key=None, timestamp=timestamp)
                source = source_key(value)
                await agent.put(value, key=source.encode() if source else None,
                                headers=encode_origin(message, source))
    return sends


async def through_dedup_and_enrich(
    newswire: Newswire, cleaned: list[dict[str, Any]]
) -> dict[str, Any]:
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["dedup"].test_context() as dedup:
            for value in cleaned:
                await dedup.put(value, key=value["article_id"].encode())
        async with newswire.app.agents["enrich"].test_context() as enrich:
            for _, value in sent(sends, "unique"):
                await enrich.put(value, key=value["article_id"].encode())
    return sends


async def test_end_to_end_latency_runs_from_the_raw_timestamp_to_each_final_record(
    tmp_path: Path,
) -> None:
    newswire = make_app(tmp_path)
    produced = time.time() - 30.0  # as if the crawler published half a minute ago
    before = {outcome: e2e(outcome) for outcome in metrics.OUTCOMES}
    article = orjson.dumps(ARTICLE)
    clean_sends = await clean_with_timestamps(
        newswire, [(article, produced), (article, produced), (b"{not json", produced)]
    )
    cleaned = [value for _, value in sent(clean_sends, "cleaned")]
    assert len(cleaned) == 2
    # The timestamp travels on the internal topic, valid against its schema...
    assert {value["origin"]["timestamp_ms"] for value in cleaned} == {round(produced * 1000)}
    assert all(validator("clean")(value) is None for value in cleaned)
    sends = await through_dedup_and_enrich(newswire, cleaned)
    finished = time.time()

    (_, enriched), (_, notice) = *sent(sends, "enriched"), *sent(sends, "duplicates")
    # ...but not in the public records, whose v1 schemas stay as they were.
    for topic, record, offset in (("enriched", enriched, 0), ("duplicates", notice, 1)):
        assert record["origin"] == {"topic": "articles.raw", "partition": 0, "offset": offset}
        assert validator(topic)(record) is None

    for outcome in metrics.OUTCOMES:  # one final record each, 30 s and a little after
        count, total = e2e(outcome)
        assert count == before[outcome][0] + 1, outcome
        assert 30.0 <= total - before[outcome][1] <= finished - produced, outcome


async def test_inputs_without_a_kafka_timestamp_are_not_timed(tmp_path: Path) -> None:
    newswire = make_app(tmp_path)
    before = e2e("dead_letter")
    # Kafka's "no timestamp" (-1 ms) reaches Faust as a negative number of seconds.
    await clean_with_timestamps(newswire, [(b"{not json", None), (b"[1]", -0.001)])
    assert e2e("dead_letter") == before


def test_the_origin_header_of_an_older_worker_still_decodes() -> None:
    old = orjson.dumps(["articles.raw", 2, 17, "riverton-post.example", None])
    message = SimpleNamespace(headers=[("newswire-origin", old)])
    assert decode_origin(message) == (Origin("articles.raw", 2, 17), "riverton-post.example")


def test_a_producer_clock_ahead_of_ours_counts_as_zero() -> None:
    count, total = e2e("duplicate")
    metrics.observe_published("duplicate", Origin(timestamp_ms=10_000), now=9.0)
    assert e2e("duplicate") == (count + 1, total)


async def test_language_mix_and_entity_counts_of_enriched_articles(tmp_path: Path) -> None:
    newswire = make_app(tmp_path)
    languages = {code: sample("newswire_enriched_articles_total", {"language": code})
                 for code in ("en", "de")}
    entities = {kind: (sample("newswire_article_entities_count", {"type": kind}),
                       sample("newswire_article_entities_sum", {"type": kind}))
                for kind in metrics.ENTITY_TYPES}
    clean_sends = await clean_with_timestamps(
        newswire, [(orjson.dumps(NAMED), None), (orjson.dumps(GERMAN), None)]
    )
    sends = await through_dedup_and_enrich(
        newswire, [value for _, value in sent(clean_sends, "cleaned")]
    )
    records = {record["language"]: record for _, record in sent(sends, "enriched")}
    assert set(records) == {"en", "de"}
    for code in ("en", "de"):
        assert sample("newswire_enriched_articles_total", {"language": code}) == (
            languages[code] + 1)

    # Only the English article has an NER model: it alone is observed, once per
    # type, with as many entities of each type as its record lists.
    found = [entity["type"] for entity in records["en"]["entities"]]
    assert len(set(found)) >= 2, f"the model found too little to test with: {found}"
    for kind in metrics.ENTITY_TYPES:
        count, total = entities[kind]
        assert sample("newswire_article_entities_count", {"type": kind}) == count + 1, kind
        assert sample("newswire_article_entities_sum", {"type": kind}) == (
            total + found.count(kind)), kind


def test_language_labels_stay_within_a_fixed_list() -> None:
    assert metrics.language_label("en") == "en"
    assert metrics.language_label("nn") == "other"  # known to the identifier, not listed
    assert metrics.language_label("ace") == "other"  # three-letter codes exist too
    assert metrics.language_label(None) == "und"  # below the confidence threshold
    assert metrics.language_label("") == "und"
    assert all(len(code) == 2 and code.islower() for code in metrics.LANGUAGES)


def test_entity_types_cover_what_the_enrich_stage_reports() -> None:
    assert set(ENRICH_ENTITY_TYPES.values()) <= set(metrics.ENTITY_TYPES)


def test_new_series_exist_at_zero_from_the_start(tmp_path: Path) -> None:
    """Primed like the others: increase() would miss a series' first event."""
    make_app(tmp_path)
    for outcome in metrics.OUTCOMES:
        assert REGISTRY.get_sample_value(f"{E2E}_count", {"outcome": outcome}) is not None
    for code in (*metrics.LANGUAGES, "other", "und"):
        labels = {"language": code}
        assert REGISTRY.get_sample_value("newswire_enriched_articles_total", labels) is not None
    for kind in metrics.ENTITY_TYPES:
        labels = {"type": kind}
        assert REGISTRY.get_sample_value("newswire_article_entities_count", labels) is not None
