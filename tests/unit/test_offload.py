"""The process pool that cleaning and enrichment run in."""

from __future__ import annotations

import asyncio
import multiprocessing
import os

from worker.offload import Offload
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
