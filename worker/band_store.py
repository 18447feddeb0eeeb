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

A rebuild does not replay the decisions' read-modify-write of each band (a
multi-get and a write batch an article: ~3,000 articles/s, 6 minutes a million
held). It reads the sketches once, in decision order, spreading (band key,
article) pairs over scratch files by key range; then sorts one file at a time,
folds each key's articles in that order (``DedupIndex.band_value``), and hands
RocksDB the result as sorted table files (``LocalBands.write_sorted``): no
read, no memtable. Memory holds one file's pairs and 16 bytes an article.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
from rocksdict import (
    BlockBasedOptions,
    Cache,
    IngestExternalFileOptions,
    Options,
    Rdict,
    SstFileWriter,
    WriteBatch,
    WriteOptions,
)

# Band keys are 48-bit ints stored as their 6 big-endian bytes, the bytes the
# index packs into sketches; bands concatenate handles of HANDLE_CHARS each.
from worker.pipeline.dedup import BAND_KEY_BYTES, HANDLE_CHARS, DedupIndex

# Where the stamp goes: no band key is this long.
_STAMP = b"newswire: tables version"
# The rebuild's scratch files, by the band key's top bits: at a million articles
# held, ~125,000 pairs (1.5 MB) each, the most it sorts in memory at once.
_SPREAD_BITS = 8
_PAIR = np.dtype([("key", "<u8"), ("at", "<u4")])
_NAME = np.dtype(f"S{HANDLE_CHARS}")  # an article handle, ASCII
# The rebuild's scratch directory, beside the bands' database.
_SCRATCH = "bands-rebuild-"


def _key(key: int | str) -> bytes:
    # State from before int band keys names them as 12 hex digits: the same bytes.
    return (key if isinstance(key, int) else int(key, 16)).to_bytes(BAND_KEY_BYTES, "big")


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
        self._options: Any = None
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
        self._options = options  # sorted table files for write_sorted are made alike
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

    def write_sorted(self, runs: Iterable[tuple[list[bytes], list[bytes]]], scratch: Path,
                     *, file_keys: int = 4_000_000) -> Iterator[int]:
        """Fill the bands, empty (``clear``), with raw keys and values given in
        runs of (keys, values), ascending keys throughout: as sorted table files
        in ``scratch`` that RocksDB takes whole (no read, no memtable, no
        compaction of the load). A generator: yields the count written after
        each run."""
        store = self._writable()
        written = 0
        if self._db is None:
            for keys, values in runs:
                store.update(zip(keys, values, strict=True))
                written += len(keys)
                yield written
            return
        files: list[str] = []
        writer: Any = None
        in_file = 0
        for keys, values in runs:
            for key, value in zip(keys, values, strict=True):
                if writer is None:
                    files.append(str(scratch / f"bands-{len(files):04d}.sst"))
                    writer = SstFileWriter(options=self._options)
                    writer.open(files[-1])
                writer[key] = value
                in_file += 1
                if in_file == file_keys:  # files of a size compactions can take in part
                    writer.finish()
                    writer, in_file = None, 0
            written += len(keys)
            yield written
        if writer is not None:
            writer.finish()
        if files:
            ingest = IngestExternalFileOptions()
            ingest.set_move_files(True)
            self._db.ingest_external_file(files, ingest)
        yield written

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
            if len(raw) == BAND_KEY_BYTES:  # not the stamp
                yield int.from_bytes(raw, "big")

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Spread:
    """Band keys of articles added in decision order, spread over scratch files by
    key range (the key's top bits), each pair with the article's ordinal; then,
    a file at a time, each band's value (``bands``)."""

    def __init__(self, directory: Path, *, flush_at: int = 1 << 16) -> None:
        self.directory = directory
        self.count = 0
        self._flush_at = flush_at
        self._keys: list[int] = []
        self._at: list[int] = []
        self._names: list[str] = []
        self._handles: list[Any] = []  # arrays of the added handles, 16 bytes each

    def add(self, handle: str, keys: list[int]) -> None:
        if len(handle) != HANDLE_CHARS:
            raise ValueError(f"an article handle of {len(handle)} characters: {handle!r}")
        self._names.append(handle)
        self._keys.extend(keys)
        self._at.extend(repeat(self.count, len(keys)))
        self.count += 1
        if len(self._keys) >= self._flush_at:
            self._flush()

    def _flush(self) -> None:
        if self._names:
            self._handles.append(np.array(self._names, dtype=_NAME))
        pairs = np.empty(len(self._keys), _PAIR)
        pairs["key"] = self._keys
        pairs["at"] = self._at
        self._names, self._keys, self._at = [], [], []
        part = pairs["key"] >> (8 * BAND_KEY_BYTES - _SPREAD_BITS)
        if len(part) and int(part.max()) >> _SPREAD_BITS:
            raise ValueError("a band key wider than 48 bits")
        order = np.argsort(part, kind="stable")  # stable: decision order within a part
        pairs, part = pairs[order], part[order]
        edges = np.searchsorted(part, np.arange((1 << _SPREAD_BITS) + 1))
        for n in range(1 << _SPREAD_BITS):
            if edges[n + 1] > edges[n]:
                with open(self.directory / f"part-{n:03d}", "ab") as out:
                    pairs[edges[n] : edges[n + 1]].tofile(out)

    def bands(self, value: Callable[[Iterable[str]], str], *, run: int = 50_000
              ) -> Iterator[tuple[list[bytes], list[bytes]]]:
        """Every band as raw (keys, values) in runs of up to ``run``, ascending
        keys throughout; ``value`` folds the handles of a band shared by several
        articles, in their order."""
        self._flush()
        handles = np.concatenate(self._handles) if self._handles else np.empty(0, _NAME)
        for n in range(1 << _SPREAD_BITS):
            path = self.directory / f"part-{n:03d}"
            if not path.exists():
                continue
            pairs = np.fromfile(path, dtype=_PAIR)
            path.unlink()
            order = np.argsort(pairs["key"], kind="stable")
            keys, at = pairs["key"][order], pairs["at"][order]
            first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            # Keys as the database spells them: 6 bytes, big-endian.
            raw = np.ascontiguousarray(
                keys[first].astype(">u8").view(np.uint8).reshape(-1, 8)[:, 8 - BAND_KEY_BYTES :]
            ).tobytes()
            ends = np.r_[first[1:], len(keys)]
            for lo in range(0, len(first), run):
                starts = first[lo : lo + run]
                values = handles[at[starts]].tolist()  # the usual band: one article's
                for j in np.flatnonzero(ends[lo : lo + run] - starts > 1).tolist():
                    shared = handles[at[starts[j] : ends[lo + j]]].tolist()
                    values[j] = value(name.decode("ascii") for name in shared).encode("ascii")
                yield ([raw[i : i + BAND_KEY_BYTES]
                        for i in range(lo * BAND_KEY_BYTES, (lo + len(starts)) * BAND_KEY_BYTES,
                                       BAND_KEY_BYTES)],
                       values)


async def rebuild(index: DedupIndex, bands: LocalBands, *, step: int = 200
                  ) -> tuple[int, float]:
    """Empty ``bands`` (the index's) and rebuild them from the index's sketches
    and timeline, to the state ``DedupIndex.rebuild_bands`` gives; the event loop
    runs between steps (web, metrics, heartbeats). Returns (sketches indexed,
    seconds)."""
    started = time.perf_counter()
    bands.clear()
    parent = bands.path.parent if bands.path is not None else None
    if parent is not None:
        # What a rebuild cut short by a kill left (12 bytes a band key).
        for stale in parent.glob(f"{_SCRATCH}*"):
            shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=_SCRATCH, dir=parent) as scratch:
        spread = _Spread(Path(scratch))
        for handle, keys in index.band_entries():
            spread.add(handle, keys)
            if spread.count % step == 0:
                await asyncio.sleep(0)
        for _ in bands.write_sorted(spread.bands(index.band_value), Path(scratch)):
            await asyncio.sleep(0)
    return spread.count, time.perf_counter() - started
