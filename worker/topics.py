"""Topic administration with kafka-python: create the public topics with the
partitions and size limits the worker needs, before the worker subscribes."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from worker.security import check_login, client_options
from worker.settings import Settings

log = logging.getLogger("newswire.topics")

_HEADROOM = 64 * 1024
_WEEK_MS = 7 * 24 * 3600 * 1000


def raw_limit(max_message_bytes: int) -> int:
    """Largest raw value the input topic accepts: past our own limit, so an
    oversize article reaches the worker and is dead-lettered, not refused unseen."""
    return max_message_bytes + _HEADROOM


def deadletter_limit(max_message_bytes: int) -> int:
    """A dead letter carries the original value base64-encoded (4/3 the size)
    plus its envelope; the topic and the producer must accept that."""
    return (raw_limit(max_message_bytes) * 4) // 3 + _HEADROOM


def internal_topic_config(max_message_bytes: int) -> dict[str, str]:
    return {"max.message.bytes": str(deadletter_limit(max_message_bytes))}


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]
    internal: bool = False


def topic_specs(settings: Settings) -> list[TopicSpec]:
    limit = str(deadletter_limit(settings.max_message_bytes))
    n = settings.partitions
    retention = {"retention.ms": str(_WEEK_MS), "max.message.bytes": limit}
    raw = {**retention, "max.message.bytes": str(raw_limit(settings.max_message_bytes))}
    specs = [
        TopicSpec(settings.topic_raw, n, raw),
        TopicSpec(settings.topic_enriched, n, retention),
        TopicSpec(settings.topic_duplicates, n, retention),
        # Dead letters wait for a human; keep them four weeks.
        TopicSpec(
            settings.topic_deadletter, 1,
            {"retention.ms": str(4 * _WEEK_MS), "max.message.bytes": limit},
        ),
        # Faust would create these itself, but only while the worker starts; made
        # up front, the first consumer-group assignment already includes them.
        TopicSpec(settings.topic_by_source, n, {"max.message.bytes": limit}, internal=True),
        TopicSpec(settings.topic_cleaned, 1, internal_topic_config(settings.max_message_bytes),
                  internal=True),
        TopicSpec(settings.topic_unique, n, internal_topic_config(settings.max_message_bytes),
                  internal=True),
    ]
    if settings.exactly_once:
        # The seen log keeps two repeat windows, at least a day: the publisher
        # reads one window of it back when it takes over a partition.
        keep = max(2 * int(settings.repeat_window_s * 1000), _WEEK_MS // 7)
        specs += [
            TopicSpec(settings.topic_outbox, n, retention, internal=True),
            TopicSpec(settings.topic_outbox_seen, n, {"retention.ms": str(keep)},
                      internal=True),
        ]
    return specs


def admin_client(settings: Settings, timeout_s: float = 30.0) -> KafkaAdminClient:
    """Connect, retrying until ``timeout_s``: a broker that is still starting is normal,
    refused credentials are not (KafkaLoginError at once)."""
    check_login(settings)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return KafkaAdminClient(
                bootstrap_servers=settings.bootstrap_servers, client_id=f"{settings.app_id}-admin",
                **client_options(settings),
            )
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"cannot reach Kafka at {','.join(settings.bootstrap_servers)}: {exc}"
                ) from exc
            time.sleep(0.5)


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create missing public topics; returns the names created. Existing topics are
    left as they are (changing partitions would reshuffle keys)."""
    admin = admin_client(settings, timeout_s)
    try:
        existing = set(admin.list_topics())
        created: list[str] = []
        for spec in topic_specs(settings):
            if spec.name in existing:
                continue
            try:
                admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, settings.replication,
                              topic_configs=spec.config)]
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        if created:
            log.info("created topics %s", ", ".join(created))
        return created
    finally:
        admin.close()
