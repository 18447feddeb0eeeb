"""Which fetched record a stream partition may take next: the bookkeeping behind
the consumer correction in worker/faust_fixes.py, kept free of Faust so that
every rule is tested on its own (tests/unit/test_read_positions.py).

Faust hands on every record of a fetched batch, even when the partition was
sought elsewhere while the batch was being delivered (a seek to the committed
offsets when a rebalance ends, or a seek back to a skipped record), and it
takes the resulting jump in offsets for a gap Kafka left, which it then commits
unprocessed. Here a partition delivers exactly the record after the last one
delivered, or the one sought: nothing older, and nothing newer unless the jump
is explained.

A jump as the first record after a seek is never taken for a gap, on any
topic: it is read again from the offset sought, and accepted only if it
survives as many seeks as a jump on a gapless topic. Our bookkeeping of a seek
lags aiokafka's own (the seek runs in the consumer's thread, and aiokafka seeks
the partitions to their commits one by one, awaiting each commit's lookup), so
records fetched from the new position in between may have been dropped as
belonging to the old one, and aiokafka is past them. On an input topic that
jump was delivered as a transaction gap, and Faust committed the records in it
unprocessed: 75 inputs of one raw partition lost in a takeover
(`bench/stream.py --only failover --failover-prefill 10000`, 2026-11-26).

Nor does a partition deliver anything between its assignment and the seek to
its committed offset. While a takeover or a start without local state restores
tables from their changelogs, Faust's fetcher is already running, and it
resumes the stream partitions just before that seek: records fetched from
wherever aiokafka stood were delivered, and read again once the seek moved the
partition back (we saw a clean batch re-sent, and an input decided twice, the
second time after its dedup state had expired).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from enum import Enum
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)  # a topic partition (faust.types.TP in the worker)

# A jump on a gapless topic that survives this many seeks back to the missing
# offset is real (retention deleted the records): accepted, so that the
# partition does not stall for ever.
SEEKS_BEFORE_ACCEPTING = 3


class Verdict(Enum):
    DELIVER = "deliver"
    DROP = "drop"            # older than wanted: delivered already, or a stale batch
    DROP_RESEEK = "reseek"   # newer than wanted: drop, and read from the wanted offset
    GONE = "gone"            # newer, and still so after seeking back: deliver


class ReadPositions(Generic[P]):
    """The next offset each partition may deliver, and the number of each
    partition's last seek (one count for all), so a record can tell whether its
    batch was fetched before that seek.

    ``gapless(topic)`` says whether a topic's offsets are contiguous (ours are:
    no transactions, no compaction). On any other topic a jump in a batch
    fetched after the last seek is a gap Kafka left (transaction markers) and is
    delivered; on a gapless topic, or in a batch fetched before a seek, it is not.
    """

    def __init__(self, gapless: Callable[[str], bool], topic_of: Callable[[P], str]) -> None:
        self._gapless = gapless
        self._topic_of = topic_of
        self._next: dict[P, int] = {}
        self._epoch: dict[P, int] = {}  # the number of the partition's last seek
        self._seeks = 0
        # per partition: the offset sought back to, the seek count of the fetch
        # that last found it missing, and how many fetches after a seek did
        self._reseeks: dict[P, tuple[int, int | None, int]] = {}
        # assigned partitions not yet sought to their committed offset -> the
        # lowest offset dropped meanwhile (None: nothing yet)
        self._awaiting: dict[P, int | None] = {}
        # partitions that delivered a record since their last seek
        self._settled: set[P] = set()

    def next_offset(self, tp: P) -> int | None:
        return self._next.get(tp)

    def assigned(self, tps: Iterable[P]) -> None:
        """Partitions assigned: nothing of theirs is delivered until they are
        sought (to their committed offsets, when the rebalance ends)."""
        for tp in tps:
            self._awaiting[tp] = None
            self._settled.discard(tp)
            self._next.pop(tp, None)
            self._epoch[tp] = self._count_seek()
            self._reseeks.pop(tp, None)

    def awaits_seek(self, tp: P) -> bool:
        return tp in self._awaiting

    def unseen_before_seek(self, tp: P, offset: int) -> bool:
        """Records of ``tp`` from ``offset`` on were fetched and not offered to
        ``admit`` (Faust skipped a paused partition). True if ``tp`` awaits its
        seek, which then reads them again; False if the caller has to."""
        if tp not in self._awaiting:
            return False
        lowest = self._awaiting[tp]
        if lowest is None or offset < lowest:
            self._awaiting[tp] = offset
        return True

    def dropped_before_seek(self, tp: P) -> int | None:
        """The lowest offset of ``tp`` dropped since its assignment, still
        awaiting its seek: where a partition with no committed offset has to
        start again (the reset policy had put it there)."""
        return self._awaiting.get(tp)

    def sought(self, tp: P, offset: int | None) -> None:
        """The consumer was sought to ``offset`` (None: to wherever its reset
        policy puts it, so the first record read is taken as the start)."""
        self._awaiting.pop(tp, None)
        self._settled.discard(tp)
        self._epoch[tp] = self._count_seek()
        if offset is None or offset < 0:
            self._next.pop(tp, None)
        else:
            self._next[tp] = offset

    def forget(self, tps: Iterable[P]) -> None:
        """Partitions revoked: their next owner starts from the commit."""
        for tp in tps:
            self._next.pop(tp, None)
            self._epoch[tp] = self._count_seek()
            self._reseeks.pop(tp, None)
            self._awaiting.pop(tp, None)
            self._settled.discard(tp)

    def _count_seek(self) -> int:
        self._seeks += 1
        return self._seeks

    def snapshot(self) -> int:
        """Taken before a fetch; passed back to ``admit`` with its records: a
        partition sought after it has a higher seek number."""
        return self._seeks

    def admit(self, tp: P, offset: int, fetched: int) -> Verdict:
        """May the record at ``offset`` of ``tp``, from a batch whose fetch began
        at snapshot ``fetched``, be delivered now?"""
        if self._awaiting and self.unseen_before_seek(tp, offset):
            return Verdict.DROP  # the seek to the committed offset reads it again
        wanted = self._next.get(tp)
        if wanted is None or offset == wanted:
            self._next[tp] = offset + 1
            self._reseeks.pop(tp, None)
            self._settled.add(tp)
            return Verdict.DELIVER
        if offset < wanted:
            return Verdict.DROP
        epoch = self._epoch.get(tp)
        stale = epoch is not None and epoch > fetched
        settled = tp in self._settled
        if not stale and settled and not self._gapless(self._topic_of(tp)):
            self._next[tp] = offset + 1  # a real gap: Faust's own gap handling follows
            return Verdict.DELIVER
        if stale:
            return Verdict.DROP_RESEEK
        # A jump in a batch fetched after the last seek, on a gapless topic or as
        # the first record since that seek: the records in between were fetched
        # and never delivered (Faust drops the rest of a batch when flow stops;
        # we drop what comes between aiokafka's seek and our bookkeeping of it),
        # or are gone from Kafka (or, first after a seek on an input topic, a
        # transaction marker stands at the offset sought).
        at, seen_in, tries = self._reseeks.get(tp, (wanted, None, 0))
        if at != wanted:
            at, seen_in, tries = wanted, None, 0
        if epoch != seen_in:  # a new fetch: the first, or one after our seek back
            tries += 1
        if tries > SEEKS_BEFORE_ACCEPTING:
            self._next[tp] = offset + 1
            self._reseeks.pop(tp, None)
            self._settled.add(tp)
            return Verdict.GONE
        self._reseeks[tp] = (at, epoch, tries)
        return Verdict.DROP_RESEEK
