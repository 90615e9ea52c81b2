"""Ways to damage a trace file: SQL-level edits, byte-level edits, foreign and special files.

Every mutator is deterministic given its ``random.Random``, so a case is reproduced from its
seed name and case number alone (``make_case``). SQL-level mutators edit a copy of a valid trace
with the standard ``sqlite3`` module (wrong types, NULLs, huge numbers, hostile shapes and JSON,
broken references, schema tricks); byte-level mutators flip, truncate, extend and shuffle the
file's pages; hand-crafted files are foreign formats renamed ``.opscope`` and paths that are not
regular files (a folder, a FIFO, a symlink loop...).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import pickle
import random
import shutil
import socket
import sqlite3
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tracing import schema

PWNED_MARKER = Path("/tmp/opscope-fuzz-pwned")
"""A file that exists only if something in a hostile trace was executed (the pickle gadget)."""


@dataclass(frozen=True)
class Sql:
    """A value written as an SQL expression (for things Python cannot bind: invalid UTF-8...)."""

    expression: str


class NotApplicable(Exception):
    """The mutation does not fit this file (no rows, a constraint refused it...)."""


# -- value pools -------------------------------------------------------------------------------

# fmt: off
INTS = [
    0, 1, -1, 2, 7, 255, 256, 65535, 2**31 - 1, 2**31, 2**32, 2**32 + 1, 2**48, 2**53 + 1,
    2**62, 2**63 - 1, -(2**63), -(2**31), -2,
]
REALS = [0.0, -0.0, 0.5, -1.5, 1e308, -1e308, 5e-324, float("inf"), float("-inf")]
TEXTS: list[object] = [
    "", " ", "x", "0", "-1", "1.5", "NaN", "null", "op:0", "op:-1", "op:1_0", "op: 1", "op:٣",
    "op:99999999999999999999", "op:", "src:param:missing", "src:input:0", "\x00", "a\x00b",
    "é" * 40, "🦀" * 10, "\u202e" + "evil", "../../etc/passwd", "%s%n%x", "'); DROP TABLE ops;--",
    Sql("CAST(x'ff' AS TEXT)"), Sql("CAST(x'eda080' AS TEXT)"), Sql("CAST(x'c0af' AS TEXT)"),
    Sql("CAST(x'f4908080' AS TEXT)"), Sql("CAST(x'00ff00' AS TEXT)"),
]
BLOBS: list[object] = [b"", b"\x00", b"\xff" * 7, bytes(range(256)), b"SQLite format 3\x00"]
SHAPES = [
    "", "0", "1", "-1", "4294967296,4294967296", "281474976710656", "281474976710657",
    "1099511627776", "0,281474976710656,281474976710656,281474976710656", ",".join(["1"] * 65),
    ",".join(["1"] * 64), ",".join(["2"] * 64), ",".join(["1"] * 5000), "1,,2", " 3", "3 ", "+3",
    "1_000", "0x10", "1e3", "3.0", "٣", "9" * 5000, "9" * 30, "1,2,", ",", "2,-3",
    "8,8,8,8,8,8,8,8", "0," + ",".join(["4294967296"] * 20), Sql("CAST(x'ff2c31' AS TEXT)"),
]
DTYPES = [
    "float32", "float64", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2", "bool", "int8",
    "uint64", "complex128", "object", "", "<f4", "torch.float32", "V1000000", "S5", "U3", "O",
    "float32\x00", "datetime64", "str", "void",
]
JSONS = [
    "", "[", "{", "null", "true", "0", "-1", "[]", "{}", "[-1]", "[1.5]", "[true]", "[null]",
    '["a"]', "[1e999]", "[NaN]", "[Infinity]", '{"a": 1}', '{"a": null}', '{"a": ["b"]}',
    '"\\ud800"', '["\\ud800"]', '{"\\udfff": "\\ud800x"}', '{"k": "\\u0000"}',
    "[" + "9" * 5000 + "]", "[" + "9" * 4000 + "]", "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000, "[" * 5000, json.dumps(list(range(20_000))),
    json.dumps({str(i): str(i) for i in range(5000)}), json.dumps([2**63 - 1]),
    json.dumps([2**63]), json.dumps([2**64 + 5]), '{"shape": [4294967296, 4294967296]}',
    '{"shape": "3,4"}', '{"shape": [-1]}', '{"shape": [1.5]}', '{"nan": -5}', '{"nan": 1e300}',
    '{"nan": "1"}', '{"init": "no"}', '{"min": "x"}', '{"min": [1]}', '{"dtype": 5}',
    '[{"shape": [3], "nan": 1}]', "[{}]", "[[]]", '[{"shape": ' + json.dumps([1] * 100) + "}]",
    '{"a": "b", "a": "c"}', "[1, 2", "\ufeff[]", '{"shape": [0' + ", 4294967296" * 40 + "]}",
]
# fmt: on
JSON_COLUMNS = {
    ("ops", "mutates"),
    ("ops", "attrs"),
    ("stacks", "frames"),
    ("source_nodes", "summary"),
    ("graph_nodes", "outputs"),
    ("graph_nodes", "attrs"),
    ("meta", "value"),
}  # fmt: skip
SHAPE_COLUMNS = {
    ("edges", "shape"), ("tensors", "shape"), ("source_nodes", "shape"), ("graph_edges", "shape"),
}  # fmt: skip
DTYPE_COLUMNS = {
    ("edges", "dtype"), ("tensors", "dtype"), ("source_nodes", "dtype"), ("graph_edges", "dtype"),
}  # fmt: skip
BIG_TEXT = Sql("printf('%.*c', 2000000, 'x')")
"""A 2 MB string, larger than any metadata field the reader accepts."""


def _pool_for(table: str, column: str, rng: random.Random) -> object:
    """A hostile value for ``table.column``: mostly of the kind the column holds, sometimes not."""
    key = (table, column)
    roll = rng.random()
    if roll < 0.55:
        if key in SHAPE_COLUMNS:
            return rng.choice(SHAPES)
        if key in DTYPE_COLUMNS:
            return rng.choice(DTYPES)
        if key in JSON_COLUMNS:
            return rng.choice(JSONS)
        sql_type = dict(schema.TABLES[table])[column]
        if sql_type.startswith("INTEGER"):
            return rng.choice(INTS)
        if sql_type.startswith("REAL"):
            return rng.choice(REALS + INTS[:6])
        if sql_type.startswith("BLOB"):
            return rng.choice(BLOBS)
        return rng.choice(TEXTS)
    if roll < 0.62:
        return None
    if roll < 0.64:
        return BIG_TEXT
    return rng.choice([*INTS, *REALS, *TEXTS, *BLOBS, *SHAPES[:6], *JSONS[:12]])


# -- SQL-level mutators ------------------------------------------------------------------------


def _is_table(conn: sqlite3.Connection, table: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_schema "
        "WHERE type = 'table' AND name = ? AND sql LIKE 'CREATE TABLE%'",
        (table,),
    )
    return found.fetchone() is not None


def _random_rowid(conn: sqlite3.Connection, table: str, rng: random.Random) -> int:
    if not _is_table(conn, table):
        raise NotApplicable(f"{table} is not a plain table")
    count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if not count:
        raise NotApplicable(f"{table} is empty")
    row = conn.execute(f"SELECT rowid FROM {table} LIMIT 1 OFFSET ?", (rng.randrange(count),))
    return row.fetchone()[0]


def _bind(value: object) -> tuple[str, tuple]:
    if isinstance(value, Sql):
        return value.expression, ()
    return "?", (value,)


def _populated_table(conn: sqlite3.Connection, rng: random.Random) -> str:
    tables = [
        t
        for t in schema.TABLES
        if _is_table(conn, t) and conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()
    ]
    if not tables:
        raise NotApplicable("no rows")
    return rng.choice(tables)


def set_cell(conn: sqlite3.Connection, rng: random.Random) -> str:
    """One cell of one row gets a hostile value (wrong type, NULL, huge, malformed)."""
    table = _populated_table(conn, rng)
    column = rng.choice(schema.TABLES[table])[0]
    value = _pool_for(table, column, rng)
    rowid = _random_rowid(conn, table, rng)
    mark, params = _bind(value)
    conn.execute(
        f"UPDATE OR REPLACE {table} SET {column} = {mark} WHERE rowid = ?", (*params, rowid)
    )
    return f"set {table}.{column}={_short(value)}"


def set_column(conn: sqlite3.Connection, rng: random.Random) -> str:
    """A whole column of a table gets one hostile value."""
    table = _populated_table(conn, rng)
    column = rng.choice(schema.TABLES[table])[0]
    value = _pool_for(table, column, rng)
    mark, params = _bind(value)
    conn.execute(f"UPDATE OR REPLACE {table} SET {column} = {mark}", params)
    return f"set all {table}.{column}={_short(value)}"


def delete_rows(conn: sqlite3.Connection, rng: random.Random) -> str:
    """Rows disappear: gaps in ops, missing chunks, missing frames, parents, meta..."""
    table = _populated_table(conn, rng)
    if rng.random() < 0.2:
        conn.execute(f"DELETE FROM {table}")
        return f"empty {table}"
    rowid = _random_rowid(conn, table, rng)
    conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))
    return f"delete a row of {table}"


def duplicate_row(conn: sqlite3.Connection, rng: random.Random) -> str:
    """A row is repeated (tables without a key) or copied under a new key."""
    table = rng.choice(
        ["edges", "tensors", "blobs", "ops", "module_calls", "module_exits", "frames"]
    )
    rowid = _random_rowid(conn, table, rng)
    columns = [name for name, _ in schema.TABLES[table]]
    names = ", ".join(columns)
    if table in ("edges", "tensors"):
        conn.execute(f"INSERT INTO {table} SELECT {names} FROM {table} WHERE rowid = ?", (rowid,))
        return f"duplicate a row of {table}"
    key = "chunk" if table == "blobs" else columns[0]
    shift = rng.choice([1, 2, 1000, 2**31, -1])
    picked = ", ".join(f"{c} + {shift}" if c == key else c for c in columns)
    conn.execute(
        f"INSERT OR REPLACE INTO {table} SELECT {picked} FROM {table} WHERE rowid = ?", (rowid,)
    )
    return f"copy a row of {table} with key shifted by {shift}"


def forward_reference(conn: sqlite3.Connection, rng: random.Random) -> str:
    """An op reads from itself, from a later op or from an op that does not exist."""
    rowid = _random_rowid(conn, "edges", rng)
    offset = rng.choice([0, 1, 5, 10**6, -(10**6)])
    conn.execute("UPDATE edges SET source = 'op:' || (seq + ?) WHERE rowid = ?", (offset, rowid))
    return f"edge reads op seq{offset:+d}"


def module_tangle(conn: sqlite3.Connection, rng: random.Random) -> str:
    """Module calls with cycles, unknown parents, inverted ranges, stray exits."""
    rowid = _random_rowid(conn, "module_calls", rng)
    choice = rng.randrange(8)
    if choice == 0:
        conn.execute("UPDATE module_calls SET parent_id = call_id WHERE rowid = ?", (rowid,))
        return "module call is its own parent"
    if choice == 1:
        conn.execute(
            "UPDATE module_calls SET parent_id = (SELECT max(call_id) FROM module_calls) + 5 "
            "WHERE rowid = ?",
            (rowid,),
        )
        return "module call has an unknown parent"
    if choice == 2:
        conn.execute("UPDATE module_calls SET parent_id = call_id + 1 WHERE rowid = ?", (rowid,))
        return "module call's parent comes later"
    if choice == 3:
        conn.execute(
            "UPDATE module_calls SET start_seq = 1000000000, depth = 99999 WHERE rowid = ?",
            (rowid,),
        )
        return "module call starts after the end"
    if choice == 4:
        conn.execute(
            "INSERT OR REPLACE INTO module_exits VALUES ((SELECT call_id FROM module_calls "
            "WHERE rowid = ?), 0, 0)",
            (rowid,),
        )
        return "module call exits before it starts"
    if choice == 5:
        conn.execute("INSERT OR REPLACE INTO module_exits VALUES (987654, 3, 3)")
        return "exit of an unknown module call"
    if choice == 6:
        conn.execute(
            "UPDATE ops SET call_id = ? WHERE rowid = ?",
            (rng.choice([10**6, -5, 2**62]), _random_rowid(conn, "ops", rng)),
        )
        return "op names an out-of-range module call"
    conn.execute("UPDATE module_calls SET parent_id = -1 - (call_id % 3)")
    return "module parents scrambled"


def blob_damage(conn: sqlite3.Connection, rng: random.Random) -> str:
    """Stored values whose size, chunks or type do not match their summary."""
    choice = rng.randrange(9)
    if choice == 7:
        conn.execute(
            "UPDATE tensors SET shape = ?, has_value = 1 WHERE rowid = ?",
            (
                rng.choice(
                    ["1099511627776", "4294967296,4294967296", "0,281474976710656,281474976710656"]
                ),
                _random_rowid(conn, "tensors", rng),
            ),
        )
        return "giant shape claims a stored value"
    if choice == 8:
        conn.execute("UPDATE tensors SET has_value = 1")
        return "every tensor claims a stored value"
    rowid = _random_rowid(conn, "blobs", rng)
    if choice == 0:
        conn.execute(
            "UPDATE blobs SET data = substr(data, 1, length(data) / 2) WHERE rowid = ?", (rowid,)
        )
        return "value truncated"
    if choice == 1:
        conn.execute("UPDATE blobs SET data = data || x'00ff' WHERE rowid = ?", (rowid,))
        return "value extended"
    if choice == 2:
        conn.execute(
            "UPDATE OR REPLACE blobs SET chunk = chunk + ? WHERE rowid = ?",
            (rng.choice([1, 5, -1]), rowid),
        )
        return "value chunk renumbered"
    if choice == 3:
        conn.execute(
            "INSERT OR REPLACE INTO blobs "
            "SELECT seq, idx, chunk + 1, x'0102' FROM blobs WHERE rowid = ?",
            (rowid,),
        )
        return "extra value chunk"
    if choice == 4:
        conn.execute("UPDATE blobs SET data = CAST(data AS TEXT) WHERE rowid = ?", (rowid,))
        return "value stored as text"
    if choice == 5:
        conn.execute("UPDATE blobs SET data = zeroblob(300000) WHERE rowid = ?", (rowid,))
        return "value replaced by 300 kB of zeros"
    conn.execute(
        "UPDATE tensors SET dtype = ? "
        "WHERE (seq, idx) IN (SELECT seq, idx FROM blobs WHERE rowid = ?)",
        (rng.choice(DTYPES), rowid),
    )
    return "stored value's dtype changed"


def big_stack(conn: sqlite3.Connection, rng: random.Random) -> str:
    """A call chain naming thousands of frames (existing or not)."""
    rowid = _random_rowid(conn, "stacks", rng)
    top = conn.execute("SELECT max(id) FROM frames").fetchone()[0]
    top = top if isinstance(top, int) and top > 0 else 0  # earlier mutations may leave any value
    count = rng.choice([10_000, 20_000, 50])
    ids = [rng.randrange(top + 1) if rng.random() < 0.9 else top + 7 for _ in range(count)]
    conn.execute("UPDATE stacks SET frames = ? WHERE rowid = ?", (json.dumps(ids), rowid))
    return f"stack of {count} frames"


def drop_table(conn: sqlite3.Connection, rng: random.Random) -> str:
    """A table is missing."""
    table = rng.choice(list(schema.TABLES))
    conn.execute(f"DROP TABLE {table}")
    return f"drop table {table}"


def alter_columns(conn: sqlite3.Connection, rng: random.Random) -> str:
    """A table gains, loses or renames a column."""
    table = rng.choice(list(schema.TABLES))
    column = rng.choice(schema.TABLES[table])[0]
    choice = rng.randrange(3)
    if choice == 0:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN extra TEXT DEFAULT 'x'")
        return f"add a column to {table}"
    if choice == 1:
        conn.execute(f"ALTER TABLE {table} RENAME COLUMN {column} TO renamed_{column}")
        return f"rename {table}.{column}"
    conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    return f"drop {table}.{column}"


def _columns_sql(table: str) -> str:
    return ", ".join(name for name, _ in schema.TABLES[table])


def view_in_place(conn: sqlite3.Connection, rng: random.Random) -> str:
    """A table is replaced by a view with the same columns (a view runs SQL on every read)."""
    table = rng.choice(list(schema.TABLES))
    columns = _columns_sql(table)
    conn.execute(f"ALTER TABLE {table} RENAME TO hidden_{table}")
    body = rng.choice(
        [
            f"SELECT {columns} FROM hidden_{table}",
            "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) "
            f"SELECT {columns} FROM hidden_{table}, r",
        ]
    )
    conn.execute(f"CREATE VIEW {table} ({columns}) AS {body}")
    return f"{table} is a view"


def trigger(conn: sqlite3.Connection, rng: random.Random) -> str:
    """A trigger sits on one of our tables."""
    table = rng.choice(list(schema.TABLES))
    conn.execute(f"CREATE TRIGGER ops_guard AFTER INSERT ON {table} BEGIN DELETE FROM {table}; END")
    return f"trigger on {table}"


def extra_objects(conn: sqlite3.Connection, rng: random.Random) -> str:
    """Extra tables and indexes that a trace never contains (plain, expression, partial)."""
    choice = rng.randrange(5)
    if choice == 0:
        conn.execute("CREATE TABLE extra (a, b)")
        conn.execute("INSERT INTO extra VALUES (1, zeroblob(1000))")
        return "extra table"
    if choice == 1:
        conn.execute("CREATE INDEX idx_extra ON tensors (nan_count, seq)")
        return "plain index"
    if choice == 2:
        conn.execute("CREATE INDEX idx_expr ON blobs (seq, idx, length(data))")
        return "expression index"
    if choice == 3:
        conn.execute("CREATE INDEX idx_partial ON ops (seq) WHERE nonfinite > 0")
        return "partial index"
    conn.execute("CREATE TABLE sqlite_stat1_like (tbl, idx, stat)")
    conn.execute("ANALYZE")
    return "analyze statistics"


def virtual_table(conn: sqlite3.Connection, rng: random.Random) -> str:
    """One of our tables replaced by an FTS or R-tree virtual table with the same column names."""
    table = rng.choice(["sources", "stacks", "meta", "frames"])
    columns = [name for name, _ in schema.TABLES[table]]
    conn.execute(f"ALTER TABLE {table} RENAME TO hidden_{table}")
    module = rng.choice(["fts5", "fts4", "fts3"])
    conn.execute(f"CREATE VIRTUAL TABLE {table} USING {module}({', '.join(columns)})")
    conn.execute(f"INSERT INTO {table} SELECT {', '.join(columns)} FROM hidden_{table}")
    return f"{table} is a {module} virtual table"


def loosen_table(conn: sqlite3.Connection, rng: random.Random) -> str:
    """A table rebuilt without keys or types, so duplicates and any type can be stored."""
    table = rng.choice(list(schema.TABLES))
    columns = _columns_sql(table)
    conn.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
    typed = rng.random() < 0.5
    declared = ", ".join(
        f"{name} {sql_type.split()[0] if typed else ''}".strip()
        for name, sql_type in schema.TABLES[table]
    )
    conn.execute(f"CREATE TABLE {table} ({declared})")
    conn.execute(f"INSERT INTO {table} SELECT {columns} FROM old_{table}")
    conn.execute(f"INSERT INTO {table} SELECT {columns} FROM old_{table} LIMIT 3")
    conn.execute(f"DROP TABLE old_{table}")
    if rng.random() < 0.5:
        first = schema.TABLES[table][0][0]
        conn.execute(
            f"UPDATE {table} SET {first} = ? WHERE rowid % 3 = 0",
            (rng.choice([*TEXTS[:8], 1.5, b"\x01"]),),
        )
    return f"{table} rebuilt without keys"


def _table_sql(conn: sqlite3.Connection, table: str) -> str:
    found = conn.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (table,)).fetchone()
    if not found or not isinstance(found[0], str):
        raise NotApplicable(f"{table} has no CREATE statement")
    return found[0]


def schema_text(conn: sqlite3.Connection, rng: random.Random) -> str:
    """``sqlite_schema`` edited directly: generated columns, wrong root pages, garbage SQL."""
    table = rng.choice(list(schema.TABLES))
    choice = rng.randrange(6)
    conn.execute("PRAGMA writable_schema=ON")
    if choice == 0:
        sql = _table_sql(conn, table)
        sql = sql[:-1] + ", ghost BLOB GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL)"
        conn.execute("UPDATE sqlite_schema SET sql = ? WHERE name = ?", (sql, table))
        what = "hidden generated column"
    elif choice == 1:
        sql = _table_sql(conn, table)
        column = schema.TABLES[table][-1][0]
        sql = sql.replace(
            f" {column} ",
            f" {column} BLOB GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL, was_{column} ",
            1,
        )
        conn.execute("UPDATE sqlite_schema SET sql = ? WHERE name = ?", (sql, table))
        what = "generated column in place of a real one"
    elif choice == 2:
        conn.execute(
            "UPDATE sqlite_schema SET rootpage = ? WHERE name = ?",
            (rng.choice([1, 2, 3, 999999, 0, -1]), table),
        )
        what = "wrong root page"
    elif choice == 3:
        conn.execute("UPDATE sqlite_schema SET sql = 'CREATE TABLE (((' WHERE name = ?", (table,))
        what = "garbage schema SQL"
    elif choice == 4:
        sql = _table_sql(conn, table)
        conn.execute(
            "UPDATE sqlite_schema SET sql = ? WHERE name = ?",
            (sql.replace("NOT NULL", "DEFAULT (zeroblob(900000000))"), table),
        )
        what = "default expressions"
    else:
        conn.execute("UPDATE sqlite_schema SET type = 'view' WHERE name = ?", (table,))
        what = "table marked as view"
    conn.execute("PRAGMA writable_schema=OFF")
    return f"{what} on {table}"


def pragmas(conn: sqlite3.Connection, rng: random.Random) -> str:
    """Header fields: format version, application id, page size, auto-vacuum."""
    choice = rng.randrange(5)
    if choice == 0:
        value = rng.choice([0, 2, 99, -1, 2**31 - 1])
        conn.execute(f"PRAGMA user_version = {value}")
        return f"user_version {value}"
    if choice == 1:
        value = rng.choice([0, 1, -1, schema.APPLICATION_ID + 1])
        conn.execute(f"PRAGMA application_id = {value}")
        return f"application_id {value}"
    if choice == 2:
        size = rng.choice([512, 1024, 65536])
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute(f"PRAGMA page_size = {size}")
        conn.execute("VACUUM")
        return f"page size {size}"
    if choice == 3:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA auto_vacuum = FULL")
        conn.execute("VACUUM")
        return "auto-vacuum with pointer maps"
    key = rng.choice(
        ["format_version", "framework", "versions", "argv", "options", "complete", "created"]
    )
    value = rng.choice(["0", "2", "01", "1.0", "", "x", *JSONS[:20]])
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
    return f"meta {key}={_short(value)}"


SQL_MUTATORS: dict[str, Callable[[sqlite3.Connection, random.Random], str]] = {
    "set_cell": set_cell,
    "set_column": set_column,
    "delete_rows": delete_rows,
    "duplicate_row": duplicate_row,
    "forward_reference": forward_reference,
    "module_tangle": module_tangle,
    "blob_damage": blob_damage,
    "big_stack": big_stack,
    "drop_table": drop_table,
    "alter_columns": alter_columns,
    "view_in_place": view_in_place,
    "trigger": trigger,
    "extra_objects": extra_objects,
    "virtual_table": virtual_table,
    "loosen_table": loosen_table,
    "schema_text": schema_text,
    "pragmas": pragmas,
}
SQL_WEIGHTS = {
    "set_cell": 30,
    "set_column": 6,
    "delete_rows": 8,
    "duplicate_row": 5,
    "forward_reference": 4,
    "module_tangle": 5,
    "blob_damage": 6,
    "big_stack": 2,
    "drop_table": 2,
    "alter_columns": 2,
    "view_in_place": 2,
    "trigger": 1,
    "extra_objects": 2,
    "virtual_table": 2,
    "loosen_table": 3,
    "schema_text": 3,
    "pragmas": 4,
}


def sql_mutate(
    path: Path,
    rng: random.Random,
    count: int,
    *,
    keep_wal: bool = False,
    names: Sequence[str] | None = None,
) -> list[str]:
    """Apply ``count`` SQL-level mutations to the trace at ``path`` in place; returns what
    was done. ``names`` picks the mutators in order (default: drawn by ``SQL_WEIGHTS``); one
    that does not fit the file is skipped.

    With ``keep_wal`` the edits are left in a WAL file beside the trace, as a killed writer
    leaves them.
    """
    done: list[str] = []
    if names is None:
        names = [
            rng.choices(list(SQL_WEIGHTS), list(SQL_WEIGHTS.values()))[0] for _ in range(count * 6)
        ]
    conn = sqlite3.connect(path, isolation_level=None)
    deadline = [0.0]
    # an earlier mutation may have planted a view that never ends: give up on such statements
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline[0]), 10_000)
    try:
        conn.execute("PRAGMA journal_mode = " + ("WAL" if keep_wal else "MEMORY"))
        conn.execute("PRAGMA synchronous = OFF")
        if keep_wal:
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        for name in names:
            if len(done) >= count:
                break
            if keep_wal and name == "pragmas":
                continue
            deadline[0] = time.monotonic() + 2.0
            # VACUUM and page-size changes cannot run inside a transaction
            atomic = name != "pragmas"
            try:
                if atomic:
                    conn.execute("SAVEPOINT mutation")
                done.append(SQL_MUTATORS[name](conn, rng))
                if atomic:
                    conn.execute("RELEASE mutation")
            except (NotApplicable, sqlite3.Error):
                if atomic:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK TO mutation")
                        conn.execute("RELEASE mutation")
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA writable_schema=OFF")
        deadline[0] = time.monotonic() + 60.0
        if keep_wal:
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{path}{suffix}")
                if source.exists():
                    shutil.copyfile(source, f"{path}.snap{suffix}")
    finally:
        conn.close()
    if keep_wal:
        for suffix in ("", "-wal", "-shm"):
            target, source = Path(f"{path}{suffix}"), Path(f"{path}.snap{suffix}")
            target.unlink(missing_ok=True)
            if source.exists():
                source.rename(target)
    return done


# -- byte-level mutators -----------------------------------------------------------------------

_INTERESTING_BYTES = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE, 0x0D, 0x05]
_HEADER_FIELDS = [  # offset, width: page size, versions, reserved, page count, freelist, schema...
    (16, 2),
    (18, 1),
    (19, 1),
    (20, 1),
    (21, 1),
    (28, 4),
    (32, 4),
    (36, 4),
    (40, 4),
    (44, 4),
    (48, 4),
    (52, 4),
    (56, 4),
    (60, 4),
    (64, 4),
    (68, 4),
    (92, 4),
    (96, 4),
]


def _page_size(data: bytes | bytearray) -> int:
    if len(data) >= 18:
        raw = int.from_bytes(data[16:18], "big")
        if raw == 1:
            return 65536
        if raw >= 512 and raw & (raw - 1) == 0:
            return raw
    return 4096


def byte_mutate(data: bytearray, rng: random.Random) -> str:
    """One byte-level edit of ``data`` (in place, or replacing its contents)."""
    size = len(data)
    page = _page_size(data)
    pages = max(1, size // page)
    choice = rng.randrange(11)
    if size == 0 or choice == 0:
        data.extend(
            rng.randbytes(rng.choice([1, 100, page, 3 * page]))
            if rng.random() < 0.5
            else bytes(rng.choice([1, page]))
        )
        return "extended"
    if choice == 1:
        for _ in range(rng.choice([1, 2, 4, 16, 64])):
            data[rng.randrange(size)] ^= 1 << rng.randrange(8)
        return "bits flipped"
    if choice == 2:
        for _ in range(rng.choice([1, 4, 32])):
            data[rng.randrange(size)] = rng.choice(_INTERESTING_BYTES)
        return "bytes set"
    if choice == 3:
        cut = rng.choice(
            [rng.randrange(size), rng.randrange(pages) * page, size - 1, 100, 99, 512, page]
        )
        del data[max(0, min(cut, size)) :]
        return f"truncated at {cut}"
    if choice == 4:
        offset, width = rng.choice(_HEADER_FIELDS)
        value = rng.choice([0, 1, 2, 255, 2 ** (8 * width) - 1, rng.randrange(2 ** (8 * width))])
        if offset + width <= size:
            data[offset : offset + width] = value.to_bytes(width, "big")
        return f"header field at {offset} = {value}"
    if choice == 5:
        target = rng.randrange(pages)
        data[target * page : (target + 1) * page] = bytes(min(page, size - target * page))
        return f"page {target + 1} zeroed"
    if choice == 6:
        a, b = rng.randrange(pages), rng.randrange(pages)
        chunk = bytes(data[a * page : (a + 1) * page])
        data[b * page : b * page + len(chunk)] = chunk
        return f"page {a + 1} copied over page {b + 1}"
    if choice == 7:
        # b-tree page header of a random page: page type, cell count, cell offsets
        target = rng.randrange(pages)
        base = target * page + (100 if target == 0 else 0)
        field = rng.choice([(0, 1), (3, 2), (5, 2), (8, 4), (1, 2)])
        if base + field[0] + field[1] <= size:
            data[base + field[0] : base + field[0] + field[1]] = rng.choice(
                [b"\x00" * field[1], b"\xff" * field[1], rng.randbytes(field[1])]
            )
        return f"b-tree header of page {target + 1} damaged"
    if choice == 8:
        # child/overflow page pointers: point a 4-byte big-endian word at page 1..N or beyond
        for _ in range(rng.choice([1, 8])):
            pos = rng.randrange(max(1, size - 4))
            data[pos : pos + 4] = rng.choice(
                [1, 2, pages, pages + 1, 2**31 - 1, rng.randrange(1, pages + 1)]
            ).to_bytes(4, "big")
        return "page pointers redirected"
    if choice == 9:
        start = rng.randrange(size)
        length = min(size - start, rng.choice([8, 64, 512, page]))
        data[start : start + length] = rng.randbytes(length)
        return "random span"
    # varints: write a long 9-byte varint (huge payload or rowid) somewhere
    pos = rng.randrange(max(1, size - 9))
    data[pos : pos + 9] = rng.choice(
        [b"\xff" * 9, b"\x81\x80\x80\x80\x80\x80\x80\x80\x00", b"\x8f\xff\xff\xff\x7f"]
    )[:9]
    return "varint made huge"


def byte_mutate_file(path: Path, rng: random.Random, count: int) -> list[str]:
    """Apply ``count`` byte-level edits to the file ``path``."""
    data = bytearray(path.read_bytes())
    done = [byte_mutate(data, rng) for _ in range(count)]
    path.write_bytes(bytes(data))
    return done


# -- hand-crafted files ------------------------------------------------------------------------


class _Gadget:
    """Unpickling this creates ``PWNED_MARKER``: proof that a pickle was executed."""

    def __reduce__(self):
        return (Path.touch, (PWNED_MARKER,))


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _plain_sqlite(path: Path, *, app_id: int = 0, version: int = 0, tables: bool = True) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {app_id}")
    conn.execute(f"PRAGMA user_version = {version}")
    if tables:
        conn.execute("CREATE TABLE people (name TEXT, age INTEGER)")
        conn.execute("INSERT INTO people VALUES ('ada', 36)")
    conn.commit()
    conn.close()


def _our_header_no_tables(path: Path) -> None:
    _plain_sqlite(path, app_id=schema.APPLICATION_ID, version=schema.FORMAT_VERSION, tables=False)


def _future_version(path: Path, seed: Path) -> None:
    shutil.copyfile(seed, path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.FORMAT_VERSION + 1}")
    conn.commit()
    conn.close()


def _utf16_trace(path: Path, seed: Path) -> None:
    """The seed copied into a UTF-16 database (SQLite converts text on the way out)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA encoding = 'UTF-16le'")
    conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {schema.FORMAT_VERSION}")
    for statement in schema.create_statements():
        conn.execute(statement)
    source = sqlite3.connect(f"file:{seed}?mode=ro", uri=True)
    conn.execute("BEGIN")
    for table in schema.TABLES:
        rows = source.execute(f"SELECT * FROM {table}").fetchall()
        conn.executemany(schema.insert_statement(table), rows)
    conn.execute("COMMIT")
    source.close()
    conn.close()


FOREIGN_FILES: dict[str, Callable[[Path, Path], None]] = {
    "empty": lambda p, s: p.write_bytes(b""),
    "one_byte": lambda p, s: p.write_bytes(b"S"),
    "magic_only": lambda p, s: p.write_bytes(b"SQLite format 3\x00"),
    "header_only": lambda p, s: p.write_bytes(s.read_bytes()[:100]),
    "first_page_only": lambda p, s: p.write_bytes(s.read_bytes()[:4096]),
    "zeros": lambda p, s: p.write_bytes(bytes(65536)),
    "random": lambda p, s: p.write_bytes(random.Random(1).randbytes(50_000)),
    "text": lambda p, s: p.write_text("this is not a trace\n" * 100),
    "json": lambda p, s: p.write_text(json.dumps({"ops": [{"seq": 0}]})),
    "png": lambda p, s: p.write_bytes(_png()),
    "pickle": lambda p, s: p.write_bytes(pickle.dumps({"ops": [_Gadget()]})),
    "zip": lambda p, s: _zip(p, s),
    "gzip": lambda p, s: p.write_bytes(gzip.compress(s.read_bytes())),
    "npz": lambda p, s: _npz(p),
    "elf": lambda p, s: p.write_bytes(Path("/bin/true").read_bytes()[:8192]),
    "plain_sqlite": lambda p, s: _plain_sqlite(p),
    "our_header_no_tables": lambda p, s: _our_header_no_tables(p),
    "future_version": _future_version,
    "utf16_trace": _utf16_trace,
}


def _zip(path: Path, seed: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(seed, "trace.opscope")


def _npz(path: Path) -> None:
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, ops=np.arange(10))
    path.write_bytes(buffer.getvalue())


def make_foreign(kind: str, path: Path, seed: Path) -> str:
    """Write the foreign file ``kind`` (a key of ``FOREIGN_FILES``) to ``path``."""
    FOREIGN_FILES[kind](path, seed)
    return f"foreign: {kind}"


SPECIAL_PATHS = (
    "directory",
    "fifo",
    "symlink_loop",
    "dangling_symlink",
    "dev_zero",
    "dev_null",
    "socket",
    "not_a_directory",
    "name_too_long",
    "nul_in_name",
    "wal_is_fifo",
    "wal_is_directory",
    "shm_is_directory",
    "unreadable",
    "unreadable_folder",
)


def make_special(kind: str, folder: Path, seed: Path) -> Path:
    """Create the special path ``kind`` (one of ``SPECIAL_PATHS``) under ``folder``; returns it.

    ``unreadable`` and ``unreadable_folder`` are only unreadable for a process without root's
    file-access capabilities (see ``exercise.exercise_unprivileged``).
    """
    path = folder / f"{kind}.opscope"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink_loop":
        other = folder / f"{kind}-b.opscope"
        path.symlink_to(other)
        other.symlink_to(path)
    elif kind == "dangling_symlink":
        path.symlink_to(folder / "does-not-exist.opscope")
    elif kind == "dev_zero":
        path.symlink_to("/dev/zero")
    elif kind == "dev_null":
        path.symlink_to("/dev/null")
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()
    elif kind == "not_a_directory":
        shutil.copyfile(seed, folder / "plain-file.opscope")
        path = folder / "plain-file.opscope" / "inner.opscope"
    elif kind == "name_too_long":
        path = folder / ("x" * 300 + ".opscope")
    elif kind == "nul_in_name":
        path = folder / "nul\x00name.opscope"
    elif kind in ("wal_is_fifo", "wal_is_directory", "shm_is_directory"):
        shutil.copyfile(seed, path)
        companion = Path(f"{path}-{'wal' if kind.startswith('wal') else 'shm'}")
        if kind == "wal_is_fifo":
            os.mkfifo(companion)
        else:
            companion.mkdir()
    elif kind == "unreadable":
        shutil.copyfile(seed, path)
        path.chmod(0)
    elif kind == "unreadable_folder":
        locked = folder / "locked"
        locked.mkdir()
        path = locked / "inside.opscope"
        shutil.copyfile(seed, path)
        locked.chmod(0)
    else:
        raise ValueError(f"unknown special path {kind!r}")
    return path


def _short(value: object) -> str:
    text = value.expression if isinstance(value, Sql) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
