"""The dedup sequencer's LSH bands, kept local and rebuilt, not changelogged.

Bands are derived state: every band entry is an article's handle under one of
the band keys its sketch lists, and ``DedupIndex.rebuild_bands`` rebuilds them
exactly from the sketches and timeline tables (which are changelogged). Kept in
a Faust table they cost 32 changelog records per unique article, to write and
to restore after every takeover: six times what the other tables cost. So the
worker keeps them in a RocksDB database of its own, beside Faust's tables
(``LocalBands``), and after every assignment, before the sequencer's next
decision, either finds them stamped with the version of the tables it
recovered (it gave up the sequencer cleanly and nobody wrote since) or
rebuilds them from those tables (``rebuild``).

A dict would be simpler and faster, but at a million articles in the window
32 million keys take gigabytes of RAM; RocksDB keeps them on disk within the
same memory caps as the tables.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from rocksdict import BlockBasedOptions, Cache, Options, Rdict, WriteBatch, WriteOptions

from worker.pipeline.dedup import DedupIndex

# Band keys are 48-bit ints (worker.pipeline.minhash.band_keys).
_KEY_BYTES = 6
# Where the stamp goes: no band key is this long.
_STAMP = b"newswire: tables version"


def _key(key: int | str) -> bytes:
    # State from before int band keys names them as 12 hex digits: the same bytes.
    return (key if isinstance(key, int) else int(key, 16)).to_bytes(_KEY_BYTES, "big")


class LocalBands(MutableMapping[Any, str]):
    """Band key -> concatenated article handles, in a RocksDB database at ``path``
    (a dict when ``path`` is None: the ``memory://`` store), with the many-key
    calls ``DedupIndex`` uses: one multi-get, one write batch.

    The database has no write-ahead log: after a crash it may have lost its last
    writes, so it is trusted only under a stamp (``set_stamp``): the version of
    the tables it was known to match, written when the worker gives up the
    sequencer (a rebalance, a stop) and made durable with a flush. The first
    band write after that removes the stamp, durably, before it writes."""

    def __init__(self, path: Path | None, *, write_buffer_size: int = 8 << 20,
                 max_write_buffer_number: int = 2, block_cache_size: int = 16 << 20) -> None:
        self.path = path
        self._caps = (write_buffer_size, max_write_buffer_number, block_cache_size)
        self._memory: dict[bytes, bytes] | None = None
        self._db: Any = None
        self._stamped = True  # until read: what a previous run left may carry one

    def _open(self, *, empty: bool) -> None:
        """The database a previous run left (``empty``: a new, empty one)."""
        if self.path is None:
            if empty or self._memory is None:
                self._memory = {}
            return
        if empty and self.path.exists():
            shutil.rmtree(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        buffer, buffers, cache = self._caps
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        options.set_write_buffer_size(buffer)
        options.set_max_write_buffer_number(buffers)
        table = BlockBasedOptions()
        table.set_block_cache(Cache(cache))
        table.set_bloom_filter(10, block_based=True)
        options.set_block_based_table_factory(table)
        self._db = Rdict(str(self.path), options=options)
        # No write-ahead log: the stamp (flushed) says when the files can be trusted.
        writes = WriteOptions()
        # A property at run time; rocksdict's stub declares a method.
        writes.disable_wal = True  # type: ignore[method-assign,assignment]
        self._db.set_write_options(writes)

    def clear(self) -> None:
        """Empty, at once: a new database rather than a delete per key."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._open(empty=True)
        self._stamped = False

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def database(self) -> Any:
        """The rocksdict database, None until first use or in memory."""
        return self._db

    # -- the stamp -------------------------------------------------------------------

    def stamp(self) -> bytes | None:
        """The table version these bands were stamped with, if they still are."""
        value = self._store().get(_STAMP)
        return bytes(value) if value is not None else None

    def set_stamp(self, version: bytes | None) -> None:
        """Stamp the bands as matching tables of ``version`` (None: remove the
        stamp), durably: the memtables are flushed to files."""
        store = self._store()
        if version is not None:
            store[_STAMP] = version
        elif store.get(_STAMP) is not None:
            del store[_STAMP]
        if self._db is not None:
            self._db.flush()
        self._stamped = version is not None

    def _writable(self) -> Any:
        store = self._store()
        if self._stamped:
            self.set_stamp(None)
        return store

    # -- many keys at once -----------------------------------------------------------

    def get_many(self, keys: list[Any]) -> list[str | None]:
        store = self._store()
        raw = store.get([_key(key) for key in keys]) if self._db is not None else (
            [store.get(_key(key)) for key in keys])
        return [None if value is None else value.decode("ascii") for value in raw]

    def set_many(self, items: dict[Any, str]) -> None:
        store = self._writable()
        if self._db is None:
            for key, value in items.items():
                store[_key(key)] = value.encode("ascii")
            return
        batch = WriteBatch(raw_mode=True)
        for key, value in items.items():
            batch.put(_key(key), value.encode("ascii"))
        store.write(batch)

    def delete_many(self, keys: list[Any]) -> None:
        store = self._writable()
        if self._db is None:
            for key in keys:
                del store[_key(key)]
            return
        batch = WriteBatch(raw_mode=True)
        for key in keys:
            batch.delete(_key(key))
        store.write(batch)

    def estimate_size(self) -> int:
        """Keys held: RocksDB's O(1) estimate (len() would scan them all)."""
        if self._db is None:
            return len(self._memory or {})
        return int(self._db.property_int_value("rocksdb.estimate-num-keys") or 0)

    def _store(self) -> Any:
        if self._db is None and self._memory is None:
            self._open(empty=False)
        return self._db if self._db is not None else self._memory

    def __getitem__(self, key: Any) -> str:
        value = self._store().get(_key(key))
        if value is None:
            raise KeyError(key)
        return str(value.decode("ascii"))

    def __setitem__(self, key: Any, value: str) -> None:
        self._writable()[_key(key)] = value.encode("ascii")

    def __delitem__(self, key: Any) -> None:
        store = self._writable()
        if self._db is None:
            del store[_key(key)]
        elif store.get(_key(key)) is None:
            raise KeyError(key)
        else:
            del store[_key(key)]

    def __iter__(self) -> Iterator[int]:
        # keys(): iterating an Rdict itself does not give its keys.
        for raw in self._store().keys():  # noqa: SIM118
            if len(raw) == _KEY_BYTES:  # not the stamp
                yield int.from_bytes(raw, "big")

    def __len__(self) -> int:
        return sum(1 for _ in self)


async def rebuild(index: DedupIndex, bands: LocalBands) -> tuple[int, float]:
    """Empty ``bands`` (the index's) and rebuild them from the index's sketches
    and timeline; the event loop runs between steps (web, metrics, heartbeats).
    Returns (sketches indexed, seconds)."""
    started = time.perf_counter()
    bands.clear()
    done = 0
    for count in index.rebuild_bands(step=200):
        done = count
        await asyncio.sleep(0)
    return done, time.perf_counter() - started
