"""CPU-heavy stages off Faust's event loop.

Cleaning and enrichment take milliseconds to tens of milliseconds per article.
Run inline, they stall the event loop: heartbeats, commits and rebalances wait.
With ``NEWSWIRE_PROCESSES`` > 0 each batch runs in a child process instead (the
loop only awaits its answer); with 0 the batch runs inline, which unit tests and
single-core deployments use.

The children are our own, each reached over a socket pair that the event loop
reads and writes without blocking. A ``ProcessPoolExecutor`` did this before;
its management thread, queue feeder thread and the cross-thread wake-ups
between them and the loop cost about a tenth of the worker's main-process CPU
(py-spy, bench/stream_profile.py), for features a batch stage does not use.

The batch functions are module-level so they pickle; each child builds its own
validator and models once (``functools.cache``) and keeps them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
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

_HEADER = struct.Struct("!Q")  # length of the pickled message that follows
_CHUNK = 1 << 20


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


class OffloadError(RuntimeError):
    """A child process died, or its answer could not be read."""


# --- the child's side ------------------------------------------------------------


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], min(n - got, _CHUNK))
        if k == 0:
            raise EOFError
        got += k
    return bytes(buf)


def _serve(sock: socket.socket, config: PipelineConfig) -> None:
    """A child's loop: one pickled (function, args) in, one pickled outcome out,
    until the parent closes its end."""
    warm_up(config)
    sock.sendall(_HEADER.pack(0))  # ready: models loaded
    while True:
        try:
            (size,) = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
            fn, args = pickle.loads(_recv_exactly(sock, size))
        except EOFError:
            return
        try:
            outcome: tuple[bool, Any] = (True, fn(*args))
        except Exception as exc:  # the parent re-raises it, as an executor would
            outcome = (False, exc)
        try:
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable result or exception
            data = pickle.dumps((False, OffloadError(f"cannot send the result back: {exc!r}")))
        sock.sendall(_HEADER.pack(len(data)) + data)


# --- the parent's side -----------------------------------------------------------


class _Child:
    def __init__(self, config: PipelineConfig) -> None:
        parent, child = socket.socketpair()
        # spawn, not fork: the parent runs threads (Kafka clients, RocksDB) that a
        # forked child would inherit in an undefined state.
        ctx = multiprocessing.get_context("spawn")
        self.process = ctx.Process(target=_serve, args=(child, config), daemon=True,
                                   name="newswire-offload")
        self.process.start()
        child.close()
        self.sock = parent
        self.ready = False

    def wait_ready(self) -> None:
        """Block until the child has loaded its models (its first message)."""
        if not self.ready:
            try:
                _recv_exactly(self.sock, _HEADER.size)
            except EOFError:
                raise OffloadError(
                    f"offload process {self.process.pid} exited while starting "
                    f"(exit code {self.process.exitcode})") from None
            self.ready = True
            self.sock.setblocking(False)

    async def call(self, payload: bytes) -> Any:
        loop = asyncio.get_running_loop()
        if not self.ready:
            await loop.run_in_executor(None, self.wait_ready)
        await loop.sock_sendall(self.sock, _HEADER.pack(len(payload)) + payload)
        (size,) = _HEADER.unpack(await self._recv(loop, _HEADER.size))
        ok, value = pickle.loads(await self._recv(loop, size))
        if not ok:
            raise value
        return value

    async def _recv(self, loop: asyncio.AbstractEventLoop, n: int) -> bytes:
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = await loop.sock_recv_into(self.sock, view[got:])
            if k == 0:
                raise OffloadError(
                    f"offload process {self.process.pid} died (exit code "
                    f"{self.process.exitcode})")
            got += k
        return bytes(buf)

    def close(self) -> None:
        self.sock.close()  # the child sees EOF and returns
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class Offload:
    """Runs batch functions inline (``processes=0``) or in child processes, one
    batch per child at a time, in the order they were asked for."""

    def __init__(self, processes: int, config: PipelineConfig) -> None:
        self.processes = processes
        self.config = config
        self._children: list[_Child] = []
        self._idle: deque[_Child] = deque()
        self._waiting: deque[asyncio.Future[_Child]] = deque()

    def _start_children(self) -> None:
        if not self._children:
            self._children = [_Child(self.config) for _ in range(self.processes)]
            self._idle.extend(self._children)

    def start(self) -> None:
        """Start every child now and wait until its models are loaded, so the
        worker is not reported ready while its first batch would still wait for
        them."""
        if self.processes <= 0:
            return
        self._start_children()
        for child in self._children:
            child.wait_ready()

    async def _acquire(self) -> _Child:
        self._start_children()
        if self._idle and not self._waiting:
            return self._idle.popleft()
        waiter: asyncio.Future[_Child] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            # Cancelled after a child was handed over: give it to the next one.
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())
            raise

    def _release(self, child: _Child) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(child)
                return
        self._idle.append(child)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.processes <= 0:
            return fn(*args)
        # Pickled before a child is taken: a payload that cannot be pickled fails
        # here, with no child left half-fed.
        payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        child = await self._acquire()
        # Shielded: a cancelled agent must not leave a request half-sent or an
        # answer unread on the socket, or the child's next answer would be the
        # wrong one. The exchange finishes and the child goes back to the pool.
        result: T = await asyncio.shield(self._exchange(child, payload))
        return result

    async def _exchange(self, child: _Child, payload: bytes) -> Any:
        try:
            return await child.call(payload)
        except (OffloadError, OSError) as exc:
            # A dead child (EOF, or a reset or broken socket) is replaced, its
            # models loaded again in the new one; this batch fails, as it would
            # have with an executor.
            child.close()
            fresh = _Child(self.config)
            self._children = [fresh if c is child else c for c in self._children]
            child = fresh
            if isinstance(exc, OffloadError):
                raise
            raise OffloadError(f"offload process lost: {exc!r}") from exc
        finally:
            self._release(child)

    def close(self) -> None:
        for child in self._children:
            child.close()
        self._children, self._idle = [], deque()
