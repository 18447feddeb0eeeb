"""orjson codec for Faust: every (de)serialisation on the hot path goes through it."""

from __future__ import annotations

from typing import Any

import orjson
from faust.serializers import codecs

CODEC_NAME = "orjson"


class OrjsonCodec(codecs.Codec):
    def _dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def _loads(self, s: bytes) -> Any:
        return orjson.loads(s)


def register() -> None:
    """Idempotent: Faust's codec registry is process-global."""
    codecs.register(CODEC_NAME, OrjsonCodec())
