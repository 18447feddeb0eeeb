"""The route agent, the first to see a raw value, with values it cannot forward.

A producer using Kafka compression can publish a value far larger than the raw
topic's max.message.bytes (the broker checks the compressed batch), and the
route agent then cannot re-publish it whole. It must become a dead letter, not
a crashed agent (which is what it was: an integration run lost the value)."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
from faust.exceptions import ProducerSendError

from tests.unit.test_agents import ARTICLE, captured_sends, make_app, sent
from worker.schemas import validator
from worker.topics import deadletter_limit, raw_limit


async def test_a_value_past_the_raw_limit_is_dead_lettered_and_the_agent_goes_on(
    tmp_path: Path,
) -> None:
    newswire = make_app(tmp_path, max_message_bytes=1000)
    limit = raw_limit(1000)
    huge = orjson.dumps({**ARTICLE, "text": "word " * limit})
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["route"].test_context() as agent:
            await agent.put(huge, key=b"huge")
            await agent.put(orjson.dumps(ARTICLE), key=b"fine")
    [(key, letter)] = sent(sends, "deadletter")
    assert key == b"huge"
    assert validator("deadletter")(letter) is None
    assert (letter["reason"], letter["stage"]) == ("too_large", "parse")
    assert letter["original_size"] == len(huge)
    assert letter["original_truncated"] is True
    assert base64.b64decode(letter["original"]) == huge[:limit]
    assert len(orjson.dumps(letter)) < deadletter_limit(1000)
    # Only the article that fits went on to be cleaned.
    assert [c.kwargs["value"] for c in sends["by_source"].await_args_list] == [
        orjson.dumps(ARTICLE)
    ]


async def test_a_refused_forward_is_a_publish_failed_dead_letter(tmp_path: Path) -> None:
    newswire = make_app(tmp_path)
    with captured_sends(newswire) as sends:
        sends["by_source"].side_effect = [ProducerSendError("MessageSizeTooLarge"), None]
        async with newswire.app.agents["route"].test_context() as agent:
            await agent.put(orjson.dumps(ARTICLE), key=b"first")
            await agent.put(orjson.dumps(ARTICLE), key=b"second")
    [(key, letter)] = sent(sends, "deadletter")
    assert key == b"first"
    assert (letter["reason"], letter["stage"]) == ("publish_failed", "parse")
    assert orjson.loads(base64.b64decode(letter["original"])) == ARTICLE
    assert sends["by_source"].await_count == 2
