"""The dedup sequencer's LSH bands, kept local and rebuilt, not changelogged.

Bands are derived state: every band entry is an article's handle under one of
the band keys its sketch lists, and ``DedupIndex.rebuild_bands`` rebuilds them
exactly from the sketches and timeline tables (which are changelogged). Kept in
a Faust table they cost 32 changelog records per unique article, to write and
to restore after every takeover: seven times what the other tables cost. So
the worker keeps them in a RocksDB database of its own, beside Faust's tables
(``LocalBands``), and rebuilds it from the recovered tables whenever it is
assigned partitions (``rebuild``), before the sequencer's next decision.

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


def _key(key: int | str) -> bytes:
    # State from before int band keys names them as 12 hex digits: the same bytes.
    return (key if isinstance(key, int) else int(key, 16)).to_bytes(_KEY_BYTES, "big")


class LocalBands(MutableMapping[Any, str]):
    """Band key -> concatenated article handles, in a RocksDB database at ``path``
    (a dict when ``path`` is None: the ``memory://`` store), with the many-key
    calls ``DedupIndex`` uses: one multi-get, one write batch."""

    def __init__(self, path: Path | None, *, write_buffer_size: int = 8 << 20,
                 max_write_buffer_number: int = 2, block_cache_size: int = 16 << 20) -> None:
        self.path = path
        self._caps = (write_buffer_size, max_write_buffer_number, block_cache_size)
        self._memory: dict[bytes, bytes] | None = None
        self._db: Any = None

    def _open(self) -> None:
        """A new, empty database (or dict): whatever a previous run left is stale."""
        if self.path is None:
            self._memory = {}
            return
        if self.path.exists():
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
        # No write-ahead log: the database is rebuilt at every start, never recovered.
        writes = WriteOptions()
        # A property at run time; rocksdict's stub declares a method.
        writes.disable_wal = True  # type: ignore[method-assign,assignment]
        self._db.set_write_options(writes)

    def clear(self) -> None:
        """Empty, at once: a new database rather than a delete per key."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._open()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def get_many(self, keys: list[Any]) -> list[str | None]:
        store = self._store()
        raw = store.get([_key(key) for key in keys]) if self._db is not None else (
            [store.get(_key(key)) for key in keys])
        return [None if value is None else value.decode("ascii") for value in raw]

    def set_many(self, items: dict[Any, str]) -> None:
        store = self._store()
        if self._db is None:
            for key, value in items.items():
                store[_key(key)] = value.encode("ascii")
            return
        batch = WriteBatch(raw_mode=True)
        for key, value in items.items():
            batch.put(_key(key), value.encode("ascii"))
        store.write(batch)

    def delete_many(self, keys: list[Any]) -> None:
        store = self._store()
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
            self._open()
        return self._db if self._db is not None else self._memory

    def __getitem__(self, key: Any) -> str:
        value = self._store().get(_key(key))
        if value is None:
            raise KeyError(key)
        return str(value.decode("ascii"))

    def __setitem__(self, key: Any, value: str) -> None:
        self._store()[_key(key)] = value.encode("ascii")

    def __delitem__(self, key: Any) -> None:
        store = self._store()
        if self._db is None:
            del store[_key(key)]
        elif store.get(_key(key)) is None:
            raise KeyError(key)
        else:
            del store[_key(key)]

    def __iter__(self) -> Iterator[int]:
        # keys(): iterating an Rdict itself does not give its keys.
        for raw in self._store().keys():  # noqa: SIM118
            yield int.from_bytes(raw, "big")

    def __len__(self) -> int:
        store = self._store()
        return len(store) if self._db is None else sum(1 for _ in store.keys())  # noqa: SIM118


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
