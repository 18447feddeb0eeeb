"""Every Prometheus metric newswire exports, declared once.

Labels are bounded by construction: topic names, stages, reason codes and
dedup methods, never a URL or an article id.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from worker import __version__

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
