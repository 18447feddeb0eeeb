"""worker/read_positions.py: a stream partition delivers exactly in order from
its last seek, whatever Faust's fetched batches still hold."""

from __future__ import annotations

from worker.read_positions import SEEKS_BEFORE_ACCEPTING, ReadPositions, Verdict

RAW, INTERNAL = ("raw", 0), ("unique", 0)


def positions() -> ReadPositions[tuple[str, int]]:
    return ReadPositions(gapless={"unique"}.__contains__, topic_of=lambda tp: tp[0])


def deliver(p: ReadPositions[tuple[str, int]], tp: tuple[str, int], offsets: range,
            fetched: int) -> list[Verdict]:
    return [p.admit(tp, o, fetched) for o in offsets]


def test_records_are_delivered_in_order_from_the_seek() -> None:
    p = positions()
    p.sought(INTERNAL, 10)
    fetched = p.snapshot()
    assert deliver(p, INTERNAL, range(10, 13), fetched) == [Verdict.DELIVER] * 3
    assert p.next_offset(INTERNAL) == 13
    assert p.admit(INTERNAL, 11, fetched) is Verdict.DROP  # delivered already


def test_a_batch_fetched_before_a_seek_back_is_not_delivered_past_it() -> None:
    """The takeover we logged: a batch is being handed on when the rebalance's
    seek to the committed offset (4) lands; the rest of the batch (7) must not
    be delivered as if 4..6 had been read again (Faust commits that as a gap)."""
    for tp in (INTERNAL, RAW):
        p = positions()
        p.sought(tp, 4)
        fetched = p.snapshot()
        assert deliver(p, tp, range(4, 7), fetched) == [Verdict.DELIVER] * 3
        p.sought(tp, 4)  # seek_to_committed
        assert p.admit(tp, 7, fetched) is Verdict.DROP_RESEEK
        assert p.next_offset(tp) == 4
        refetched = p.snapshot()  # the next fetch reads from 4 again
        assert deliver(p, tp, range(4, 8), refetched) == [Verdict.DELIVER] * 4


def test_a_jump_on_a_transactional_topic_is_a_real_gap() -> None:
    """On an input topic a jump in a batch fetched after the last seek is what
    Kafka leaves for transaction markers: delivered."""
    p = positions()
    p.sought(RAW, 0)
    fetched = p.snapshot()
    assert deliver(p, RAW, range(0, 3), fetched) == [Verdict.DELIVER] * 3
    assert p.admit(RAW, 5, fetched) is Verdict.DELIVER
    assert p.next_offset(RAW) == 6


def test_a_jump_on_a_gapless_topic_is_read_again_then_accepted_as_gone() -> None:
    """Our internal topics have no gaps: a jump means records were fetched and
    not handed on (Faust drops a batch's rest when flow stops), so the partition
    is read again from the missing offset, each seek a new try; a range still
    missing after that is gone from Kafka (retention), and the partition moves on."""
    p = positions()
    p.sought(INTERNAL, 0)
    fetched = p.snapshot()
    assert deliver(p, INTERNAL, range(0, 2), fetched) == [Verdict.DELIVER] * 2
    # one fetch: however many records it holds, one try
    assert deliver(p, INTERNAL, range(8, 12), fetched) == [Verdict.DROP_RESEEK] * 4
    for _ in range(SEEKS_BEFORE_ACCEPTING - 1):
        p.sought(INTERNAL, 2)  # the consumer's seek back
        assert p.admit(INTERNAL, 8, p.snapshot()) is Verdict.DROP_RESEEK
    p.sought(INTERNAL, 2)
    assert p.admit(INTERNAL, 8, p.snapshot()) is Verdict.GONE
    assert p.next_offset(INTERNAL) == 9


def test_the_missing_records_arriving_after_a_seek_back_end_the_retries() -> None:
    p = positions()
    p.sought(INTERNAL, 0)
    fetched = p.snapshot()
    assert p.admit(INTERNAL, 3, fetched) is Verdict.DROP_RESEEK
    p.sought(INTERNAL, 0)
    assert deliver(p, INTERNAL, range(0, 4), p.snapshot()) == [Verdict.DELIVER] * 4
    # a later, unrelated jump starts counting afresh
    fetched = p.snapshot()
    assert p.admit(INTERNAL, 9, fetched) is Verdict.DROP_RESEEK


def test_without_a_known_start_the_first_record_is_the_start() -> None:
    """No committed offset: aiokafka's reset policy picks the position."""
    p = positions()
    p.sought(RAW, None)
    assert p.admit(RAW, 17, p.snapshot()) is Verdict.DELIVER
    assert p.next_offset(RAW) == 18


def test_revoked_partitions_forget_their_position() -> None:
    p = positions()
    p.sought(INTERNAL, 5)
    fetched = p.snapshot()
    p.forget([INTERNAL])
    assert p.next_offset(INTERNAL) is None
    # a batch fetched before the revocation is stale for the next assignment too
    p.sought(INTERNAL, 5)
    assert p.admit(INTERNAL, 9, fetched) is Verdict.DROP_RESEEK


def test_partitions_are_independent() -> None:
    p = positions()
    other = ("unique", 1)
    p.sought(INTERNAL, 0)
    p.sought(other, 100)
    fetched = p.snapshot()
    assert p.admit(other, 100, fetched) is Verdict.DELIVER
    assert p.admit(INTERNAL, 0, fetched) is Verdict.DELIVER
    p.sought(other, 50)
    assert p.admit(INTERNAL, 1, fetched) is Verdict.DELIVER  # its own seek count unchanged


def test_nothing_is_delivered_between_assignment_and_the_seek_to_the_commit() -> None:
    """A start without local state, or a takeover: the fetcher runs while tables
    restore, and Faust resumes the stream partitions just before the seek to
    their committed offsets. Records fetched meanwhile were delivered, and
    delivered again after the seek: a clean batch re-sent, an input decided twice."""
    p = positions()
    p.sought(RAW, 3)
    p.assigned([RAW, INTERNAL])
    assert p.awaits_seek(RAW) and p.next_offset(RAW) is None
    fetched = p.snapshot()
    assert deliver(p, RAW, range(5, 8), fetched) == [Verdict.DROP] * 3
    assert p.unseen_before_seek(INTERNAL, 9)  # fetched, skipped by Faust while paused
    assert deliver(p, INTERNAL, range(12, 14), fetched) == [Verdict.DROP] * 2
    # where a partition without a committed offset has to start again
    assert p.dropped_before_seek(RAW) == 5 and p.dropped_before_seek(INTERNAL) == 9
    p.sought(RAW, 1)  # the seek to the commit
    assert not p.awaits_seek(RAW) and p.dropped_before_seek(RAW) is None
    assert deliver(p, RAW, range(1, 4), p.snapshot()) == [Verdict.DELIVER] * 3
    assert p.admit(INTERNAL, 14, p.snapshot()) is Verdict.DROP  # still awaiting
    p.forget([INTERNAL])  # revoked before its seek
    assert not p.awaits_seek(INTERNAL)
    assert not p.unseen_before_seek(RAW, 0)  # sought: the caller reads it again itself


def test_a_jump_first_after_the_seek_to_the_commit_is_read_again_on_an_input_topic() -> None:
    """The takeover that lost 75 inputs: while the survivor restored its tables,
    aiokafka sought the raw partition to its commit (2562) and fetched on from
    there, and those records were dropped, our bookkeeping still awaiting the
    seek. Once it caught up, the next record fetched (2641) was a jump on an
    input topic, delivered as a transaction gap and committed over. It has to
    be read again from the commit instead."""
    p = positions()
    p.assigned([RAW])
    before = p.snapshot()
    assert deliver(p, RAW, range(2562, 2641), before) == [Verdict.DROP] * 79
    p.sought(RAW, 2562)  # seek_to_committed returned
    assert p.admit(RAW, 2641, p.snapshot()) is Verdict.DROP_RESEEK
    assert p.next_offset(RAW) == 2562
    p.sought(RAW, 2562)  # the consumer's seek back
    assert deliver(p, RAW, range(2562, 2645), p.snapshot()) == [Verdict.DELIVER] * 83


def test_a_transaction_marker_at_the_offset_sought_is_accepted_after_the_retries() -> None:
    """On a transactional input topic the committed offset may be a marker's:
    the first record after the seek then really is one further on, and is
    delivered once the seeks back have not found the one before it; a later
    jump, with records delivered since the seek, is a gap at once."""
    p = positions()
    p.sought(RAW, 10)
    assert p.admit(RAW, 11, p.snapshot()) is Verdict.DROP_RESEEK
    for _ in range(SEEKS_BEFORE_ACCEPTING - 1):
        p.sought(RAW, 10)
        assert p.admit(RAW, 11, p.snapshot()) is Verdict.DROP_RESEEK
    p.sought(RAW, 10)
    assert p.admit(RAW, 11, p.snapshot()) is Verdict.GONE
    fetched = p.snapshot()
    assert p.admit(RAW, 12, fetched) is Verdict.DELIVER
    assert p.admit(RAW, 14, fetched) is Verdict.DELIVER  # a marker at 13
