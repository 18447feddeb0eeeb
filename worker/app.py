"""The Faust app: topics, tables and agents. Glue only; text logic is in pipeline/.

    articles.raw --clean (N partitions)--> <app>-cleaned (1 partition)
        --dedup sequencer (tables: urls, hashes)--> articles.duplicates | <app>-unique (N)
        --enrich (N partitions)--> articles.enriched
    and every stage may send to articles.deadletter.
"""

from __future__ import annotations

import base64
import logging
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust
import mode
import orjson
from faust.exceptions import ProducerSendError
from faust.streams import _current_event

from worker import codecs, metrics, observability, transport
from worker.band_store import LocalBands, rebuild
from worker.batching import batches
from worker.faust_fixes import interrupted_unacked, refuse_unprocessed_acks
from worker.offload import Offload, clean_batch, enrich_batch
from worker.outbox import Publisher, outbox_headers, outbox_partition
from worker.pipeline.dedup import DedupIndex, replay_token
from worker.pipeline.flow import dedup_stage, route_of, source_key
from worker.pipeline.records import CleanArticle as CleanRecord
from worker.pipeline.records import (
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    Origin,
    Stage,
    UniqueArticle,
)
from worker.security import faust_credentials
from worker.settings import Settings
from worker.status import RecentEvents
from worker.topics import deadletter_limit, internal_topic_config, raw_limit

log = logging.getLogger("newswire")

# The stage that produced a record bound for each route (for dead letters).
_STAGE_OF_ROUTE: dict[str, Stage] = {
    "cleaned": "clean", "unique": "dedup", "duplicates": "dedup", "enriched": "enrich",
}
# Routes that end an input's way through the pipeline -> its end-to-end outcome.
_OUTCOME_OF_ROUTE = {"enriched": "enriched", "duplicates": "duplicate"}
# Routes to public topics: through the outbox in exactly-once mode.
_FINAL_ROUTES = frozenset({"enriched", "duplicates", "deadletter"})


@dataclass
class Newswire:
    """The app and its handles, for the CLI and tests."""

    app: faust.App
    settings: Settings
    topics: dict[str, faust.TopicT]
    tables: dict[str, faust.types.TableT[Any, Any]]
    offload: Offload
    bands: LocalBands


_ORIGIN_HEADER = "newswire-origin"


@contextmanager
def as_current(event: Any) -> Iterator[None]:
    """Faust files a table key under the partition of the current event (a
    context variable). Batches have no single current event, so a batch agent
    names, per key, the event the key came from. Only the context variable is
    touched: the stream's own record of its current event, which its take
    buffer relies on, stays as it is."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def encode_origin(message: Any, source: str | None) -> list[tuple[str, bytes]]:
    """The raw position travels with the re-keyed message: dead letters and
    outputs name the input as the crawler published it, not the internal hop."""
    key = base64.b64encode(message.key).decode() if message.key is not None else None
    origin = [message.topic, message.partition, message.offset, source, key,
              _timestamp_ms(message)]
    return [(_ORIGIN_HEADER, orjson.dumps(origin))]


def _timestamp_ms(message: Any) -> int | None:
    """The message's Kafka timestamp in ms; Faust gives seconds, and Kafka -1
    (a message without one) as a negative number."""
    seconds = getattr(message, "timestamp", None)
    return round(seconds * 1000) if isinstance(seconds, int | float) and seconds >= 0 else None


def decode_origin(message: Any) -> tuple[Origin, str | None]:
    for name, value in message.headers or []:
        if name == _ORIGIN_HEADER:
            # Headers written before the timestamp was added have five fields.
            topic, partition, offset, source, key, *rest = orjson.loads(value)
            original_key = base64.b64decode(key) if key is not None else None
            timestamp = rest[0] if rest else None
            return Origin(topic, partition, offset, original_key, timestamp), source
    return Origin(message.topic, message.partition, message.offset, message.key,
                  _timestamp_ms(message)), None


def _key_bytes(key: str | bytes | None) -> bytes | None:
    return key.encode("utf-8") if isinstance(key, str) else key


def create_app(settings: Settings, *, prometheus: bool = True) -> Newswire:
    codecs.register()
    limit = deadletter_limit(settings.max_message_bytes)
    app = faust.App(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=faust_credentials(settings),
        store=settings.store,
        datadir=settings.datadir,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        key_serializer="raw",
        value_serializer=codecs.CODEC_NAME,
        web_enabled=True,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        producer_max_request_size=limit,
        consumer_max_fetch_size=limit,
        # Our internal topics carry whole articles; Faust's defaults assume small events.
        stream_buffer_maxsize=512,
        # No standby replicas: a partition's new owner rebuilds its tables from
        # the changelog. With standbys, Faust resumes flow for them before it
        # seeks the stream partitions to their committed offsets, and in our
        # failover test (tests/integration/test_faults.py) the promoted standby
        # lacked the changelog's first records (duplicates decided unique) or the
        # sequencer skipped its committed record: 4 of 12 runs failed with a
        # standby, 0 of 19 without (README, "No standby replicas").
        table_standby_replicas=0,
        producer_linger=settings.producer_linger_ms / 1000,
    )
    # The transport first: the ack corrections subclass the consumer it builds.
    transport.install(app, settings.fetch_max_wait_ms)
    refuse_unprocessed_acks(app, gapless=(
        settings.topic_by_source, settings.topic_cleaned, settings.topic_unique))
    internal_config = internal_topic_config(settings.max_message_bytes)

    raw = app.topic(
        settings.topic_raw, key_type=bytes, value_type=bytes,
        key_serializer="raw", value_serializer="raw",
    )
    # The raw stream re-keyed by source, so the worker that cleans a source's
    # articles is the one holding its learned boilerplate (see README).
    by_source = app.topic(
        settings.topic_by_source, key_type=bytes, value_type=bytes, key_serializer="raw",
        value_serializer="raw", partitions=settings.partitions, internal=True,
        config=internal_config,
    )
    cleaned = app.topic(
        settings.topic_cleaned, partitions=1, internal=True, config=internal_config
    )
    unique = app.topic(
        settings.topic_unique, partitions=settings.partitions, internal=True,
        config=internal_config,
    )
    enriched = app.topic(settings.topic_enriched)
    duplicates = app.topic(settings.topic_duplicates)
    deadletter = app.topic(settings.topic_deadletter)

    # The sequencer's state: exact under concurrency because one partition (one
    # consumer) owns it; durable because every write is changelogged.
    table_schema: faust.Schema[Any, Any] = faust.Schema(
        key_serializer=codecs.CODEC_NAME, value_serializer=codecs.CODEC_NAME
    )
    # Bounded RocksDB memory: with Faust's defaults the memtables and block cache
    # may grow to ~11 GiB; these caps measured 155 B of RAM per article held at
    # 1M articles (bench/dedup.py --only state --full), the bulk on disk.
    rocksdb_caps = {
        "write_buffer_size": 8 << 20, "max_write_buffer_number": 2, "block_cache_size": 16 << 20,
    }
    dedup_tables = {
        name: app.Table(
            f"dedup-{name}", partitions=1, schema=table_schema, options=rocksdb_caps
        )
        for name in ("urls", "hashes", "sketches", "timeline")
    }
    config = settings.pipeline_config()
    # The LSH bands are derived from the sketches: local, not changelogged, and
    # rebuilt before the first decision after each assignment (band_store).
    bands = LocalBands(
        Path(app.conf.tabledir) / "dedup-bands-local.db"
        if settings.store.startswith("rocksdb://") else None,
        **rocksdb_caps,
    )
    index = DedupIndex(bands=bands, options=config.dedup, **dedup_tables)
    # "stale" after every assignment (the tables may hold what another worker
    # wrote), "rebuilding", then "ready"; and the tables' version after the last
    # decision, for the stamp.
    bands_state = ["stale"]
    tables_version: list[bytes | None] = [None]

    async def on_assigned(sender: Any, assigned: Any = None, **kwargs: Any) -> None:
        bands_state[0] = "stale"

    def stamp_bands() -> None:
        # Giving up the sequencer (a rebalance, a stop): the bands match the
        # tables as the last decision left them. A decision after this (a stop
        # while the agent still runs) unstamps them, or moves the tables on.
        if bands_state[0] == "ready" and tables_version[0] is not None:
            bands.set_stamp(tables_version[0])

    async def on_revoked(sender: Any, revoked: Any = None, **kwargs: Any) -> None:
        stamp_bands()  # Faust sends this once the agents have finished their events

    app.on_partitions_assigned.connect(on_assigned)  # type: ignore[arg-type]
    app.on_partitions_revoked.connect(on_revoked)  # type: ignore[arg-type]

    @app.service
    class BandStamp(mode.Service):  # on a stop Faust revokes nothing
        async def on_stop(self) -> None:
            stamp_bands()
    # Learned boilerplate per source, co-partitioned with by_source (same key,
    # same partition count): the worker cleaning a source holds its statistics.
    # Keys are the raw source bytes: a table without a key type reads its changelog
    # keys back as JSON, so recovery failed on them and never finished (the
    # worker hung after any restart that had to recover this table).
    sources_table = app.Table(
        "source-lines", partitions=settings.partitions, key_type=bytes,
        schema=faust.Schema(key_type=bytes, key_serializer="raw",
                            value_serializer=codecs.CODEC_NAME),
    )
    topic_by_route: dict[str, faust.TopicT] = {
        "by_source": by_source, "cleaned": cleaned, "unique": unique, "enriched": enriched,
        "duplicates": duplicates, "deadletter": deadletter,
    }

    max_original = raw_limit(settings.max_message_bytes)
    outbox: faust.TopicT | None = None
    if settings.exactly_once:
        outbox = app.topic(
            settings.topic_outbox, partitions=settings.partitions, internal=True,
            config=internal_config,
        )
        publisher = Publisher(
            settings,
            session_timeout_s=app.conf.broker_session_timeout,
            heartbeat_interval_s=app.conf.broker_heartbeat_interval,
            max_request_size=limit,
        )

        @app.service
        class PublisherService(mode.Service):  # started once tables have recovered
            async def on_start(self) -> None:
                await publisher.start()

            async def on_stop(self) -> None:
                await publisher.stop()

    async def send(
        route: str, key: str | bytes | None, value: dict[str, Any], origin: Origin
    ) -> None:
        topic = topic_by_route[route]
        if outbox is not None and route in _FINAL_ROUTES:
            # exactly_once: the publisher (worker/outbox.py) sends it on, once.
            token = replay_token(origin)
            await outbox.send(
                key=_key_bytes(key), value=value,
                partition=outbox_partition(token, settings.partitions) if token else None,
                headers=outbox_headers(topic.get_topic_name(), token),
            )
            topic = outbox
        else:
            await topic.send(key=_key_bytes(key), value=value)
        metrics.RECORDS_PUBLISHED.labels(topic=topic.get_topic_name()).inc()

    recent = RecentEvents()
    metrics.prime(settings.topic_raw, [t.get_topic_name() for t in topic_by_route.values()])

    async def publish_dead_letter(letter: DeadLetter) -> None:
        metrics.DEAD_LETTERS.labels(reason=letter.reason, stage=letter.stage).inc()
        recent.dead_letter(letter)
        log.warning(
            "dead letter", extra={"reason": letter.reason, "stage": letter.stage,
                                  "error": letter.error[:500], "offset": letter.origin.offset},
        )
        await send("deadletter", letter.origin.key, letter.to_dict(max_original), letter.origin)
        metrics.observe_published("dead_letter", letter.origin)

    async def publish(route: str, key: str, value: dict[str, Any], origin: Origin) -> bool:
        """Send a record; one the broker refuses (too large, say) becomes a dead
        letter instead of an exception that would stop the agent. True if sent."""
        try:
            await send(route, key, value, origin)
        except ProducerSendError as exc:
            stage = _STAGE_OF_ROUTE[route]
            await publish_dead_letter(DeadLetter(
                "publish_failed", stage, f"{route}: {exc}", orjson.dumps(value), origin
            ))
            return False
        if route in _OUTCOME_OF_ROUTE:
            metrics.observe_published(_OUTCOME_OF_ROUTE[route], origin)
        return True

    offload = Offload(settings.processes, config)
    window = settings.batch_window_ms / 1000

    async def route_one(event: Any) -> None:
        message = event.message
        metrics.MESSAGES_CONSUMED.labels(topic=message.topic).inc()
        value = message.value if isinstance(message.value, bytes) else b""
        origin = Origin(message.topic, message.partition, message.offset, message.key)
        if len(value) > max_original:
            # Only Kafka compression lets such a value in (the broker limits
            # compressed batches): it cannot be forwarded whole, so it is
            # dead-lettered here instead of stopping this agent.
            await publish_dead_letter(DeadLetter(
                "too_large", "parse", f"value is {len(value)} bytes, limit is "
                f"{settings.max_message_bytes}", value, origin))
            return
        source = source_key(value, settings.max_message_bytes)
        # Unparseable input keeps its own key: it only needs to reach a cleaner
        # (which dead-letters it), wherever that is.
        key = source.encode() if source else message.key
        try:
            await by_source.send(key=key, value=value, headers=encode_origin(message, source))
        except ProducerSendError as exc:
            await publish_dead_letter(DeadLetter(
                "publish_failed", "parse", f"by_source: {exc}", value, origin))
            return
        metrics.RECORDS_PUBLISHED.labels(topic=settings.topic_by_source).inc()

    async def clean_events(events: list[Any]) -> None:
        batch, states, event_of = [], {}, {}
        for event in events:
            message = event.message
            origin, source = decode_origin(message)
            value = message.value if isinstance(message.value, bytes) else b""
            batch.append((value, origin))
            if source:
                event_of[source] = event
        for source, event in event_of.items():
            with as_current(event):
                stored = sources_table.get(source.encode())
            if stored is not None:  # a JSON object through the orjson codec
                states[source] = orjson.dumps(stored).decode()
        results, changed = await offload.run(clean_batch, batch, config, states)
        for source, state in changed.items():
            with as_current(event_of[source]):
                sources_table[source.encode()] = orjson.loads(state)
        for result, seconds in results:
            metrics.STAGE_SECONDS.labels(stage="clean").observe(seconds)
            if isinstance(result, DeadLetter):
                await publish_dead_letter(result)
                continue
            removed, kept = result.clean["removed_chars"], result.clean["kept_chars"]
            kind = "html" if result.clean["method"].startswith("html") else "text"
            metrics.BOILERPLATE_RATIO.labels(input=kind).observe(
                removed / (removed + kept) if removed + kept else 0.0
            )
            await publish("cleaned", result.article_id, result.to_dict(), result.origin)

    async def prepare_bands() -> None:
        """Bands that match the tables, before the first decision after an
        assignment: kept if stamped with the tables' version, else rebuilt."""
        bands_state[0] = "stale"  # also after a rebuild that was cut short
        while bands_state[0] == "stale":
            # An assignment during the rebuild makes it stale again: once more.
            bands_state[0] = "rebuilding"
            version = orjson.dumps(index.state_version())
            if bands.stamp() == version:
                log.info("the local LSH bands match the tables: kept, not rebuilt")
            else:
                done, seconds = await rebuild(index, bands)
                log.info("rebuilt the LSH bands of %d sketches in %.1f s", done, seconds)
            bands.set_stamp(None)  # decisions change them from here on
            tables_version[0] = version
            if bands_state[0] == "rebuilding":
                bands_state[0] = "ready"

    async def dedup_one(value: Any) -> None:
        if bands_state[0] != "ready":
            await prepare_bands()
        # None while deciding: a decision cut short (an exception in it) may
        # leave the bands and the tables apart, and is no state to stamp.
        tables_version[0] = None
        with metrics.STAGE_SECONDS.labels(stage="dedup").time():
            decision = dedup_stage(CleanRecord.from_dict(value), index)
            tables_version[0] = orjson.dumps(index.state_version())
        if isinstance(decision, DuplicateNotice):
            metrics.DUPLICATES.labels(method=decision.method).inc()
            recent.duplicate(decision)
            await publish(
                "duplicates", decision.article_id, decision.to_dict(), decision.origin
            )
        else:
            if decision.revision > 1:
                metrics.REVISIONS.inc()
            await publish("unique", decision.article.article_id, decision.to_dict(),
                          decision.article.origin)

    async def enrich_values(values: list[Any]) -> None:
        batch = [UniqueArticle.from_dict(v) for v in values]
        for result, seconds in await offload.run(enrich_batch, batch, config):
            metrics.STAGE_SECONDS.labels(stage="enrich").observe(seconds)
            if isinstance(result, EnrichedArticle):
                if await publish(route_of(result), result.article_id, result.to_dict(),
                                 result.unique.article.origin):
                    language = result.enrichment.language
                    metrics.observe_enrichment(
                        result.enrichment, config.enrich.ner_model(language) is not None
                    )
            else:
                await publish_dead_letter(result)

    # Each agent processes inside interrupted_unacked: an event whose processing
    # is cut short (a stop, a crash of the agent) is read again, not committed
    # (worker/faust_fixes.py).

    @app.agent(raw, name="route")
    async def route_agent(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for event in stream.events():
            with interrupted_unacked(app, [event]):
                await route_one(event)
            yield None

    @app.agent(by_source, name="clean")
    async def clean_agent(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for events in batches(stream, settings.batch_size, window):
            with interrupted_unacked(app, events):
                await clean_events(events)
            yield None

    @app.agent(cleaned, name="dedup", concurrency=1)
    async def dedup_agent(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
        async for value in stream:
            event = stream.current_event
            with interrupted_unacked(app, [event] if event is not None else []):
                await dedup_one(value)
            yield None

    @app.agent(unique, name="enrich")
    async def enrich_agent(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
        async for events in batches(stream, settings.batch_size, window):
            with interrupted_unacked(app, events):
                await enrich_values([event.value for event in events])
            yield None

    observability.install(app, {**dedup_tables, "bands": bands}, recent,
                          settings.public_topics)

    if prometheus:
        observability.install_faust_sensor(app)

    return Newswire(
        app=app,
        settings=settings,
        topics={"raw": raw, **topic_by_route},
        tables={**dedup_tables, "sources": sources_table},
        bands=bands,
        offload=offload,
    )
