"""The Faust agents, without a broker: Faust's ``agent.test_context()`` feeds each
agent through an in-memory channel, and the ``send`` of every topic is replaced
by an AsyncMock so we see exactly what the agent would publish, and where."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, patch

import orjson
import pytest
from faust.exceptions import ProducerSendError
from prometheus_client import REGISTRY

from worker.app import Newswire, create_app, encode_origin
from worker.pipeline import flow
from worker.pipeline.flow import InProcessPipeline, route_of, source_key
from worker.pipeline.records import Origin
from worker.schemas import validator
from worker.settings import Settings
from worker.topics import deadletter_limit, raw_limit

Sent = list[tuple[bytes | None, dict[str, Any]]]

ARTICLE = {
    "url": "https://www.valley-times.example/news/flood-wall?utm_source=rss",
    "text": (
        "Flood wall holds\n"
        "The new flood wall in Lower Valley held through the weekend storm, officials said.\n"
        "Residents who were evacuated on Friday returned to their homes on Sunday."
    ),
    "source": "valley-times.example",
    "feed_id": "vt-7",
}


def make_app(tmp_path: Path, **overrides: Any) -> Newswire:
    settings = Settings(
        store="memory://", datadir=str(tmp_path / "faust"), processes=0, **overrides
    )
    return create_app(settings, prometheus=False)


@contextmanager
def captured_sends(newswire: Newswire) -> Iterator[dict[str, AsyncMock]]:
    sends = {name: AsyncMock(name=f"{name}.send") for name in newswire.topics}
    with ExitStack() as stack:
        for name, topic in newswire.topics.items():
            stack.enter_context(patch.object(topic, "send", sends[name]))
        yield sends


async def put_raw(agent: Any, value: bytes, key: bytes | None) -> None:
    """Feeds the clean agent as the route agent does: the message re-keyed by
    source, with its position on the raw topic in a header."""
    offset = getattr(agent, "raw_offset", 0)
    agent.raw_offset = offset + 1
    message = SimpleNamespace(topic="articles.raw", partition=0, offset=offset, key=key)
    source = source_key(value) if value else None
    await agent.put(value, key=source.encode() if source else key,
                    headers=encode_origin(message, source))


def sent(sends: dict[str, AsyncMock], topic: str) -> Sent:
    return [(c.kwargs["key"], c.kwargs["value"]) for c in sends[topic].await_args_list]


def metric(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def clean_values(
    newswire: Newswire, values: list[tuple[bytes | None, bytes | None]]
) -> dict[str, AsyncMock]:
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["clean"].test_context() as agent:
            for key, value in values:
                await put_raw(agent, value, key)
    return sends


# --- clean agent ---------------------------------------------------------------------


async def test_clean_agent_sends_a_valid_article_to_the_cleaned_topic(tmp_path: Path) -> None:
    newswire = make_app(tmp_path)
    sends = await clean_values(newswire, [(b"crawler-key", orjson.dumps(ARTICLE))])
    cleaned = sent(sends, "cleaned")
    assert len(cleaned) == 1
    key, value = cleaned[0]
    assert validator("clean")(value) is None
    assert key == value["article_id"].encode()
    assert value["canonical_url"] == "https://valley-times.example/news/flood-wall"
    assert value["title"] == "Flood wall holds"
    assert value["extra"] == {"feed_id": "vt-7"}
    assert value["origin"] == {"topic": "articles.raw", "partition": 0, "offset": 0}
    assert sends["deadletter"].await_count == 0
    for other in ("unique", "enriched", "duplicates"):
        assert sends[other].await_count == 0


@pytest.mark.parametrize(
    ("value", "reason", "stage"),
    [
        (b"<html>not json</html>", "malformed_json", "parse"),
        (b"\xff\xfe\x00garbage", "invalid_utf8", "parse"),
        (b"[1, 2, 3]", "not_an_object", "parse"),
        (b'{"title": "no url, no content"}', "missing_content", "parse"),
        (b'{"url": 42}', "schema_violation", "parse"),
        (b'{"url": "https://a.example/x", "html": "<nav>Home</nav>"}', "empty_body", "clean"),
        (None, "malformed_json", "parse"),  # a tombstone
    ],
    ids=["malformed", "utf8", "array", "empty", "schema", "empty-body", "tombstone"],
)
async def test_clean_agent_dead_letters_garbage_under_its_original_key(
    tmp_path: Path, value: bytes | None, reason: str, stage: str
) -> None:
    newswire = make_app(tmp_path)
    before = metric("newswire_dead_letters_total", {"reason": reason, "stage": stage})
    sends = await clean_values(newswire, [(b"orig-key", value)])
    assert sends["cleaned"].await_count == 0
    letters = sent(sends, "deadletter")
    assert len(letters) == 1
    key, letter = letters[0]
    assert key == b"orig-key"
    assert validator("deadletter")(letter) is None
    assert (letter["reason"], letter["stage"]) == (reason, stage)
    assert (letter["source_topic"], letter["partition"], letter["offset"]) == ("articles.raw", 0, 0)
    assert metric("newswire_dead_letters_total", {"reason": reason, "stage": stage}) == before + 1


async def test_clean_agent_keeps_going_after_garbage(tmp_path: Path) -> None:
    newswire = make_app(tmp_path)
    sends = await clean_values(
        newswire,
        [(b"a", b"{{{"), (b"b", orjson.dumps(ARTICLE)), (b"c", b"null"), (b"d", b"")],
    )
    letters = sent(sends, "deadletter")
    assert [key for key, _ in letters] == [b"a", b"c", b"d"]
    assert [letter["offset"] for _, letter in letters] == [0, 2, 3]
    assert [value["origin"]["offset"] for _, value in sent(sends, "cleaned")] == [1]


async def test_clean_agent_applies_the_size_limit_from_settings(tmp_path: Path) -> None:
    newswire = make_app(tmp_path, max_message_bytes=100)
    sends = await clean_values(newswire, [(None, orjson.dumps(ARTICLE))])
    [(_, letter)] = sent(sends, "deadletter")
    assert letter["reason"] == "too_large"
    assert letter["original_size"] == len(orjson.dumps(ARTICLE))
    assert letter["original_truncated"] is False
    assert orjson.loads(base64.b64decode(letter["original"])) == ARTICLE


async def test_a_dead_letter_copies_at_most_what_the_raw_topic_accepts(tmp_path: Path) -> None:
    newswire = make_app(tmp_path, max_message_bytes=1000)
    limit = raw_limit(1000)
    huge = orjson.dumps({**ARTICLE, "text": ARTICLE["text"] + "x" * (limit + 5000)})
    sends = await clean_values(newswire, [(b"big", huge)])
    [(_, letter)] = sent(sends, "deadletter")
    assert letter["reason"] == "too_large"
    assert letter["original_size"] == len(huge)
    assert letter["original_truncated"] is True
    assert base64.b64decode(letter["original"]) == huge[:limit]
    assert len(orjson.dumps(letter)) < deadletter_limit(1000)


async def test_a_record_the_broker_refuses_becomes_a_publish_failed_dead_letter(
    tmp_path: Path,
) -> None:
    newswire = make_app(tmp_path)
    with captured_sends(newswire) as sends:
        sends["cleaned"].side_effect = [ProducerSendError("MessageSizeTooLarge"), None]
        async with newswire.app.agents["clean"].test_context() as agent:
            await put_raw(agent, orjson.dumps(ARTICLE), b"first")
            await put_raw(agent, orjson.dumps({**ARTICLE, "url": "https://a.example/2"}), b"2nd")
    [(key, letter)] = sent(sends, "deadletter")
    assert key == b"first"
    assert validator("deadletter")(letter) is None
    assert (letter["reason"], letter["stage"]) == ("publish_failed", "clean")
    assert "MessageSizeTooLarge" in letter["error"]
    # The original is the record that could not be sent, ready to replay.
    refused = orjson.loads(base64.b64decode(letter["original"]))
    assert refused["title"] == "Flood wall holds"
    assert validator("clean")(refused) is None
    # The agent went on with the next message.
    assert sends["cleaned"].await_count == 2


# --- dedup agent ---------------------------------------------------------------------


_RAW_OFFSETS = itertools.count(500)


async def cleaned_value(tmp_path: Path, article: dict[str, Any]) -> dict[str, Any]:
    """The cleaned record of ``article`` as if read from its own raw offset (each
    test context numbers from 0; one position twice would be a re-processing)."""
    sends = await clean_values(make_app(tmp_path / "upstream"), [(None, orjson.dumps(article))])
    [(_, value)] = sent(sends, "cleaned")
    return {**value, "origin": {**value["origin"], "offset": next(_RAW_OFFSETS)}}


async def test_dedup_agent_routes_a_repeated_article_to_duplicates(tmp_path: Path) -> None:
    value = await cleaned_value(tmp_path, ARTICLE)
    # The crawler sends the page again: the same record from a later raw offset.
    resent = {**value, "origin": {**value["origin"], "offset": value["origin"]["offset"] + 1}}
    newswire = make_app(tmp_path)
    before = metric("newswire_duplicates_total", {"method": "url"})
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["dedup"].test_context() as agent:
            await agent.put(value, key=value["article_id"].encode())
            await agent.put(resent, key=value["article_id"].encode())
    [(key, unique)] = sent(sends, "unique")
    assert key == value["article_id"].encode()
    assert (unique["revision"], unique["supersedes"]) == (1, None)
    assert {k: v for k, v in unique.items() if k not in ("revision", "supersedes")} == value
    [(key, notice)] = sent(sends, "duplicates")
    assert validator("duplicates")(notice) is None
    assert (notice["method"], notice["duplicate_of"]) == ("url", value["article_id"])
    assert key == value["article_id"].encode()
    assert metric("newswire_duplicates_total", {"method": "url"}) == before + 1
    # The decision state lives in the app's tables (changelogged in production).
    assert (
        newswire.tables["urls"]["https://valley-times.example/news/flood-wall"][0]
        == (value["article_id"])
    )


async def test_dedup_agent_re_processing_an_input_repeats_its_decision(tmp_path: Path) -> None:
    """After a crash the uncommitted tail comes back with the same raw positions:
    the same article again, not a duplicate of itself."""
    value = await cleaned_value(tmp_path, ARTICLE)
    newswire = make_app(tmp_path)
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["dedup"].test_context() as agent:
            await agent.put(value, key=value["article_id"].encode())
            await agent.put(value, key=value["article_id"].encode())
    assert sent(sends, "duplicates") == []
    first, again = sent(sends, "unique")
    assert first == again


async def test_dedup_agent_sends_syndicated_copies_and_revisions_the_right_way(
    tmp_path: Path,
) -> None:
    original = await cleaned_value(tmp_path, ARTICLE)
    syndicated = await cleaned_value(
        tmp_path, {**ARTICLE, "url": "https://county-wire.example/story/51"}
    )
    revised = await cleaned_value(
        tmp_path, {**ARTICLE, "text": ARTICLE["text"] + "\nThe council will inspect it in May."}
    )
    newswire = make_app(tmp_path)
    revisions_before = metric("newswire_revisions_total", {})
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["dedup"].test_context() as agent:
            for value in (original, syndicated, revised):
                await agent.put(value, key=value["article_id"].encode())
    [(_, notice)] = sent(sends, "duplicates")
    assert (notice["method"], notice["duplicate_of"]) == ("exact", original["article_id"])
    uniques = [value for _, value in sent(sends, "unique")]
    assert [(u["revision"], u["supersedes"]) for u in uniques] == [
        (1, None),
        (2, original["article_id"]),
    ]
    assert metric("newswire_revisions_total", {}) == revisions_before + 1


# --- enrich agent --------------------------------------------------------------------


async def unique_value(tmp_path: Path, article: dict[str, Any]) -> dict[str, Any]:
    value = await cleaned_value(tmp_path, article)
    return {**value, "revision": 1, "supersedes": None}


async def test_enrich_agent_publishes_enriched_articles(tmp_path: Path) -> None:
    value = await unique_value(tmp_path, ARTICLE)
    newswire = make_app(tmp_path)
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["enrich"].test_context() as agent:
            await agent.put(value, key=value["article_id"].encode())
    [(key, enriched)] = sent(sends, "enriched")
    assert key == value["article_id"].encode()
    assert validator("enriched")(enriched) is None
    assert enriched["language"] == "en"
    assert enriched["word_count"] == value["fingerprints"]["body_words"]
    assert sends["deadletter"].await_count == 0


async def test_enrich_agent_dead_letters_a_crash_and_keeps_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await unique_value(tmp_path, ARTICLE)
    second = await unique_value(tmp_path, {**ARTICLE, "url": "https://valley-times.example/b"})
    real = flow.enrich_article
    calls = 0

    def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("language model unavailable")
        return real(*args, **kwargs)

    def failing_batch(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("batch failed")

    # The batch fails as a whole, then each article is retried alone.
    monkeypatch.setattr(flow, "enrich_batch", failing_batch)
    monkeypatch.setattr(flow, "enrich_article", flaky)
    newswire = make_app(tmp_path)
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["enrich"].test_context() as agent:
            await agent.put(first, key=b"k1")
            await agent.put(second, key=b"k2")
    [(_, letter)] = sent(sends, "deadletter")
    assert (letter["reason"], letter["stage"]) == ("enrich_error", "enrich")
    assert "language model unavailable" in letter["error"]
    [(_, enriched)] = sent(sends, "enriched")
    assert enriched["url"] == "https://valley-times.example/b"


# --- the agents and `newswire process` agree ------------------------------------------


def _without_origin(value: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in value.items() if k not in ("origin", "source_topic", "partition", "offset")
    }


async def test_streaming_agents_decide_exactly_like_the_offline_pipeline(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    raw = [line for line in (fixtures_dir / "wire.jsonl").read_bytes().splitlines() if line.strip()]
    raw.append(orjson.dumps({"html": (fixtures_dir / "harbour-bridge.html").read_text()}))

    offline = InProcessPipeline(validator("raw"))
    expected = []
    for data in raw:
        record = offline.run(data, Origin())
        expected.append((route_of(record), _without_origin(record.to_dict())))

    newswire = make_app(tmp_path)
    streamed: list[tuple[str, dict[str, Any]]] = []
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["clean"].test_context() as clean:
            for data in raw:
                await put_raw(clean, data, None)
        async with newswire.app.agents["dedup"].test_context() as dedup:
            for _, value in sent(sends, "cleaned"):
                await dedup.put(value, key=None)
        async with newswire.app.agents["enrich"].test_context() as enrich:
            for _, value in sent(sends, "unique"):
                await enrich.put(value, key=None)
    for route in ("enriched", "duplicates", "deadletter"):
        streamed.extend((route, value) for _, value in sent(sends, route))
    # Order differs between topics in a stream, so compare each input's outcome.
    by_offset = sorted(
        streamed,
        key=lambda rv: rv[1]["offset"] if rv[0] == "deadletter" else rv[1]["origin"]["offset"],
    )
    assert [(route, _without_origin(value)) for route, value in by_offset] == expected
    assert [route for route, _ in expected] == [
        "enriched",
        "duplicates",
        "duplicates",
        "deadletter",
        "enriched",
        "enriched",
        "enriched",
    ]
