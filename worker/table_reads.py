"""Many keys of a Faust table in one read, for the dedup sequencer.

The sequencer reads every LSH band of an article (32 keys) and, at expiry, every
band of the article leaving the window. Through a Faust table each key is its
own trip through Faust's layers: ``get`` tests membership, then reads, so a key
that is there costs two RocksDB lookups, each with the key serialised again.
``BatchReads`` wraps a table and adds ``get_many(keys)`` (which ``DedupIndex``
uses when a table has it): one RocksDB multi-get on the database Faust itself
reads for the current event, values decoded by the table's own serializer.
Writes and single reads go to the table unchanged, so every write is still
changelogged. Without a RocksDB store (``memory://``, tests) or outside an
event, ``get_many`` reads key by key.

This reaches into Faust's RocksDB store (``_db_for_partition``, ``_encode_key``,
``_decode_value`` of faust-streaming 0.15.3, pinned in constraints.txt): the
unit tests run it on a real RocksDB store, so an upgrade that moves them fails
there, not in production.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from faust.streams import current_event


class BatchReads(MutableMapping[Any, Any]):
    """A Faust table (any MutableMapping) that can also read many keys at once."""

    def __init__(self, table: MutableMapping[Any, Any]) -> None:
        self.table = table

    def get_many(self, keys: list[Any]) -> list[Any]:
        """``[table.get(key) for key in keys]``, in one RocksDB call when it can."""
        db, store = self._database()
        if db is None:
            return [self.table.get(key) for key in keys]
        raw = db.get([store._encode_key(key) for key in keys])
        decode = store._decode_value
        return [None if value is None else decode(value) for value in raw]

    def _database(self) -> tuple[Any, Any]:
        """The rocksdict database Faust's own read would use now, and the store."""
        store: Any = getattr(self.table, "data", None)
        if not getattr(store, "use_rocksdict", False) or not hasattr(store, "_db_for_partition"):
            return None, None
        event = current_event()
        if event is None or getattr(self.table, "is_global", False) or getattr(
            self.table, "use_partitioner", False
        ):
            return None, None
        return store._db_for_partition(event.message.partition), store

    def get(self, key: Any, default: Any = None) -> Any:
        return self.table.get(key, default)

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.table[key] = value

    def __delitem__(self, key: Any) -> None:
        del self.table[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)
