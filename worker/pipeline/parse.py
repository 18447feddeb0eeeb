"""bytes -> RawArticle, or a Rejection with a stable reason code.

Reason codes are part of the public contract (dead letters are filtered and
replayed by them), so they never change meaning:

- ``too_large``        value over the configured byte limit
- ``invalid_utf8``     not UTF-8 at all
- ``malformed_json``   UTF-8 but not JSON
- ``not_an_object``    JSON, but not an object
- ``missing_content``  neither ``url`` nor ``html``/``text``
- ``schema_violation`` fields of the wrong type or shape (per schemas/raw-article),
                       or JSON nested deeper than ``MAX_NESTING`` levels
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from worker.pipeline.records import RawArticle, Rejection

# Returns None when the document is valid, else a one-line description. The
# shell passes a compiled JSON Schema validator; keeping it a parameter keeps
# this module free of I/O.
Validator = Callable[[Any], str | None]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

# orjson reads 1,024 levels of nesting but writes only 254, and unknown fields
# travel on in ``extra`` a few levels down in every output record: an input
# nested deeper could be read but its outputs not written. Real articles are
# nearly flat.
MAX_NESTING = 128

KNOWN_FIELDS = frozenset(
    {"url", "html", "text", "title", "source", "published_at", "fetched_at", "language"}
)


def _reject(reason: str, error: str) -> Rejection:
    return Rejection(reason=reason, stage="parse", error=error)


def decode_json(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Any | Rejection:
    """Decode a message value into a JSON value, classifying every failure."""
    if len(data) > max_bytes:
        return _reject("too_large", f"value is {len(data)} bytes, limit is {max_bytes}")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # orjson also refuses invalid UTF-8; tell the two apart for the operator.
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as uexc:
            return _reject("invalid_utf8", str(uexc))
        return _reject("malformed_json", str(exc))


def _nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest more than ``limit`` deep (iterative: no recursion
    for hostile input to exhaust)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, Mapping) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, Mapping | list))
    return False


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def article_from_object(obj: Any, validate: Validator | None = None) -> RawArticle | Rejection:
    """Turn a decoded JSON value into a RawArticle, keeping unknown fields in ``extra``."""
    if not isinstance(obj, Mapping):
        return _reject("not_an_object", f"expected a JSON object, got {type(obj).__name__}")
    if _nesting_exceeds(obj, MAX_NESTING):
        return _reject("schema_violation", f"JSON nests deeper than {MAX_NESTING} levels")
    if validate is not None:
        problem = validate(obj)
        if problem is not None:
            return _reject("schema_violation", problem)
    if _blank(obj.get("url")) and _blank(obj.get("html")) and _blank(obj.get("text")):
        return _reject("missing_content", "article has neither url nor html/text content")
    return RawArticle(
        url=obj.get("url"),
        html=obj.get("html"),
        text=obj.get("text"),
        title=obj.get("title"),
        source=obj.get("source"),
        published_at=obj.get("published_at"),
        fetched_at=obj.get("fetched_at"),
        language=obj.get("language"),
        extra={k: v for k, v in obj.items() if k not in KNOWN_FIELDS},
    )


def parse_raw(
    data: bytes, validate: Validator | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> RawArticle | Rejection:
    decoded = decode_json(data, max_bytes)
    if isinstance(decoded, Rejection):
        return decoded
    return article_from_object(decoded, validate)
