"""CPU-heavy stages off Faust's event loop.

Cleaning and enrichment take milliseconds to tens of milliseconds per article.
Run inline, they stall the event loop: heartbeats, commits and rebalances wait.
With ``NEWSWIRE_PROCESSES`` > 0 each batch runs in a process pool instead (the
loop only awaits a future); with 0 the batch runs inline, which unit tests and
single-core deployments use.

The batch functions are module-level so they pickle; each child process
builds its own validator and models once (``functools.cache``) and keeps them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from worker.pipeline.flow import PipelineConfig, clean_stage, enrich_stage
from worker.pipeline.records import (
    CleanArticle,
    DeadLetter,
    EnrichedArticle,
    Origin,
    UniqueArticle,
)
from worker.schemas import validator

T = TypeVar("T")
Timed = tuple[T, float]


def clean_batch(
    items: Sequence[tuple[bytes, Origin]], config: PipelineConfig
) -> list[Timed[CleanArticle | DeadLetter]]:
    validate = validator("raw")
    out: list[Timed[CleanArticle | DeadLetter]] = []
    for value, origin in items:
        started = time.perf_counter()
        result = clean_stage(value, origin, validate, config)
        out.append((result, time.perf_counter() - started))
    return out


def enrich_batch(
    items: Sequence[UniqueArticle], config: PipelineConfig
) -> list[Timed[EnrichedArticle | DeadLetter]]:
    out: list[Timed[EnrichedArticle | DeadLetter]] = []
    for unique in items:
        started = time.perf_counter()
        result = enrich_stage(unique, config)
        out.append((result, time.perf_counter() - started))
    return out


def _warm_up() -> None:
    from worker.pipeline.enrich import warm_up

    validator("raw")
    warm_up()


class Offload:
    """Runs batch functions inline (``processes=0``) or in a process pool."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the parent runs threads (Kafka clients, RocksDB)
            # that a forked child would inherit in an undefined state.
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm_up,
            )
        return self._pool

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.processes <= 0:
            return fn(*args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
