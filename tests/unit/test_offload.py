"""The process pool that cleaning and enrichment run in."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time

import pytest

from worker.offload import Offload, OffloadError
from worker.pipeline.flow import PipelineConfig


def test_start_brings_up_every_pool_process_before_the_first_batch() -> None:
    offload = Offload(2, PipelineConfig())
    try:
        before = {p.pid for p in multiprocessing.active_children()}
        offload.start()
        started = {p.pid for p in multiprocessing.active_children()} - before
        assert len(started) == 2
        # Batches then run in those processes, not in this one.
        pid = asyncio.run(offload.run(os.getpid))
        assert pid in started and pid != os.getpid()
    finally:
        offload.close()


def test_inline_mode_starts_nothing() -> None:
    offload = Offload(0, PipelineConfig())
    before = len(multiprocessing.active_children())
    offload.start()
    assert len(multiprocessing.active_children()) == before
    assert asyncio.run(offload.run(os.getpid)) == os.getpid()


def test_an_exception_in_a_batch_comes_back_as_itself_and_the_child_stays() -> None:
    offload = Offload(1, PipelineConfig())
    try:
        offload.start()

        async def scenario() -> tuple[int, int]:
            first = await offload.run(os.getpid)
            with pytest.raises(ValueError, match="invalid literal"):
                await offload.run(int, "not a number")
            return first, await offload.run(os.getpid)

        first, after = asyncio.run(scenario())
        assert first == after
    finally:
        offload.close()


def test_a_dead_child_fails_its_batch_and_is_replaced() -> None:
    offload = Offload(1, PipelineConfig())
    try:
        offload.start()

        async def scenario() -> tuple[int, int]:
            before = await offload.run(os.getpid)
            with pytest.raises(OffloadError, match="died"):
                await offload.run(os._exit, 3)
            return before, await offload.run(os.getpid)

        before, after = asyncio.run(scenario())
        assert after != before
    finally:
        offload.close()


def test_batches_asked_for_together_all_run_one_at_a_time_per_child() -> None:
    offload = Offload(1, PipelineConfig())
    try:
        offload.start()

        async def scenario() -> list[float]:
            return await asyncio.gather(
                *(offload.run(time.sleep, 0.1) for _ in range(3)),
                offload.run(time.time),
            )

        started = time.time()
        *_, finished = asyncio.run(scenario())
        # The clock call waited behind the three sleeps in the one child.
        assert finished - started >= 0.3
    finally:
        offload.close()


def test_a_cancelled_caller_leaves_the_child_usable() -> None:
    offload = Offload(1, PipelineConfig())
    try:
        offload.start()

        async def scenario() -> int:
            busy = asyncio.ensure_future(offload.run(time.sleep, 0.3))
            waiting = asyncio.ensure_future(offload.run(os.getpid))
            await asyncio.sleep(0.05)
            busy.cancel()
            waiting.cancel()
            for task in (busy, waiting):
                with pytest.raises(asyncio.CancelledError):
                    await task
            return await asyncio.wait_for(offload.run(os.getpid), 10)

        assert isinstance(asyncio.run(scenario()), int)
    finally:
        offload.close()
