"""Durable storage of the registry log: one interface, one implementation per engine."""

from registry.node.storage.base import (
    SCHEMA_VERSION,
    Storage,
    StorageError,
    StoredBlock,
    StoredTx,
)
from registry.node.storage.memory import MemoryStorage
from registry.node.storage.sqlite import SqliteStorage

__all__ = ["SCHEMA_VERSION", "MemoryStorage", "SqliteStorage", "Storage", "StorageError",
           "StoredBlock", "StoredTx"]
