"""NEWSWIRE_LOG_FORMAT=json gives one parseable JSON object per log line."""

from __future__ import annotations

import io
import logging
import logging.config

import orjson

from worker.logs import JsonFormatter, logging_config


def test_json_formatter_writes_one_object_per_event_with_extra_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("newswire.test-json")
    log.addHandler(handler)
    log.propagate = False
    log.warning("dead letter", extra={"reason": "malformed_json", "offset": 17})
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        log.exception("crash")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (orjson.loads(line) for line in lines)
    assert first["msg"] == "dead letter"
    assert first["level"] == "warning"
    assert (first["reason"], first["offset"]) == ("malformed_json", 17)
    assert "ValueError: boom" in second["exc"]


def test_logging_config_selects_the_formatter() -> None:
    as_json = logging_config("info", "json")
    as_text = logging_config("debug", "text")
    assert as_json["formatters"]["default"]["()"] is JsonFormatter
    assert "format" in as_text["formatters"]["default"]
    assert as_text["root"]["level"] == "DEBUG"
    logging.config.dictConfig(as_json)  # a valid dictConfig, not just a dict
    logging.config.dictConfig(logging_config("warning", "text"))
