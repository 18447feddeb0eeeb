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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from worker.pipeline.boilerplate import SourceLines
from worker.pipeline.flow import PipelineConfig, clean_stage, enrich_stage_batch
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
    items: Sequence[tuple[bytes, Origin]],
    config: PipelineConfig,
    states: Mapping[str, str],
) -> tuple[list[Timed[CleanArticle | DeadLetter]], dict[str, str]]:
    """Cleans a batch in order. ``states`` are the stored learned-boilerplate
    states (JSON) of the batch's sources; the ones the batch changed come back."""
    validate = validator("raw")
    sources = _SourceStates(states)
    out: list[Timed[CleanArticle | DeadLetter]] = []
    for value, origin in items:
        started = time.perf_counter()
        result = clean_stage(value, origin, validate, config, sources)
        out.append((result, time.perf_counter() - started))
    return out, {name: sources[name].to_json() for name in sources.touched}


class _SourceStates(dict[str, SourceLines]):
    """Decodes stored states on first use and remembers which ones changed."""

    def __init__(self, stored: Mapping[str, str]) -> None:
        super().__init__()
        self.stored = stored
        self.touched: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self and key in self.stored:
            super().__setitem__(key, SourceLines.from_json(self.stored[key]))
        return super().get(key, default)

    def __setitem__(self, key: str, value: SourceLines) -> None:
        self.touched.add(key)
        super().__setitem__(key, value)


def enrich_batch(
    items: Sequence[UniqueArticle], config: PipelineConfig
) -> list[Timed[EnrichedArticle | DeadLetter]]:
    started = time.perf_counter()
    results = enrich_stage_batch(list(items), config)
    # One model pass serves the batch; each article is charged an equal share.
    share = (time.perf_counter() - started) / max(len(results), 1)
    return [(result, share) for result in results]


def warm_up(config: PipelineConfig) -> None:
    """Load the validator and every model, in this process (and in each child)."""
    from worker.pipeline.enrich import warm_up as load_models

    validator("raw")
    load_models(config.enrich)


class Offload:
    """Runs batch functions inline (``processes=0``) or in a process pool."""

    def __init__(self, processes: int, config: PipelineConfig) -> None:
        self.processes = processes
        self.config = config
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the parent runs threads (Kafka clients, RocksDB)
            # that a forked child would inherit in an undefined state.
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=warm_up,
                initargs=(self.config,),
            )
        return self._pool

    def start(self) -> None:
        """Start every pool process now, models loaded, so the worker is not
        reported ready while its first batch would still wait for them (a pool
        otherwise starts its processes on first use)."""
        if self.processes <= 0:
            return
        pool = self._executor()
        # One short task per process: each new process runs the initializer first.
        for future in [pool.submit(time.sleep, 0.2) for _ in range(self.processes)]:
            future.result()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.processes <= 0:
            return fn(*args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
