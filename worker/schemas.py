"""Loads the JSON Schemas (the public contract) and compiles fast validators once."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson

from worker.pipeline.parse import Validator

SCHEMA_FILES = {
    "raw": "raw-article.v1.json",
    "clean": "clean-article.v1.json",
    "enriched": "enriched-article.v1.json",
    "duplicates": "duplicate-notice.v1.json",
    "deadletter": "dead-letter.v1.json",
}


def schema_dir() -> Path:
    # Installed wheels carry the schemas as worker/_schemas; a source checkout
    # (editable install, tests) reads the top-level schemas/ directly.
    packaged = Path(str(resources.files("worker"))) / "_schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((schema_dir() / SCHEMA_FILES[name]).read_bytes())
    return data


@cache
def validator(name: str) -> Validator:
    """A compiled validator returning None for valid documents, else the problem."""
    check = fastjsonschema.compile(load_schema(name))

    def validate(document: Any) -> str | None:
        try:
            check(document)
        except fastjsonschema.JsonSchemaException as exc:
            return str(exc)
        return None

    return validate
