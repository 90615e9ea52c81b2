"""The trace file's SQLite schema: table definitions, the format version and the magic number.

The file is the contract between the recorder and the viewer. Bump ``FORMAT_VERSION`` when a
change would make an older reader misread a newer file, keep a fixture per version in
``tests/data/`` and teach the reader to load every version it has a fixture for.
"""

from __future__ import annotations

FORMAT_VERSION = 1
"""Version of the table layout written by this recorder."""

APPLICATION_ID = 0x4F505343
"""``PRAGMA application_id`` of every trace file (ASCII ``OPSC``)."""

BLOB_CHUNK_BYTES = 16 * 1024 * 1024
"""Largest single blob row; bigger tensor payloads are split into chunks of this size."""

# Every table, its columns in order and their SQL types. The reader checks a file against this
# table by table, so a foreign or damaged schema is rejected by name before any row is read.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "meta": (("key", "TEXT PRIMARY KEY"), ("value", "TEXT NOT NULL")),
    "ops": (
        ("seq", "INTEGER PRIMARY KEY"),
        ("op_type", "TEXT NOT NULL"),
        ("framework", "TEXT NOT NULL"),
        ("module_path", "TEXT NOT NULL"),
        ("module_call", "INTEGER NOT NULL"),
        ("call_id", "INTEGER NOT NULL"),
        ("file", "TEXT NOT NULL"),
        ("line", "INTEGER NOT NULL"),
        ("col", "INTEGER NOT NULL"),
        ("end_col", "INTEGER NOT NULL"),
        ("func", "TEXT NOT NULL"),
        ("stack_id", "INTEGER NOT NULL"),
        ("mutates", "TEXT NOT NULL"),
        ("duration_ns", "INTEGER NOT NULL"),
        ("error", "TEXT"),
        ("thread_id", "INTEGER NOT NULL"),
        ("kind", "TEXT NOT NULL"),
        ("attrs", "TEXT NOT NULL"),
        ("graph_id", "TEXT NOT NULL"),
        ("nonfinite", "INTEGER NOT NULL"),
    ),
    "edges": (
        ("seq", "INTEGER NOT NULL"),
        ("slot", "INTEGER NOT NULL"),
        ("name", "TEXT NOT NULL"),
        ("source", "TEXT NOT NULL"),
        ("out_index", "INTEGER NOT NULL"),
        ("shape", "TEXT NOT NULL"),
        ("dtype", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"),
    ),
    "tensors": (
        ("seq", "INTEGER NOT NULL"),
        ("idx", "INTEGER NOT NULL"),
        ("shape", "TEXT NOT NULL"),
        ("dtype", "TEXT NOT NULL"),
        ("device", "TEXT NOT NULL"),
        ("min", "REAL"),
        ("max", "REAL"),
        ("mean", "REAL"),
        ("std", "REAL"),
        ("nan_count", "INTEGER NOT NULL"),
        ("inf_count", "INTEGER NOT NULL"),
        ("initialized", "INTEGER NOT NULL"),
        ("has_value", "INTEGER NOT NULL"),
    ),
    "blobs": (
        ("seq", "INTEGER NOT NULL"),
        ("idx", "INTEGER NOT NULL"),
        ("chunk", "INTEGER NOT NULL"),
        ("data", "BLOB NOT NULL"),
    ),
    "frames": (
        ("id", "INTEGER PRIMARY KEY"),
        ("file", "TEXT NOT NULL"),
        ("line", "INTEGER NOT NULL"),
        ("func", "TEXT NOT NULL"),
        ("first_line", "INTEGER NOT NULL"),
    ),
    "stacks": (("id", "INTEGER PRIMARY KEY"), ("frames", "TEXT NOT NULL")),
    "sources": (("file", "TEXT PRIMARY KEY"), ("text", "TEXT NOT NULL")),
    "module_calls": (
        ("call_id", "INTEGER PRIMARY KEY"),
        ("path", "TEXT NOT NULL"),
        ("type_name", "TEXT NOT NULL"),
        ("call_index", "INTEGER NOT NULL"),
        ("parent_id", "INTEGER NOT NULL"),
        ("depth", "INTEGER NOT NULL"),
        ("start_seq", "INTEGER NOT NULL"),
        ("enter_order", "INTEGER NOT NULL"),
        ("framework", "TEXT NOT NULL"),
    ),
    "module_exits": (
        ("call_id", "INTEGER PRIMARY KEY"),
        ("end_seq", "INTEGER NOT NULL"),
        ("exit_order", "INTEGER NOT NULL"),
    ),
    "source_nodes": (
        ("node_id", "TEXT PRIMARY KEY"),
        ("kind", "TEXT NOT NULL"),
        ("name", "TEXT NOT NULL"),
        ("shape", "TEXT NOT NULL"),
        ("dtype", "TEXT NOT NULL"),
        ("summary", "TEXT NOT NULL"),
    ),
    "functions": (
        ("graph_id", "TEXT PRIMARY KEY"),
        ("name", "TEXT NOT NULL"),
        ("parent_id", "TEXT NOT NULL"),
        ("file", "TEXT NOT NULL"),
        ("line", "INTEGER NOT NULL"),
    ),
    "graph_nodes": (
        ("node_id", "TEXT PRIMARY KEY"),
        ("graph_id", "TEXT NOT NULL"),
        ("op_type", "TEXT NOT NULL"),
        ("name", "TEXT NOT NULL"),
        ("module_path", "TEXT NOT NULL"),
        ("file", "TEXT NOT NULL"),
        ("line", "INTEGER NOT NULL"),
        ("func", "TEXT NOT NULL"),
        ("outputs", "TEXT NOT NULL"),
        ("attrs", "TEXT NOT NULL"),
    ),
    "graph_edges": (
        ("src", "TEXT NOT NULL"),
        ("dst", "TEXT NOT NULL"),
        ("slot", "INTEGER NOT NULL"),
        ("out_index", "INTEGER NOT NULL"),
        ("shape", "TEXT NOT NULL"),
        ("dtype", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"),
    ),
}

# ``edges`` and ``tensors`` carry no key: they are appended in seq order and read whole, and an
# index would double the recorder's write cost. ``blobs`` is looked up by tensor.
PRIMARY_KEYS: dict[str, str] = {"blobs": "PRIMARY KEY (seq, idx, chunk)"}


def create_statements() -> list[str]:
    """SQL that creates an empty trace file's tables and indexes."""
    statements = []
    for table, columns in TABLES.items():
        parts = [f"{name} {sql_type}" for name, sql_type in columns]
        if table in PRIMARY_KEYS:
            parts.append(PRIMARY_KEYS[table])
        statements.append(f"CREATE TABLE {table} ({', '.join(parts)})")
    return statements


def insert_statement(table: str) -> str:
    """``INSERT`` with one placeholder per column of ``table``."""
    columns = TABLES[table]
    names = ", ".join(name for name, _ in columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})"


def encode_shape(shape: tuple[int, ...] | list[int]) -> str:
    """Shapes are stored as comma-separated integers (``"8,3,32,32"``; ``""`` for a scalar)."""
    return ",".join(map(str, shape))
