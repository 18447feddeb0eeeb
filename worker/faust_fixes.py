"""A correction to faust-streaming (0.15.x) that at-least-once delivery needs.
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

The fix: the consumer records an ack only for a message a stream actually took
(Faust marks it ``tracked`` at that point, after the skip test) in the current
generation. A refused ack can only turn a would-be loss into a repeat: after a
rebalance every partition restarts from its committed offset.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.types.tuples import ack_lock


def ack_counts(message: Any, generation: int) -> bool:
    """May this ack move the committed offset? Only if a stream took the message
    (``tracked``) and it was fetched in the current consumer generation."""
    fetched_in = getattr(message, "generation_id", None)
    if fetched_in is not None and fetched_in != generation:
        return False
    return bool(getattr(message, "tracked", True))


def refuse_unprocessed_acks(app: faust.App) -> None:
    """Make the consumer that ``app`` creates ignore acks of messages no stream
    processed. Call before the worker starts (the consumer is created on first use)."""
    base: Any = app.transport.Consumer

    class ProcessedAcksConsumer(base):  # type: ignore[misc]
        def ack(self, message: Any) -> bool:
            if not ack_counts(message, self.app.consumer_generation_id):
                with ack_lock:
                    # Settled, so the wait of the next rebalance (wait_empty)
                    # does not wait for it; never offered for commit.
                    message.acked = True
                    self._unacked_messages.discard(message)
                return False
            return bool(super().ack(message))

    # This app's transport only (an instance attribute), not every Faust app.
    app.transport.Consumer = ProcessedAcksConsumer  # type: ignore[misc]
