"""Exactly-once publishing (NEWSWIRE_PROCESSING_GUARANTEE=exactly_once).

Inside the worker every hop is at-least-once: after a crash a stage re-processes
what it had not committed, and the dedup sequencer gives a re-processed input
its first decision again (README, "Re-processing is not re-sending"). So a
crash can only ever produce *repeats*: the same final record for the same input.

In exactly-once mode the stages write their final records (enriched articles,
duplicate notices, dead letters) to an internal outbox topic instead of the
public topics, partitioned by the input's raw position. The publisher below
is the only writer of the public topics. Per outbox partition it holds one
Kafka transactional producer (transactional id ``<app>-outbox-<partition>``)
and, in one transaction per batch:

    - drops records whose input was already published (a repeat),
    - sends the rest to their public topic,
    - records each published input in ``<app>-outbox-seen`` (same partition),
    - commits its outbox offsets (send_offsets_to_transaction).

A consumer reading the public topics with isolation.level=read_committed sees
each input exactly once. When a publisher dies its open transaction is aborted
as soon as the partition's next owner (a restart or another worker) starts the
same transactional id, which also fences a zombie; that owner rebuilds the
seen set from ``<app>-outbox-seen`` before it publishes anything.

The seen set is bounded in time: a repeat written to the outbox more than
``repeat_window_s`` after the first copy of its input is published again. A
repeat comes from a crash, so the window must cover crash detection, recovery
and re-processing (seconds to minutes); the default is an hour.

Faust's own processing_guarantee=exactly_once is not used: it picks the
transactional id from the partition a record is *sent to*, not the partition
its input was consumed from, so a topology with a one-partition internal topic
(our dedup sequencer) leaves records in transactions that never commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.abc import ConsumerRebalanceListener  # type: ignore[import-untyped]
from aiokafka.structs import TopicPartition  # type: ignore[import-untyped]

from worker import metrics
from worker.security import client_options
from worker.settings import Settings

log = logging.getLogger("newswire.outbox")

DEST_HEADER = "newswire-dest"  # the public topic an outbox record is bound for
INPUT_HEADER = "newswire-input"  # the raw position of the input it stands for


def outbox_partition(input_token: str, partitions: int) -> int:
    """Every copy of one input's final record lands in one outbox partition, so
    one publisher sees them all, in the order they were written."""
    return zlib.crc32(input_token.encode()) % partitions


def outbox_headers(dest_topic: str, input_token: str | None) -> list[tuple[str, bytes]]:
    """Where the record goes, and which input it stands for (None: an input
    without a Kafka position, never a repeat)."""
    headers = [(DEST_HEADER, dest_topic.encode())]
    if input_token is not None:
        headers.append((INPUT_HEADER, input_token.encode()))
    return headers


def header(headers: Iterable[tuple[str, bytes]] | None, name: str) -> str | None:
    for key, value in headers or ():
        if key == name:
            return value.decode()
    return None


@dataclass
class SeenInputs:
    """Inputs published from one outbox partition, forgotten ``window_ms`` after
    the newest record seen (outbox timestamps, so a stopped cluster forgets
    nothing while it is down)."""

    window_ms: int
    _at: OrderedDict[str, int] = field(default_factory=OrderedDict)
    _newest: int = 0

    def __len__(self) -> int:
        return len(self._at)

    def __contains__(self, token: str) -> bool:
        return token in self._at

    def add(self, token: str, timestamp_ms: int) -> None:
        self._at[token] = timestamp_ms
        self._at.move_to_end(token)
        self._newest = max(self._newest, timestamp_ms)
        horizon = self._newest - self.window_ms
        # Outbox order is (nearly) timestamp order: the oldest entries are first.
        while self._at and next(iter(self._at.values())) < horizon:
            self._at.popitem(last=False)


@dataclass
class _Partition:
    producer: Any  # AIOKafkaProducer, transactional
    seen: SeenInputs


class Publisher(ConsumerRebalanceListener):  # type: ignore[misc]
    """Consumes the outbox (consumer group ``<app>-outbox``) and publishes each
    input's final record once, in Kafka transactions. Runs in the worker's
    event loop beside the Faust agents."""

    def __init__(self, settings: Settings, *, session_timeout_s: float,
                 heartbeat_interval_s: float, max_request_size: int) -> None:
        self.settings = settings
        self.group = f"{settings.app_id}-outbox"
        self.outbox = settings.topic_outbox
        self.seen_topic = settings.topic_outbox_seen
        self.window_ms = int(settings.repeat_window_s * 1000)
        self._session_ms = int(session_timeout_s * 1000)
        self._heartbeat_ms = int(heartbeat_interval_s * 1000)
        self._max_request_size = max_request_size
        self._partitions: dict[int, _Partition] = {}
        self._lock = asyncio.Lock()  # a rebalance waits for the batch in flight
        self._consumer: Any = None
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=self.group,
            client_id=f"{self.group}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=self._session_ms,
            heartbeat_interval_ms=self._heartbeat_ms,
            max_partition_fetch_bytes=self._max_request_size,
            fetch_max_bytes=max(self._max_request_size, 52428800),
            **client_options(self.settings),
        )
        await self._consumer.start()
        self._consumer.subscribe([self.outbox], listener=self)
        self._task = asyncio.create_task(self._run(), name="outbox-publisher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        async with self._lock:
            for partition in list(self._partitions):
                await self._close(partition)
        if self._consumer is not None:
            await self._consumer.stop()

    # -- rebalance -----------------------------------------------------------

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        async with self._lock:
            for tp in revoked:
                await self._close(tp.partition)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        async with self._lock:
            for tp in assigned:
                await self._open(tp.partition)

    async def _open(self, partition: int) -> None:
        """Fence the partition's previous publisher (its open transaction is
        aborted), then rebuild what it had published, then resume from the
        committed offset (the consumer does that after this callback)."""
        await self._close(partition)
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.bootstrap_servers,
            transactional_id=f"{self.group}-{partition}",
            client_id=f"{self.group}-{partition}",
            max_request_size=self._max_request_size,
            **client_options(self.settings),
        )
        await producer.start()  # InitProducerId: fences and aborts the previous owner
        seen = await self._load_seen(partition)
        self._partitions[partition] = _Partition(producer, seen)
        log.info("outbox partition %d: %d recent inputs already published", partition, len(seen))

    async def _close(self, partition: int) -> None:
        state = self._partitions.pop(partition, None)
        if state is not None:
            await state.producer.stop()

    async def _load_seen(self, partition: int) -> SeenInputs:
        """The inputs this partition published within the window before the last
        outbox record it committed (read_committed: an aborted batch is not in)."""
        seen = SeenInputs(self.window_ms)
        reader = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            max_partition_fetch_bytes=self._max_request_size,
            **client_options(self.settings),
        )
        await reader.start()
        try:
            newest = await self._last_committed_timestamp(reader, partition)
            if newest is None:
                return seen
            tp = TopicPartition(self.seen_topic, partition)
            reader.assign([tp])
            end = (await reader.end_offsets([tp]))[tp]  # the last stable offset
            found = (await reader.offsets_for_times({tp: max(0, newest - self.window_ms)}))[tp]
            if found is None:
                return seen
            reader.seek(tp, found.offset)
            idle = 0
            while (position := await reader.position(tp)) < end and idle < 5:
                batch = await reader.getmany(tp, timeout_ms=1000)
                for record in batch.get(tp, []):
                    seen.add(record.key.decode(), record.timestamp)
                # Transaction markers take offsets too; a poll that moves
                # nothing five times means the rest is markers or aborted.
                idle = idle + 1 if await reader.position(tp) == position else 0
            return seen
        finally:
            await reader.stop()

    async def _last_committed_timestamp(self, reader: Any, partition: int) -> int | None:
        """Timestamp of the last outbox record this partition's publisher committed
        (the outbox is not transactional, so the record before the committed
        offset is a plain record); None before the first commit."""
        tp = TopicPartition(self.outbox, partition)
        committed = await self._consumer.committed(tp)
        if not committed:
            return None
        reader.assign([tp])
        reader.seek(tp, committed - 1)
        batch = await reader.getmany(tp, timeout_ms=5000, max_records=1)
        records = batch.get(tp, [])
        # Deleted by retention: nothing that old can be repeated any more.
        return int(records[0].timestamp) if records else None

    # -- publishing ----------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=200, max_records=500)
                for tp, records in batches.items():
                    async with self._lock:
                        if tp.partition in self._partitions:
                            await self._publish(tp, records)
                        elif tp in self._consumer.assignment():
                            # Its reopening failed before (broker away): again,
                            # and these records are fetched anew from the commit.
                            await self._reopen(tp)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Nothing is lost: what was not committed is published later.
                log.exception("outbox publisher: retrying in 1 s")
                await asyncio.sleep(1)

    async def _publish(self, tp: TopicPartition, records: list[Any]) -> None:
        state = self._partitions[tp.partition]
        published: list[str] = []
        added: dict[str, int] = {}
        try:
            async with state.producer.transaction():
                for record in records:
                    token = header(record.headers, INPUT_HEADER)
                    dest = header(record.headers, DEST_HEADER)
                    if dest is None:  # not ours: nothing to publish, just move past it
                        continue
                    if token is not None and (token in state.seen or token in added):
                        metrics.OUTBOX_REPEATS.inc()
                        continue
                    await state.producer.send(
                        dest, record.value, key=record.key, headers=_public_headers(record)
                    )
                    if token is not None:
                        await state.producer.send(
                            self.seen_topic, b"", key=token.encode(), partition=tp.partition,
                            timestamp_ms=record.timestamp,
                        )
                        added[token] = record.timestamp
                    published.append(dest)
                await state.producer.send_offsets_to_transaction(
                    {tp: records[-1].offset + 1}, self.group
                )
        except Exception as exc:
            # Fenced (the partition moved to another worker) or the broker failed
            # the transaction: it was aborted, so forget this batch and rebuild
            # the partition from what is committed, then re-read from there.
            log.warning("outbox partition %d: transaction failed (%r); reopening",
                        tp.partition, exc)
            await self._reopen(tp)
            return
        for token, at in added.items():
            state.seen.add(token, at)
        for dest in published:
            metrics.RECORDS_PUBLISHED.labels(topic=dest).inc()

    async def _reopen(self, tp: TopicPartition) -> None:
        if tp not in self._consumer.assignment():
            await self._close(tp.partition)
            return
        await self._open(tp.partition)
        committed = await self._consumer.committed(tp)
        if committed:
            self._consumer.seek(tp, committed)
        else:
            await self._consumer.seek_to_beginning(tp)


def _public_headers(record: Any) -> list[tuple[str, bytes]]:
    """The record's own headers, without the outbox routing ones."""
    return [(k, v) for k, v in record.headers or () if k not in (DEST_HEADER, INPUT_HEADER)]
