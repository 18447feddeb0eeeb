"""A correction to faust-streaming (0.15.x) that at-least-once delivery needs.
Recheck on every faust-streaming upgrade (tests/unit/test_faust_fixes.py pins
the behaviour; tests/integration/test_faults.py shows the effect).

Lost inputs after a rebalance: a stream skips an event fetched in an earlier
consumer generation (streams.py, "Skipping message ... generation_id") and then
*acks* it, so that lag does not grow. The consumer records that ack for the new
generation, and the next commit moves the partition's offset past an event
nobody processed. We saw it as inputs with no output at all after a worker of
two was killed (2 of 149 in one run): their records sat in the unique topic,
committed, never enriched.

The fix refuses to record acks of messages from an earlier generation. Those
are stale by definition: after a rebalance every partition restarts from its
committed offset, so the message is fetched (and processed) again. An ack
refused this way can only turn a would-be loss into a repeat.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.types.tuples import ack_lock


def refuse_stale_acks(app: faust.App) -> None:
    """Make the consumer that ``app`` creates refuse acks of stale messages.
    Call before the worker starts (the consumer is created on first use)."""
    base: Any = app.transport.Consumer

    class GenerationCheckedConsumer(base):  # type: ignore[misc]
        def ack(self, message: Any) -> bool:
            generation = getattr(message, "generation_id", None)
            if generation is not None and generation != self.app.consumer_generation_id:
                with ack_lock:
                    # Settled for the waits of the next rebalance (wait_empty),
                    # but never offered for commit.
                    message.acked = True
                    self._unacked_messages.discard(message)
                return False
            return bool(super().ack(message))

    # This app's transport only (an instance attribute), not every Faust app.
    app.transport.Consumer = GenerationCheckedConsumer  # type: ignore[misc]
