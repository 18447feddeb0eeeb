"""Every Prometheus metric newswire exports, declared once.

Labels are bounded by construction: topic names, stages, reason codes and
dedup methods, never a URL or an article id.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from worker import __version__
from worker.pipeline.records import Enrichment, Origin

NAMESPACE = "newswire"

# The *_created series double the scrape size and no dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

MESSAGES_CONSUMED = Counter(
    "messages_consumed_total",
    "Raw messages consumed from the input topic.",
    ["topic"],
    namespace=NAMESPACE,
)
RECORDS_PUBLISHED = Counter(
    "records_published_total",
    "Records newswire published, per destination topic (public and internal).",
    ["topic"],
    namespace=NAMESPACE,
)
FAUST_GAPS = Counter(
    "faust_gaps_total",
    "Offset ranges of an internal topic still missing after three seeks back (gone "
    "from Kafka, e.g. by retention), committed unprocessed (worker/faust_fixes.py). "
    "Should stay 0.",
    ["topic"],
    namespace=NAMESPACE,
)
OUTBOX_REPEATS = Counter(
    "outbox_repeats_dropped_total",
    "Exactly-once mode: final records not published again because their input "
    "already was (a stage re-processed it after a crash or rebalance).",
    namespace=NAMESPACE,
)
DUPLICATES = Counter(
    "duplicates_total",
    "Articles recognised as duplicates, per dedup method.",
    ["method"],
    namespace=NAMESPACE,
)
DEAD_LETTERS = Counter(
    "dead_letters_total",
    "Inputs dead-lettered, per stable reason code and stage.",
    ["reason", "stage"],
    namespace=NAMESPACE,
)
REVISIONS = Counter(
    "revisions_total",
    "Articles published as a new revision (revision >= 2) of a known URL.",
    namespace=NAMESPACE,
)
STAGE_SECONDS = Histogram(
    "stage_duration_seconds",
    "Time spent in one pipeline stage for one record.",
    ["stage"],
    namespace=NAMESPACE,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
BOILERPLATE_RATIO = Histogram(
    "clean_boilerplate_ratio",
    "Share of an article's text the cleaner removed as boilerplate, per input kind.",
    ["input"],
    namespace=NAMESPACE,
    buckets=(0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
)
CONSUMER_LAG = Gauge(
    "consumer_lag_messages",
    "End offset minus committed offset, per partition assigned to this worker.",
    ["topic", "partition"],
    namespace=NAMESPACE,
)
DEDUP_STATE_ENTRIES = Gauge(
    "dedup_state_entries",
    "Entries held in each dedup table on this worker (RocksDB estimate).",
    ["table"],
    namespace=NAMESPACE,
)
REBALANCES = Counter(
    "rebalances_total",
    "Partition assignments this worker received (one per consumer-group rebalance).",
    namespace=NAMESPACE,
)
END_TO_END_SECONDS = Histogram(
    "end_to_end_latency_seconds",
    "From the raw message's Kafka timestamp to the publication of its final record "
    "(enriched article, duplicate notice or dead letter), per outcome.",
    ["outcome"],
    namespace=NAMESPACE,
    # Seconds in a healthy pipeline (batch windows, three Kafka hops); minutes to
    # hours while a backlog drains or after a replay.
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)
ENRICHED_ARTICLES = Counter(
    "enriched_articles_total",
    "Articles enriched and published, per detected language: an ISO 639-1 code of a "
    "fixed list, 'other' for any other language, 'und' when undetermined (no words, "
    "or below the enrich stage's confidence threshold).",
    ["language"],
    namespace=NAMESPACE,
)
ARTICLE_ENTITIES = Histogram(
    "article_entities",
    "Distinct named entities in one enriched article, per entity type; only articles "
    "in a language with an NER model are observed.",
    ["type"],
    namespace=NAMESPACE,
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100),
)
BUILD_INFO = Gauge(
    "build_info",
    "Always 1; the labels tell which newswire build is running.",
    ["version"],
    namespace=NAMESPACE,
)
BUILD_INFO.labels(version=__version__).set(1)

# Every (reason, stage) a dead letter can carry; see parse.py, clean.py, flow.py, app.py.
DEAD_LETTER_REASONS: tuple[tuple[str, str], ...] = (
    *((r, "parse") for r in ("too_large", "invalid_utf8", "malformed_json", "not_an_object",
                             "missing_content", "schema_violation")),
    *((r, "clean") for r in ("empty_body", "too_large", "extract_timeout", "clean_error",
                             "publish_failed")),
    ("publish_failed", "dedup"),
    ("enrich_error", "enrich"),
    ("publish_failed", "enrich"),
)
DUPLICATE_METHODS = ("url", "exact", "near")
OUTCOMES = ("enriched", "duplicate", "dead_letter")
STAGES_TIMED = ("clean", "dedup", "enrich")
INPUT_KINDS = ("html", "text")
# The language label's values: major news languages by ISO 639-1 code. The
# language identifier knows 140-odd codes (some of three letters); a fixed list
# keeps the series count known in advance.
LANGUAGES = (
    "ar", "bg", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fr", "he", "hi", "hr",
    "hu", "id", "it", "ja", "ko", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sv", "th",
    "tr", "uk", "vi", "zh",
)
OTHER_LANGUAGE, UNDETERMINED_LANGUAGE = "other", "und"
# Entity.type values of the enrich stage (enrich_entities.ENTITY_TYPES); an
# unknown one counts as "other".
ENTITY_TYPES = ("person", "organization", "location", "event", "other")


def language_label(language: str | None) -> str:
    if not language:
        return UNDETERMINED_LANGUAGE
    return language if language in LANGUAGES else OTHER_LANGUAGE


def observe_published(outcome: str, origin: Origin, now: float | None = None) -> None:
    """End-to-end latency of a final record; inputs without a Kafka timestamp
    (offline runs) are not observed. A producer clock ahead of ours would give a
    negative time: it counts as 0."""
    if origin.timestamp_ms is None:
        return
    now = time.time() if now is None else now
    seconds = max(0.0, now - origin.timestamp_ms / 1000)
    END_TO_END_SECONDS.labels(outcome=outcome).observe(seconds)


def observe_enrichment(enrichment: Enrichment, entities_detected: bool) -> None:
    """Language mix, and entity counts when NER ran (``entities_detected``): an
    article in a language without a model would count as "no entities found"."""
    ENRICHED_ARTICLES.labels(language=language_label(enrichment.language)).inc()
    if not entities_detected:
        return
    counts = Tally(e.type if e.type in ENTITY_TYPES else "other" for e in enrichment.entities)
    for kind in ENTITY_TYPES:
        ARTICLE_ENTITIES.labels(type=kind).observe(counts[kind])


def prime(raw_topic: str, output_topics: Iterable[str]) -> None:
    """Create every known series at 0. Prometheus' increase() ignores the first
    sample of a new series, so a counter born at 1 would hide its first event
    from rate-based alerts."""
    MESSAGES_CONSUMED.labels(topic=raw_topic)
    for topic in output_topics:
        RECORDS_PUBLISHED.labels(topic=topic)
    for reason, stage in DEAD_LETTER_REASONS:
        DEAD_LETTERS.labels(reason=reason, stage=stage)
    for method in DUPLICATE_METHODS:
        DUPLICATES.labels(method=method)
    # Histograms too: a burst cleaned between two scrapes would otherwise show no
    # rate at all (the dashboard test against a real Prometheus caught this).
    for stage in STAGES_TIMED:
        STAGE_SECONDS.labels(stage=stage)
    for kind in INPUT_KINDS:
        BOILERPLATE_RATIO.labels(input=kind)
    for outcome in OUTCOMES:
        END_TO_END_SECONDS.labels(outcome=outcome)
    for language in (*LANGUAGES, OTHER_LANGUAGE, UNDETERMINED_LANGUAGE):
        ENRICHED_ARTICLES.labels(language=language)
    for kind in ENTITY_TYPES:
        ARTICLE_ENTITIES.labels(type=kind)
