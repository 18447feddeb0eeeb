"""Typed records that flow between pipeline stages.

They mirror the JSON Schemas in ``schemas/``: every record that leaves the
worker is ``to_dict()`` of one of these, and the schema tests hold the two
together. Records are plain dataclasses so stages stay pure functions over
plain values, easy to call from tests, benchmarks and the offline CLI.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

# Bump a record's version whenever its schema changes incompatibly; consumers
# branch on it. The numbers match the "const" in the schema files.
RAW_SCHEMA_VERSION = 1
CLEAN_SCHEMA_VERSION = 1
ENRICHED_SCHEMA_VERSION = 1
DUPLICATE_SCHEMA_VERSION = 1
DEADLETTER_SCHEMA_VERSION = 1

Stage = Literal["parse", "clean", "dedup", "enrich"]
DuplicateMethod = Literal["url", "exact", "near"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an input came from: a Kafka position, or a file for offline runs."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: bytes | None = None
    # The raw message's Kafka timestamp (ms since the epoch), the start of the
    # end-to-end latency the worker measures when it publishes the final record.
    timestamp_ms: int | None = None

    def to_dict(self, internal: bool = False) -> dict[str, Any]:
        """Public records keep the three position fields of their v1 schemas; the
        internal hops also carry the timestamp (when known) to the last stage."""
        d: dict[str, Any] = {"topic": self.topic, "partition": self.partition,
                             "offset": self.offset}
        if internal and self.timestamp_ms is not None:
            d["timestamp_ms"] = self.timestamp_ms
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Origin:
        return cls(d.get("topic"), d.get("partition"), d.get("offset"),
                   timestamp_ms=d.get("timestamp_ms"))


@dataclass(frozen=True, slots=True)
class RawArticle:
    """A crawler's article as accepted by ``parse``; unknown fields land in ``extra``."""

    url: str | None
    html: str | None = None
    text: str | None = None
    title: str | None = None
    source: str | None = None
    published_at: str | None = None
    fetched_at: str | None = None
    language: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejection:
    """An input a stage refused, with a stable machine-readable reason code."""

    reason: str
    stage: Stage
    error: str


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """What the dedup sequencer needs, computed upstream in the parallel stage.

    The MinHash fields travel as JSON between agents, so they are compact:
    ``signature`` is base64 of the low bits of each MinHash slot and ``bands``
    are the LSH keys: integers here (what the sequencer's tables are keyed by),
    12 hex digits in JSON (``schemas/clean-article.v1.json``, unchanged). A body
    with no word shingles has ``shingles`` 0, an empty signature and no bands: it
    is never evidence of a near-duplicate.
    Records written before these fields existed read back with those empty
    values, so they still get URL and exact decisions.
    """

    content_hash: str
    body_words: int
    shingles: int = 0  # distinct word shingles in the body
    signature: str = ""
    bands: list[int] = field(default_factory=list)
    scheme: str = ""  # MinHash parameters; sketches of different schemes never compare

    def to_dict(self, sketch: bool = True) -> dict[str, Any]:
        """``sketch=False`` leaves out the MinHash fields, which only the sequencer
        reads (the public EnrichedArticle keeps its fingerprints as they were)."""
        if not sketch:
            return {"content_hash": self.content_hash, "body_words": self.body_words}
        return {
            "content_hash": self.content_hash,
            "body_words": self.body_words,
            "shingles": self.shingles,
            "signature": self.signature,
            "bands": [f"{b:012x}" for b in self.bands],
            "scheme": self.scheme,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fingerprints:
        return cls(
            content_hash=d["content_hash"],
            body_words=int(d["body_words"]),
            shingles=int(d.get("shingles") or 0),
            signature=str(d.get("signature") or ""),
            bands=[_band_key(b) for b in d.get("bands") or []],
            scheme=str(d.get("scheme") or ""),
        )


def _band_key(value: Any) -> int:
    """A band key from JSON: 12 hex digits (``worker.pipeline.minhash.band_hex``),
    or already the integer (a record built in this process)."""
    return int(value, 16) if isinstance(value, str) else int(value)


@dataclass(frozen=True, slots=True)
class CleanArticle:
    article_id: str
    url: str | None
    canonical_url: str | None
    source: str | None
    title: str | None
    body: str
    authors: list[str]
    published_at: str | None
    fetched_at: str | None
    language_hint: str | None
    tags: list[str]
    clean: dict[str, Any]
    fingerprints: Fingerprints
    section: str | None = None
    image: dict[str, str | None] | None = None
    origin: Origin = field(default_factory=Origin)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": CLEAN_SCHEMA_VERSION,
            "article_id": self.article_id,
            "url": self.url,
            "canonical_url": self.canonical_url,
            "source": self.source,
            "title": self.title,
            "body": self.body,
            "authors": list(self.authors),
            "published_at": self.published_at,
            "fetched_at": self.fetched_at,
            "language_hint": self.language_hint,
            "tags": list(self.tags),
            "section": self.section,
            "image": dict(self.image) if self.image is not None else None,
            "clean": dict(self.clean),
            "fingerprints": self.fingerprints.to_dict(),
            "origin": self.origin.to_dict(internal=True),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CleanArticle:
        return cls(
            article_id=d["article_id"],
            url=d.get("url"),
            canonical_url=d.get("canonical_url"),
            source=d.get("source"),
            title=d.get("title"),
            body=d["body"],
            authors=list(d.get("authors") or []),
            published_at=d.get("published_at"),
            fetched_at=d.get("fetched_at"),
            language_hint=d.get("language_hint"),
            tags=list(d.get("tags") or []),
            section=d.get("section"),
            image=d.get("image"),
            clean=dict(d.get("clean") or {}),
            fingerprints=Fingerprints.from_dict(d["fingerprints"]),
            origin=Origin.from_dict(d.get("origin") or {}),
            extra=dict(d.get("extra") or {}),
        )


@dataclass(frozen=True, slots=True)
class UniqueArticle:
    """A CleanArticle the sequencer let through: first sight of it, or a revision."""

    article: CleanArticle
    revision: int
    supersedes: str | None

    def to_dict(self) -> dict[str, Any]:
        d = self.article.to_dict()
        d["revision"] = self.revision
        d["supersedes"] = self.supersedes
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UniqueArticle:
        return cls(CleanArticle.from_dict(d), int(d["revision"]), d.get("supersedes"))


@dataclass(frozen=True, slots=True)
class DuplicateNotice:
    article_id: str
    url: str | None
    duplicate_of: str
    method: DuplicateMethod
    similarity: float
    origin: Origin = field(default_factory=Origin)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": DUPLICATE_SCHEMA_VERSION,
            "article_id": self.article_id,
            "url": self.url,
            "duplicate_of": self.duplicate_of,
            "method": self.method,
            "similarity": self.similarity,
            "origin": self.origin.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Enrichment:
    language: str | None
    language_confidence: float
    word_count: int
    sentence_count: int
    reading_time_minutes: float
    summary: str
    entities: list[Entity] = field(default_factory=list)
    places: Places = field(default_factory=lambda: Places())
    keywords: list[Keyword] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict(self)``, written out: asdict's generic deep copy
        cost the worker's main process ~4% of its CPU (py-spy, bench/RESULTS.md)."""
        places = self.places
        dateline = places.dateline
        return {
            "language": self.language,
            "language_confidence": self.language_confidence,
            "word_count": self.word_count,
            "sentence_count": self.sentence_count,
            "reading_time_minutes": self.reading_time_minutes,
            "summary": self.summary,
            "entities": [
                {"name": e.name, "type": e.type, "label": e.label, "mentions": e.mentions,
                 "first_offset": e.first_offset, "salience": e.salience,
                 "aliases": list(e.aliases)}
                for e in self.entities
            ],
            "places": {
                "countries": [{"code": c.code, "mentions": c.mentions}
                              for c in places.countries],
                "dateline": None if dateline is None else {
                    "name": dateline.name, "country": dateline.country},
            },
            "keywords": [{"phrase": k.phrase, "score": k.score} for k in self.keywords],
            "quotes": [{"text": q.text, "speaker": q.speaker, "offset": q.offset}
                       for q in self.quotes],
            "topics": [{"label": t.label, "score": t.score} for t in self.topics],
        }


@dataclass(frozen=True, slots=True)
class Entity:
    """A person, organisation, place, ... with its short forms merged in."""

    name: str  # canonical: the fullest form the article uses
    type: str  # person | organization | location | event | other
    label: str  # the NER model's own label (PERSON, ORG, GPE, NORP, ...)
    mentions: int
    first_offset: int  # character offset in the body
    salience: float  # 1.0 for the most salient entity of the article
    aliases: list[str]  # surface forms seen in the body, most frequent first


@dataclass(frozen=True, slots=True)
class CountryMention:
    code: str  # ISO 3166-1 alpha-2
    mentions: int


@dataclass(frozen=True, slots=True)
class Dateline:
    name: str
    country: str | None


@dataclass(frozen=True, slots=True)
class Places:
    countries: list[CountryMention] = field(default_factory=list)
    dateline: Dateline | None = None


@dataclass(frozen=True, slots=True)
class Keyword:
    phrase: str
    score: float


@dataclass(frozen=True, slots=True)
class Quote:
    text: str
    speaker: str | None  # canonical entity name, None when unattributed
    offset: int  # character offset of the quotation in the body


@dataclass(frozen=True, slots=True)
class Topic:
    label: str  # IPTC media topic, level 1 name
    score: float


@dataclass(frozen=True, slots=True)
class EnrichedArticle:
    unique: UniqueArticle
    enrichment: Enrichment

    @property
    def article_id(self) -> str:
        return self.unique.article.article_id

    def to_dict(self) -> dict[str, Any]:
        d = self.unique.to_dict()
        # The public record keeps its fingerprints as they were; the MinHash
        # sketch is the sequencer's business.
        d["fingerprints"] = self.unique.article.fingerprints.to_dict(sketch=False)
        d["origin"] = self.unique.article.origin.to_dict()
        del d["language_hint"]
        d["schema_version"] = ENRICHED_SCHEMA_VERSION
        d.update(self.enrichment.to_dict())
        return d


@dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: str
    stage: Stage
    error: str
    original: bytes
    origin: Origin = field(default_factory=Origin)

    @classmethod
    def from_rejection(cls, rejection: Rejection, original: bytes, origin: Origin) -> DeadLetter:
        return cls(rejection.reason, rejection.stage, rejection.error, original, origin)

    def to_dict(self, max_original_bytes: int | None = None) -> dict[str, Any]:
        """``max_original_bytes`` caps the copy of the input so the dead letter
        always fits its topic; the full input stays at source_topic/offset."""
        original = self.original
        truncated = max_original_bytes is not None and len(original) > max_original_bytes
        if truncated:
            original = original[:max_original_bytes]
        return {
            "schema_version": DEADLETTER_SCHEMA_VERSION,
            "reason": self.reason,
            "stage": self.stage,
            "error": self.error,
            "original": base64.b64encode(original).decode("ascii"),
            "original_size": len(self.original),
            "original_truncated": truncated,
            "source_topic": self.origin.topic,
            "partition": self.origin.partition,
            "offset": self.origin.offset,
        }
