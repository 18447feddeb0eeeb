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

from worker.pipeline.boilerplate import SourceLines
from worker.pipeline.clean import CleanOptions, clean_article
from worker.pipeline.dedup import DedupIndex, DedupOptions, canonical_url, url_host
from worker.pipeline.enrich import EnrichOptions, enrich_article, enrich_batch
from worker.pipeline.parse import (
    DEFAULT_MAX_BYTES,
    Validator,
    article_from_object,
    decode_json,
    parse_raw,
)
from worker.pipeline.plaintext import page_lines
from worker.pipeline.records import (
    CleanArticle,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    Origin,
    RawArticle,
    Rejection,
    UniqueArticle,
)

# Which public topic a record goes to; names are settings, roles are not.
Route = Literal["cleaned", "unique", "enriched", "duplicates", "deadletter"]


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    max_bytes: int = DEFAULT_MAX_BYTES
    clean: CleanOptions = field(default_factory=CleanOptions)
    dedup: DedupOptions = field(default_factory=DedupOptions)
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


def source_of(raw: RawArticle) -> str | None:
    """The source whose learned boilerplate applies: the crawler's ``source``, else
    the URL's host. The worker partitions the raw stream by it, so one worker
    holds (and alone updates) each source's statistics."""
    # Unvalidated input may carry any JSON type here; only strings name a source.
    if isinstance(raw.source, str) and raw.source.strip():
        return raw.source.strip().lower()
    return url_host(canonical_url(raw.url)) if isinstance(raw.url, str) else None


def source_key(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> str | None:
    """``source_of`` straight from message bytes (None when they do not parse)."""
    decoded = decode_json(data, max_bytes)
    if isinstance(decoded, Rejection):
        return None
    raw = article_from_object(decoded)
    return None if isinstance(raw, Rejection) else source_of(raw)


def clean_stage(
    data: bytes,
    origin: Origin,
    validate: Validator | None = None,
    config: PipelineConfig | None = None,
    sources: MutableMapping[str, SourceLines] | None = None,
) -> CleanArticle | DeadLetter:
    """Raw message bytes -> CleanArticle, or a DeadLetter carrying the bytes.

    ``sources`` holds the learned per-source line statistics: a plain-text
    article is cleaned with its source's state, then counted into it, so an
    article is never judged by statistics that already include it and the
    same stream always gives the same bodies."""
    config = config or PipelineConfig()
    try:
        raw = parse_raw(data, validate, config.max_bytes)
        if isinstance(raw, Rejection):
            return DeadLetter.from_rejection(raw, data, origin)
        source = source_of(raw) if sources is not None and raw.text and not raw.html else None
        known = sources.get(source) if sources is not None and source else None
        result = clean_article(raw, origin, config.clean, known)
        if sources is not None and source and raw.text:
            state = known if known is not None else SourceLines()
            state.observe(page_lines(raw.text))
            sources[source] = state
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


def enrich_stage_batch(
    uniques: list[UniqueArticle], config: PipelineConfig | None = None
) -> list[EnrichedArticle | DeadLetter]:
    """Enrich a batch in one pass of the NER model; if the batch fails, each
    article again alone, so a bad article dead-letters only itself."""
    config = config or PipelineConfig()
    try:
        return list(enrich_batch(uniques, config.enrich))
    except Exception:
        return [enrich_stage(unique, config) for unique in uniques]


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
    """All stages in one process, in input order, with dict-backed dedup state
    unless other mappings are given (the same tables the worker keeps)."""

    def __init__(
        self,
        validate: Validator | None = None,
        config: PipelineConfig | None = None,
        urls: MutableMapping[str, Any] | None = None,
        hashes: MutableMapping[str, Any] | None = None,
        bands: MutableMapping[int, Any] | None = None,
        sketches: MutableMapping[str, Any] | None = None,
        timeline: MutableMapping[str, Any] | None = None,
    ) -> None:
        self.validate = validate
        self.config = config or PipelineConfig()
        self.index = DedupIndex(
            urls if urls is not None else {},
            hashes if hashes is not None else {},
            bands,
            sketches,
            timeline,
            options=self.config.dedup,
        )
        self.sources: dict[str, SourceLines] = {}

    def run(self, data: bytes, origin: Origin, stop_after: StopAfter = "enrich") -> Record:
        cleaned = clean_stage(data, origin, self.validate, self.config, self.sources)
        if isinstance(cleaned, DeadLetter) or stop_after == "clean":
            return cleaned
        decided = dedup_stage(cleaned, self.index)
        if isinstance(decided, DuplicateNotice) or stop_after == "dedup":
            return decided
        return enrich_stage(decided, self.config)
