"""Corrections to faust-streaming (0.15.x) that at-least-once delivery needs.
Recheck on every faust-streaming upgrade (tests/unit/test_faust_fixes.py pins
the behaviour; tests/integration/test_faults.py shows the effect).

Lost inputs around a rebalance: a Faust stream *skips* an event that reaches it
while flow control is suspended (a rebalance is under way) or that was fetched
in an earlier consumer generation (streams.py, "Skipping message ..."), and
then *acks* it, so that lag does not grow. The consumer counts that ack like
any other, and the commit made while partitions are revoked (or the next one)
moves the offset past an event nobody processed. We saw it as inputs with no
output at all after one of two workers was killed (5 of 149 in one run): their
records sat in the internal unique topic, committed, never enriched.

Lost inputs at a stop or an agent crash: when an agent is cancelled (the worker
stops on SIGTERM) or raises in the middle of an event, the stream's cleanup
acks the event all the same, and the consumer's final commit moves past it.
We saw one input per raw partition lost this way across a plain restart.
Agents therefore process each event or batch inside ``interrupted_unacked``,
which tells the consumer to refuse those acks.

Lost inputs after a seek: Faust delivers every record of a fetched batch, even
when the partition was sought elsewhere meanwhile (to the committed offsets as
a rebalance ends, while flow is already on for standby partitions; or back to
a skipped record), and treats the resulting jump in offsets as a gap Kafka left
(transaction markers), which it commits as if processed. Records in that range
that were never processed are lost (we logged unique-topic gaps 3..14 and
by-source 5..7 right after a takeover). It also drops the rest of a batch when
flow stops, and reads on after it. The consumer therefore delivers each stream
partition exactly in order from its last seek (worker/read_positions.py):
older records are dropped, a jump in a batch fetched before a seek or on one
of our gapless internal topics is dropped and the partition is read again from
the wanted offset. And it commits on a gapless topic only from the committed
offset on (Faust lets one unacked record at the head go, for a marker).

Inputs processed twice after a restore: while tables are restored from their
changelogs (a start without local state, a takeover) Faust's fetcher already
runs, and Faust resumes the stream partitions just before it seeks them to
their committed offsets; what was fetched meanwhile was processed, and again
after the seek. So nothing is delivered between a partition's assignment and
that seek (worker/read_positions.py).

The ack fix: the consumer records an ack only for a message a stream actually took
(Faust marks it ``tracked`` at that point, after the skip test) in the current
generation. A message of an earlier generation is fetched again anyway (after
a rebalance every partition restarts from its committed offset). A message of
this generation that was skipped is not: Faust can skip events it fetched after
that seek but before flow control resumed, so the consumer seeks the partition
back to the skipped offset. Without that the partition stalls (its offset can
no longer be committed past the hole); with it the worst case is a repeat.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import faust
from faust.types import TP
from faust.types.tuples import ack_lock

from worker import metrics
from worker.read_positions import ReadPositions, Verdict

log = logging.getLogger("newswire")


def ack_counts(message: Any, generation: int) -> bool:
    """May this ack move the committed offset? Only if a stream took the message
    (``tracked``) and it was fetched in the current consumer generation."""
    fetched_in = getattr(message, "generation_id", None)
    if fetched_in is not None and fetched_in != generation:
        return False
    return bool(getattr(message, "tracked", True))


def refuse_unprocessed_acks(app: faust.App, gapless: Iterable[str] = ()) -> None:
    """Make the consumer that ``app`` creates ignore acks of messages no stream
    processed (seeking back to those of this generation), and count the offset
    gaps Faust commits on ``gapless`` topics (ours: they have no real gaps).
    Call before the worker starts (the consumer is created on first use)."""
    base: Any = app.transport.Consumer
    gapless_set = frozenset(gapless)
    for topic in gapless_set:  # primed at 0: a dashboard query needs the series
        metrics.FAUST_GAPS.labels(topic=topic)

    class ProcessedAcksConsumer(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.positions: ReadPositions[TP] = ReadPositions(
                gapless=gapless_set.__contains__, topic_of=lambda tp: tp.topic)
            self._refetch_from: dict[TP, int | None] = {}
            self._refetching: asyncio.Future[None] | None = None
            self._interrupted: weakref.WeakSet[Any] = weakref.WeakSet()
            self._fetched_records: Any = None
            # offsets whose acks were refused, until acked: never committed past
            self._refused_offsets: dict[TP, set[int]] = {}
            # the committed offset each partition was sought to (Faust keeps
            # None for 0 and before its first commit)
            self._commit_bases: dict[TP, int] = {}

        def _refused(self, tp: TP) -> set[int]:
            return self._refused_offsets.setdefault(tp, set())

        async def seek(self, partition: TP, offset: int) -> None:
            await super().seek(partition, offset)
            self.positions.sought(partition, offset)

        async def _seek(self, partition: TP, offset: int) -> None:
            # On the consumer's own thread. Faust calls aiokafka's seek from the
            # event loop's thread, and that seek drops the partition's fetched
            # records while the consumer thread may be reading them: a KeyError
            # in aiokafka's fetched_records killed a survivor in a CI run of the
            # failover test. aiokafka reads and drops them without an await in
            # between, so on one thread the two cannot interleave.
            thread: Any = self._thread
            await thread.call_thread(thread.seek, partition, offset)

        async def on_partitions_assigned(
            self, assigned: set[TP], generation_id: int = 0
        ) -> None:
            acking = self.app.topics.acks_enabled_for
            self.positions.assigned(tp for tp in assigned if acking(tp.topic))
            await super().on_partitions_assigned(assigned, generation_id)

        async def seek_to_committed(self) -> Any:
            committed = await super().seek_to_committed()
            bases = self._commit_bases
            acking = self.app.topics.acks_enabled_for
            for tp, offset in committed.items():
                dropped = self.positions.dropped_before_seek(tp)
                if offset is not None and offset > 0:
                    self.positions.sought(tp, offset)
                elif acking(tp.topic):
                    # No commit yet (or one at 0): aiokafka does not seek such a
                    # partition and leaves it where it stands, past what was fetched
                    # and dropped while it awaited this seek, or past what was
                    # fetched and not handed on before a second seek to the commits
                    # in the same assignment (Faust seeks again when a fetch ends with
                    # flow stopped). Taking the next record there for the start lost
                    # one input of a partition with no commit in a takeover, and
                    # stalled the partition behind it. Nothing is committed, so it
                    # is read from the start, as the reset policy ("earliest") says
                    # (a start that retention deleted is a jump, accepted after the
                    # retries).
                    await self.seek(tp, 0)
                else:
                    self.positions.sought(tp, None)
                if dropped is not None and acking(tp.topic):
                    # A record may have been fetched from the new position and
                    # dropped (the partition still awaiting) between the seek in
                    # aiokafka's thread and the bookkeeping here: aiokafka is then
                    # past it. Read again from the next offset wanted (nothing
                    # delivered twice). We saw the one new input of a partition
                    # never read after a restart without local state.
                    self.refetch(tp, None)
                if offset is not None and offset >= 0:
                    bases[tp] = offset
                else:
                    bases.pop(tp, None)
            # One line a rebalance, for the post-mortem of a stream that stalls.
            log.info("stream partitions sought to their commits: %s", ", ".join(
                f"{tp.topic}[{tp.partition}]={offset}" for tp, offset in sorted(committed.items())
                if acking(tp.topic)))
            return committed

        async def on_partitions_revoked(self, revoked: set[TP]) -> None:
            self.positions.forget(revoked)
            for tp in revoked:
                self._commit_bases.pop(tp, None)
                self._refused_offsets.pop(tp, None)
            await super().on_partitions_revoked(revoked)

        async def _wait_next_records(self, timeout: float) -> Any:
            found = await super()._wait_next_records(timeout)
            self._fetched_records = found[0]
            return found

        async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Any]]:
            positions = self.positions
            acking = self.app.topics.acks_enabled_for
            fetched = positions.snapshot()
            self._fetched_records = None
            reread: set[TP] = set()
            async for tp, message in super().getmany(timeout):
                if not acking(tp.topic):  # changelogs: recovery reads them its own way
                    yield tp, message
                    continue
                verdict = positions.admit(tp, message.offset, fetched)
                if verdict is Verdict.DELIVER or verdict is Verdict.GONE:
                    yield tp, message
                elif verdict is Verdict.DROP_RESEEK:
                    reread.add(tp)
            # Faust stops handing on a batch when flow stops or the generation
            # changes, and skips paused partitions: aiokafka has moved past those
            # records all the same, so they are read again.
            for tp, records in (self._fetched_records or {}).items():
                if not records or not acking(tp.topic) \
                        or positions.unseen_before_seek(tp, records[0].offset):
                    continue
                wanted = positions.next_offset(tp)
                if wanted is None:
                    # Nothing of tp delivered since its seek left the position to the
                    # reset policy (no committed offset), and Faust handed on none
                    # of these (flow stopped; it then seeks to the commit, which
                    # does not move such a partition): read them from the first.
                    self.refetch(tp, records[0].offset)
                elif wanted <= records[-1].offset:
                    reread.add(tp)
            for tp in reread:
                self.refetch(tp, None)

        def interrupted(self, messages: Iterable[Any]) -> None:
            """Their processing was cut short: their acks must not count."""
            self._interrupted.update(messages)

        def ack(self, message: Any) -> bool:
            generation = self.app.consumer_generation_id
            cut_short = message in self._interrupted
            if not cut_short and ack_counts(message, generation):
                if message.tp in self._refused_offsets:
                    self._refused_offsets[message.tp].discard(message.offset)
                return bool(super().ack(message))
            if not self.should_stop:
                self._refused(message.tp).add(message.offset)
            with ack_lock:
                # Settled, so the wait of the next rebalance (wait_empty) does
                # not wait for it; never offered for commit.
                message.acked = True
                self._unacked_messages.discard(message)
            same_generation = getattr(message, "generation_id", None) in (None, generation)
            if same_generation and not self.should_stop:
                self.refetch(message.tp, message.offset)
            return False

        async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
            if tp.topic in gapless_set:
                # Our internal topics have no real gaps (no transactions, no
                # compaction), and jumps are read again (getmany): this is a range
                # still missing after seeking back to it, gone from Kafka.
                metrics.FAUST_GAPS.labels(topic=tp.topic).inc()
                log.error("offsets %d..%d of %s[%d] could not be read (gone from Kafka?) "
                          "and are committed unprocessed: their inputs may have no output",
                          offset_from, offset_to, tp.topic, tp.partition)
            await super()._add_gap(tp, offset_from, offset_to)

        def _new_offset(self, tp: TP) -> int | None:
            acked = self._acked[tp]
            base = self._committed_offset[tp]
            if base is None:
                base = self._commit_bases.get(tp)
            if acked and base is not None and self.app.topics.acks_enabled_for(tp.topic):
                refused = self._refused(tp)
                refused.difference_update([o for o in refused if o < base])
                old = [offset for offset in acked if offset < base]
                if old:  # read again after a seek back, committed meanwhile
                    acked[:] = [offset for offset in acked if offset >= base]
                    self._acked_index[tp].difference_update(old)
                # Faust commits past one unacked record at the head (a marker, on
                # a transactional topic); never on ours, never past a refused one.
                slack = 0 if tp.topic in gapless_set or base in refused else 1
                gaps = self._gap[tp]
                lowest = min([*acked, *(gap.begin for gap in gaps)]) if acked else None
                if lowest is not None and lowest - base > slack:
                    return None
            return super()._new_offset(tp)  # type: ignore[no-any-return]

        def refetch(self, tp: TP, offset: int | None) -> None:
            """Seek ``tp`` back to ``offset`` (None: to the next offset it should
            deliver) soon, once per burst."""
            offsets = [o for o in (self._refetch_from.get(tp), offset) if o is not None]
            self._refetch_from[tp] = min(offsets, default=None)
            if self._refetching is None or self._refetching.done():
                self._refetching = asyncio.ensure_future(self._seek_back(), loop=self.loop)

        async def _seek_back(self) -> None:
            await asyncio.sleep(0.1)  # gather the rest of the burst
            pending, self._refetch_from = self._refetch_from, {}
            for tp, wanted in pending.items():
                if tp not in self.assignment():
                    continue  # revoked meanwhile: its next owner starts at the commit
                if self.positions.awaits_seek(tp):
                    continue  # assigned again meanwhile: its seek to the commit decides
                known = self.positions.next_offset(tp)
                candidates = [o for o in (wanted, known) if o is not None]
                if not candidates:
                    continue  # no position known: the next seek to the commit decides
                offset = min(candidates)
                log.info("re-reading %s[%d] from offset %d", tp.topic, tp.partition, offset)
                try:
                    await self.seek(tp, offset)
                except Exception:  # a rebalance got there first; it seeks itself
                    log.exception("seek back failed for %s[%d]", tp.topic, tp.partition)

    # This app's transport only (an instance attribute), not every Faust app.
    app.transport.Consumer = ProcessedAcksConsumer  # type: ignore[misc]


@contextmanager
def interrupted_unacked(app: faust.App, events: Iterable[Any]) -> Iterator[None]:
    """Processing of ``events`` (Faust events) happens inside: if it is cut short
    (cancelled at a stop, or an exception that restarts the agent), their acks
    are refused, so they are processed again instead of committed unprocessed."""
    try:
        yield
    except BaseException:
        mark = getattr(app.consumer, "interrupted", None)
        if mark is not None:
            mark([event.message for event in events])
        raise
