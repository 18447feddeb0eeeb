"""Many keys of a Faust table in one call, for the dedup sequencer.

The sequencer reads every LSH band of an article (32 keys), writes the bands of
each unique article and, at expiry, deletes the bands of the article leaving
the window. Through a Faust table each key is its own trip through Faust's
layers: ``get`` tests membership, then reads, so a key that is there costs two
RocksDB lookups, each with the key serialised again; a set or delete is a
RocksDB write, a changelog record, sensor calls, and a second RocksDB write of
the table's persisted changelog offset when that record is acknowledged.

``BatchTable`` wraps a table and adds ``get_many(keys)``, ``set_many(items)``
and ``delete_many(keys)`` (which ``DedupIndex`` uses when a table has them): one
RocksDB multi-get or one write batch on the database Faust itself uses for the
current event, keys and values encoded once by the table's own serializers and
sent to the changelog as those very bytes (what Faust's recovery writes back),
and the persisted offset set once per batch, from its last record. Without a
RocksDB store (``memory://``, tests) or outside an event, every call goes key
by key through the table.

This reaches into Faust's table and RocksDB store (``_db_for_partition``,
``_encode_key``, ``_encode_value``, ``_decode_value``, ``changelog_topic``,
``_on_changelog_sent`` of faust-streaming 0.15.3, pinned in constraints.txt):
the unit tests run it on a real RocksDB store and recover a table from the
changelog it wrote, so an upgrade that moves them fails there, not in
production.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from faust.streams import current_event
from rocksdict import WriteBatch


class BatchTable(MutableMapping[Any, Any]):
    """A Faust table (any MutableMapping) that can also read, write and delete
    many keys at once."""

    def __init__(self, table: MutableMapping[Any, Any]) -> None:
        self.table = table

    def get_many(self, keys: list[Any]) -> list[Any]:
        """``[table.get(key) for key in keys]``, in one RocksDB call when it can."""
        db, store, _ = self._database()
        if db is None:
            return [self.table.get(key) for key in keys]
        raw = db.get([store._encode_key(key) for key in keys])
        decode = store._decode_value
        return [None if value is None else decode(value) for value in raw]

    def set_many(self, items: dict[Any, Any]) -> None:
        """``table[key] = value`` for each item: one RocksDB write batch and one
        changelog record per key, the persisted offset set once."""
        db, store, partition = self._database()
        if db is None:
            for key, value in items.items():
                self.table[key] = value
            return
        encode_key, encode_value = store._encode_key, store._encode_value
        self._write(db, partition, [(encode_key(k), encode_value(v)) for k, v in items.items()])

    def delete_many(self, keys: list[Any]) -> None:
        """``del table[key]`` for each key (all present), as ``set_many`` writes."""
        db, store, partition = self._database()
        if db is None:
            for key in keys:
                del self.table[key]
            return
        self._write(db, partition, [(store._encode_key(key), None) for key in keys])

    def _write(self, db: Any, partition: int, records: list[tuple[bytes, bytes | None]]) -> None:
        batch = WriteBatch(raw_mode=True)
        for key, value in records:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        db.write(batch)
        # The changelog gets the stored bytes themselves, in order, after the
        # local write (as Faust's own set does). Only the last record's
        # acknowledgement records the persisted offset: the partition's records
        # are acknowledged in order, so it is the highest of the batch.
        table: Any = self.table
        topic, last = table.changelog_topic, len(records) - 1
        for n, (key, value) in enumerate(records):
            topic.send_soon(
                key=key, value=value, partition=partition, key_serializer="raw",
                value_serializer="raw",
                callback=table._on_changelog_sent if n == last else None,
            )

    def _database(self) -> tuple[Any, Any, int]:
        """The rocksdict database Faust's own read or write would use now, the
        store and the partition (None, None, -1 if there is none)."""
        store: Any = getattr(self.table, "data", None)
        if not getattr(store, "use_rocksdict", False) or not hasattr(store, "_db_for_partition"):
            return None, None, -1
        event = current_event()
        if event is None or getattr(self.table, "is_global", False) or getattr(
            self.table, "use_partitioner", False
        ):
            return None, None, -1
        partition = event.message.partition
        return store._db_for_partition(partition), store, partition

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
