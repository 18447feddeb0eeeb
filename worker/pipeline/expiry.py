"""Event-time expiry for the dedup sequencer's tables, without scanning them.

The clock runs on event time taken from the stream itself (never the wall
clock), so a replay reaches the same decisions as the live worker. Entries are
stamped with the watermark's bucket (an hour by default); each write appends
one small record naming what it wrote under its bucket, and every tick sweeps
a few records of buckets that have left the window. All of it, the clock and
the sweep cursor included, lives in one MutableMapping (a changelogged Faust
table in the worker), so expiry resumes where it stopped after a restart or a
rebalance.

Keys of the timeline mapping:

- ``"clock"`` -> ``[watermark, origin, cursor_bucket, cursor_index, bucket_seconds]``
- ``"n:<bucket>"`` -> how many records the bucket holds
- ``"e:<bucket>:<i>"`` -> one record, opaque here (the owner's ``forget`` reads it)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The bucket of entries written before the stream showed any event time; they
# expire with the first bucket the clock sees.
PENDING = -1
# Records swept per tick: more than the one a decision writes, so the sweep
# keeps up, and few enough that no decision stalls on an hour's worth.
SWEEP_STEPS = 4
_CLOCK = "clock"

Forget = Callable[[int, Sequence[Any]], None]


def parse_time(value: str | None) -> float | None:
    """POSIX seconds of an ISO 8601 time (naive means UTC), or None if unparseable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass(slots=True)
class Clock:
    """The watermark (in buckets) only moves forward; the cursor is the next
    record to sweep; ``origin`` is the first bucket the clock saw."""

    watermark: int
    origin: int
    cursor_bucket: int
    cursor_index: int
    bucket_seconds: int
    window: int  # in buckets; not stored: the setting may change between runs

    @property
    def cutoff(self) -> int:
        """Entries stamped at or before this bucket have expired."""
        return self.watermark - self.window

    def live(self, bucket: int | None) -> bool:
        """Whether an entry stamped ``bucket`` is still in the window. Entries from
        before expiry existed (None) never expire; pending ones go with the origin."""
        if bucket is None:
            return True
        return (self.origin if bucket == PENDING else bucket) > self.cutoff

    def to_json(self) -> list[int]:
        return [self.watermark, self.origin, self.cursor_bucket, self.cursor_index,
                self.bucket_seconds]


class Timeline:
    """The clock and the expiry records over one MutableMapping."""

    def __init__(
        self,
        table: MutableMapping[str, Any],
        *,
        window_seconds: int,
        bucket_seconds: int,
        max_step_seconds: int,
    ) -> None:
        self.table = table
        self.window_seconds = window_seconds
        self.bucket_seconds = bucket_seconds
        self.max_step_seconds = max_step_seconds
        # The last clock written, to skip re-parsing it on every tick.
        self._written: list[int] | None = None
        self._clock: Clock | None = None
        # (bucket, record count) of the bucket the sweep is in, so the sweep reads
        # its "n:" key once rather than at every step. An expired bucket's count
        # never changes (records are stamped with the watermark, which is past
        # it); kept while the table shows the clock this object wrote.
        self._swept: tuple[int, int] | None = None

    def clock(self) -> Clock | None:
        """The stored clock; its bucket size wins over the setting, because the
        stored stamps are counted in it."""
        stored = self.table.get(_CLOCK)
        if stored is None:
            self._swept = None
            return None
        if stored is self._written:
            # Still the list this object wrote (a dict-backed table hands back the
            # same object; a store that deserialises, or a recovery, never does).
            return self._clock
        if stored != self._written:
            self._swept = None
        watermark, origin, cursor_bucket, cursor_index, size = (int(v) for v in stored[:5])
        return Clock(watermark, origin, cursor_bucket, cursor_index, size,
                     self.window_seconds // size)

    def tick(self, seconds: float | None, forget: Forget) -> Clock | None:
        """Advance to an event time (None: no time known) and sweep a few expired
        records through ``forget(bucket, record)``. One bad timestamp moves the
        watermark by at most ``max_step_seconds``, so it cannot expire the window."""
        clock = self.clock()
        changed = False
        if seconds is not None:
            if clock is None:
                size = self.bucket_seconds
                bucket = int(seconds // size)
                pending = int(self.table.get(f"n:{PENDING}") or 0) > 0
                clock = Clock(bucket, bucket, PENDING if pending else bucket, 0, size,
                              self.window_seconds // size)
                changed = True
            else:
                bucket = int(seconds // clock.bucket_seconds)
                if bucket > clock.watermark:
                    step = max(1, self.max_step_seconds // clock.bucket_seconds)
                    clock.watermark = min(bucket, clock.watermark + step)
                    changed = True
        if clock is not None:
            cursor = clock.origin if clock.cursor_bucket == PENDING else clock.cursor_bucket
            # Nothing to sweep until the cursor's bucket leaves the window.
            if cursor <= clock.watermark - clock.window:
                changed = self._sweep(clock, forget) or changed
            if changed:
                self._written = clock.to_json()
                self._clock = clock
                self.table[_CLOCK] = self._written
        return clock

    def _sweep(self, clock: Clock, forget: Forget) -> bool:
        moved = False
        for _ in range(SWEEP_STEPS):
            bucket = clock.cursor_bucket
            if (clock.origin if bucket == PENDING else bucket) > clock.cutoff:
                break
            moved = True
            if self._swept is not None and self._swept[0] == bucket:
                count = self._swept[1]
            else:
                count = int(self.table.get(f"n:{bucket}") or 0)
                self._swept = (bucket, count)
            if clock.cursor_index < count:
                record = self.table.pop(f"e:{bucket}:{clock.cursor_index}", None)
                if record is not None:
                    forget(bucket, record)
                clock.cursor_index += 1
            else:
                # Buckets are consecutive hours; an empty one costs one lookup.
                self.table.pop(f"n:{bucket}", None)
                clock.cursor_bucket = clock.origin if bucket == PENDING else bucket + 1
                clock.cursor_index = 0
        return moved

    def records(self) -> Iterator[tuple[int, Sequence[Any]]]:
        """(bucket, record) of every record not swept yet, in the order written:
        the pending bucket first (written before the clock started), then the
        buckets from the sweep cursor up to the watermark."""
        clock = self.clock()
        if clock is None:
            buckets, start = [PENDING], 0
        else:
            first = clock.origin if clock.cursor_bucket == PENDING else clock.cursor_bucket
            pending = [PENDING] if clock.cursor_bucket == PENDING else []
            buckets, start = pending + list(range(first, clock.watermark + 1)), clock.cursor_index
        table = self.table
        for n, bucket in enumerate(buckets):
            count = int(table.get(f"n:{bucket}") or 0)
            for index in range(start if n == 0 else 0, count):
                record = table.get(f"e:{bucket}:{index}")
                if record is not None:
                    yield bucket, record

    def version(self) -> list[Any]:
        """What changes whenever a record is written or swept: the clock (watermark
        and sweep cursor), the record counts of the pending and the watermark's
        bucket, and the last record written. Records are only appended, at the
        watermark (or, before the clock starts, to the pending bucket), and every
        sweep moves the cursor, so a state that went on from another never shows
        its version again; the last record tells apart two states that went on
        from a common one by as many records."""
        clock = self.table.get(_CLOCK)
        pending = int(self.table.get(f"n:{PENDING}") or 0)
        bucket = PENDING if clock is None else int(clock[0])
        count = pending if clock is None else int(self.table.get(f"n:{bucket}") or 0)
        last = self.table.get(f"e:{bucket}:{count - 1}") if count else None
        return [clock, pending, count, last]

    def record(self, bucket: int, record: Sequence[Any]) -> None:
        """Remember what a decision stamped ``bucket`` wrote, for its expiry."""
        count_key = f"n:{bucket}"
        count = int(self.table.get(count_key) or 0)
        self.table[f"e:{bucket}:{count}"] = record
        self.table[count_key] = count + 1
