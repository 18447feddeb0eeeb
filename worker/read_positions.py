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

    def next_offset(self, tp: P) -> int | None:
        return self._next.get(tp)

    def sought(self, tp: P, offset: int | None) -> None:
        """The consumer was sought to ``offset`` (None: to wherever its reset
        policy puts it, so the first record read is taken as the start)."""
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
        wanted = self._next.get(tp)
        if wanted is None or offset == wanted:
            self._next[tp] = offset + 1
            self._reseeks.pop(tp, None)
            return Verdict.DELIVER
        if offset < wanted:
            return Verdict.DROP
        epoch = self._epoch.get(tp)
        stale = epoch is not None and epoch > fetched
        if not stale and not self._gapless(self._topic_of(tp)):
            self._next[tp] = offset + 1  # a real gap: Faust's own gap handling follows
            return Verdict.DELIVER
        if stale:
            return Verdict.DROP_RESEEK
        # A jump on a gapless topic in a batch fetched after the last seek: the
        # records in between were fetched and never delivered (Faust drops the
        # rest of a batch when flow stops), or are gone from Kafka.
        at, seen_in, tries = self._reseeks.get(tp, (wanted, None, 0))
        if at != wanted:
            at, seen_in, tries = wanted, None, 0
        if epoch != seen_in:  # a new fetch: the first, or one after our seek back
            tries += 1
        if tries > SEEKS_BEFORE_ACCEPTING:
            self._next[tp] = offset + 1
            self._reseeks.pop(tp, None)
            return Verdict.GONE
        self._reseeks[tp] = (at, epoch, tries)
        return Verdict.DROP_RESEEK
