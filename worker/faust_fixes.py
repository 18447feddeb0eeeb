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

Lost inputs after a seek: Faust treats a jump in the offsets it reads from a
partition as a gap Kafka left (transaction markers, compaction) and commits the
missing offsets as if processed. After a rebalance, records fetched before the
seek to the committed offset are still delivered after it, so the read jumps
over records that were never processed (we logged unique-topic gaps 3..5 and
2..4 right after a takeover, and a by-source gap 2..15 after a restart). NOT
FIXED: seeking back to the gap's start made the partition stall instead (the
records fetched before the seek keep arriving and push the read offset past
the re-read ones). On our internal topics, which have no real gaps, such a
gap is logged as an error and counted (newswire_faust_gaps_total).

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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import faust
from faust.types import TP
from faust.types.tuples import ack_lock

from worker import metrics

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
    gapless = frozenset(gapless)
    for topic in gapless:  # primed at 0: a dashboard query needs the series
        metrics.FAUST_GAPS.labels(topic=topic)

    class ProcessedAcksConsumer(base):  # type: ignore[misc]
        _refetch_from: dict[TP, int]
        _refetching: asyncio.Future[None] | None = None
        _interrupted: weakref.WeakSet[Any]

        def interrupted(self, messages: Iterable[Any]) -> None:
            """Their processing was cut short: their acks must not count."""
            self.__dict__.setdefault("_interrupted", weakref.WeakSet()).update(messages)

        def ack(self, message: Any) -> bool:
            generation = self.app.consumer_generation_id
            cut_short = message in self.__dict__.get("_interrupted", ())
            if not cut_short and ack_counts(message, generation):
                return bool(super().ack(message))
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
            if tp.topic in gapless:
                # Our internal topics have no real gaps (no transactions, no
                # compaction): Faust is about to commit records nobody processed.
                # Reading them again here made the partition stall instead (the
                # records fetched before the seek keep arriving), so it is shown.
                metrics.FAUST_GAPS.labels(topic=tp.topic).inc()
                log.error("Faust skipped offsets %d..%d of %s[%d] and will commit them "
                          "unprocessed: their inputs may have no output", offset_from,
                          offset_to, tp.topic, tp.partition)
            await super()._add_gap(tp, offset_from, offset_to)

        def refetch(self, tp: TP, offset: int) -> None:
            """Seek ``tp`` back to ``offset`` soon (once per burst of skips)."""
            pending = self.__dict__.setdefault("_refetch_from", {})
            pending[tp] = min(offset, pending.get(tp, offset))
            if self._refetching is None or self._refetching.done():
                self._refetching = asyncio.ensure_future(self._seek_back(), loop=self.loop)

        async def _seek_back(self) -> None:
            await asyncio.sleep(0.1)  # gather the rest of the burst
            pending, self._refetch_from = self._refetch_from, {}
            for tp, offset in pending.items():
                if tp not in self.assignment():
                    continue  # revoked meanwhile: its next owner starts at the commit
                log.warning("re-reading %s[%d] from offset %d",
                            tp.topic, tp.partition, offset)
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
