"""The stages as the worker runs them, with errors turned into values.

The Faust agents and ``newswire process`` both call exactly these functions,
which is what makes the offline mode give the streaming worker's decisions.
Nothing here raises on bad input: every failure becomes a DeadLetter.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from worker.pipeline.clean import CleanOptions, clean_article
from worker.pipeline.dedup import DedupIndex
from worker.pipeline.enrich import EnrichOptions, enrich_article
from worker.pipeline.parse import DEFAULT_MAX_BYTES, Validator, parse_raw
from worker.pipeline.records import (
    CleanArticle,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    Origin,
    Rejection,
    UniqueArticle,
)

# Which public topic a record goes to; names are settings, roles are not.
Route = Literal["cleaned", "unique", "enriched", "duplicates", "deadletter"]


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    max_bytes: int = DEFAULT_MAX_BYTES
    clean: CleanOptions = field(default_factory=CleanOptions)
    enrich: EnrichOptions = field(default_factory=EnrichOptions)


def _crash(stage: Any, exc: BaseException, original: bytes, origin: Origin) -> DeadLetter:
    # An exception here is a bug in our code, not in the input; it still must
    # not stop the stream, and the input must stay replayable.
    return DeadLetter(
        reason=f"{stage}_error",
        stage=stage,
        error=f"{type(exc).__name__}: {exc}",
        original=original,
        origin=origin,
    )


def clean_stage(
    data: bytes,
    origin: Origin,
    validate: Validator | None = None,
    config: PipelineConfig | None = None,
) -> CleanArticle | DeadLetter:
    """Raw message bytes -> CleanArticle, or a DeadLetter carrying the bytes."""
    config = config or PipelineConfig()
    try:
        raw = parse_raw(data, validate, config.max_bytes)
        if isinstance(raw, Rejection):
            return DeadLetter.from_rejection(raw, data, origin)
        result = clean_article(raw, origin, config.clean)
        if isinstance(result, Rejection):
            return DeadLetter.from_rejection(result, data, origin)
        return result
    except Exception as exc:
        return _crash("clean", exc, data, origin)


def dedup_stage(article: CleanArticle, index: DedupIndex) -> UniqueArticle | DuplicateNotice:
    return index.decide(article)


def enrich_stage(
    unique: UniqueArticle, config: PipelineConfig | None = None
) -> EnrichedArticle | DeadLetter:
    config = config or PipelineConfig()
    try:
        return enrich_article(unique, config.enrich)
    except Exception as exc:
        original = orjson.dumps(unique.to_dict())
        return _crash("enrich", exc, original, unique.article.origin)


def route_of(record: object) -> Route:
    if isinstance(record, EnrichedArticle):
        return "enriched"
    if isinstance(record, DuplicateNotice):
        return "duplicates"
    if isinstance(record, DeadLetter):
        return "deadletter"
    if isinstance(record, UniqueArticle):
        return "unique"
    if isinstance(record, CleanArticle):
        return "cleaned"
    raise TypeError(f"not a pipeline record: {type(record).__name__}")


Record = CleanArticle | UniqueArticle | EnrichedArticle | DuplicateNotice | DeadLetter
StopAfter = Literal["clean", "dedup", "enrich"]


class InProcessPipeline:
    """All stages in one process, in input order, with dict-backed dedup state."""

    def __init__(
        self,
        validate: Validator | None = None,
        config: PipelineConfig | None = None,
        urls: MutableMapping[str, Any] | None = None,
        hashes: MutableMapping[str, Any] | None = None,
    ) -> None:
        self.validate = validate
        self.config = config or PipelineConfig()
        self.index = DedupIndex(
            urls if urls is not None else {}, hashes if hashes is not None else {}
        )

    def run(self, data: bytes, origin: Origin, stop_after: StopAfter = "enrich") -> Record:
        cleaned = clean_stage(data, origin, self.validate, self.config)
        if isinstance(cleaned, DeadLetter) or stop_after == "clean":
            return cleaned
        decided = dedup_stage(cleaned, self.index)
        if isinstance(decided, DuplicateNotice) or stop_after == "dedup":
            return decided
        return enrich_stage(decided, self.config)
