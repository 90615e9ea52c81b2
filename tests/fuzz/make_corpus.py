"""Regenerate ``tests/fuzz/corpus/``: the worst hostile trace files, committed for the tests.

    PYTHONPATH=. python tests/fuzz/make_corpus.py

Each entry is built from a small valid trace (512-byte pages, so every file stays far below
100 KB) by one named recipe. ``corpus/manifest.json`` says, for each file, what it is and what
opening it must do:

* ``rejected``: ``tracing.load`` raises ``TraceFileError`` naming the file;
* ``lazy_error``: the file loads, and a later viewer call (a value, a call stack) raises
  ``TraceFileError`` naming the file;
* ``loads``: the file is odd but harmless and opens cleanly (text with invalid UTF-8, a UTF-16
  database, extra tables...);
* ``any``: one of the above, depending on what SQLite makes of the damage.

Special paths that cannot be committed (a FIFO, a folder, a symlink loop...) are created by the
tests themselves from ``mutate.SPECIAL_PATHS``.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from tests.fuzz import mutate, pages
from tests.fuzz.seeds import write_seed
from tracing import schema
from tracing.synthetic import write_synthetic_trace

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST = CORPUS / "manifest.json"
MAX_BYTES = 100_000


def shrink(path: Path, page_size: int = 512) -> Path:
    """Rewrite a finished trace with small pages so the corpus stays small."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute(f"PRAGMA page_size = {page_size}")
    conn.execute("VACUUM")
    conn.close()
    return path


def _sql(*statements: str, writable_schema: bool = False) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            if writable_schema:
                conn.execute("PRAGMA writable_schema = ON")
            for statement in statements:
                conn.execute(statement)
        finally:
            conn.close()

    return apply


def _despite_not_null(table: str, statement: str) -> Callable[[Path], None]:
    """Run ``statement`` with ``table``'s NOT NULL constraints lifted, then put them back."""

    def set_sql(path: Path, sql: str) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_schema SET sql = ? WHERE name = ?", (sql, table))
        conn.close()

    def apply(path: Path) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        sql = conn.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0]
        conn.close()
        set_sql(path, sql.replace(" NOT NULL", ""))
        _sql(statement)(path)
        set_sql(path, sql)

    return apply


def _mutator(name: str, seed: int = 0) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        rng = random.Random(seed)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            mutate.SQL_MUTATORS[name](conn, rng)
        finally:
            conn.close()

    return apply


def _truncate(fraction: float) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])

    return apply


def _header(offset: int, value: bytes) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[offset : offset + len(value)] = value
        path.write_bytes(bytes(data))

    return apply


def _generated_column(path: Path) -> None:
    """ops.graph_id becomes a generated column that would compute a 900 MB blob on read."""
    conn = sqlite3.connect(path, isolation_level=None)
    sql = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'ops'").fetchone()[0]
    sql = sql.replace(
        "graph_id TEXT NOT NULL",
        "graph_id BLOB GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL, old_graph_id TEXT",
    )
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_schema SET sql = ? WHERE name = 'ops'", (sql,))
    conn.close()


def _view_in_place(path: Path) -> None:
    """ops becomes a view over an endless recursive query."""
    columns = ", ".join(name for name, _ in schema.TABLES["ops"])
    _sql(
        "ALTER TABLE ops RENAME TO real_ops",
        f"CREATE VIEW ops ({columns}) AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL "
        f"SELECT x + 1 FROM r) SELECT {columns} FROM real_ops, r",
    )(path)


def _virtual_sources(path: Path) -> None:
    """sources becomes an FTS5 virtual table with the same columns (module code on our data)."""
    _sql(
        "ALTER TABLE sources RENAME TO real_sources",
        "CREATE VIRTUAL TABLE sources USING fts5(file, text)",
        "INSERT INTO sources SELECT file, text FROM real_sources",
    )(path)


def _loose_ops(path: Path) -> None:
    """ops rebuilt without its key, holding two rows with seq 0."""
    columns = ", ".join(name for name, _ in schema.TABLES["ops"])
    _sql(
        "ALTER TABLE ops RENAME TO old_ops",
        f"CREATE TABLE ops ({columns})",
        f"INSERT INTO ops SELECT {columns} FROM old_ops",
        f"INSERT INTO ops SELECT {columns} FROM old_ops WHERE seq = 0",
        "DROP TABLE old_ops",
    )(path)


def _utf16(path: Path) -> None:
    source = path.with_suffix(".utf8")
    path.rename(source)
    mutate.FOREIGN_FILES["utf16_trace"](path, source)
    source.unlink()
    shrink(path)


def _foreign(kind: str) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        seed = path.with_suffix(".seed")
        path.rename(seed)
        mutate.FOREIGN_FILES[kind](path, seed)
        seed.unlink()

    return apply


def _live(path: Path) -> None:
    """A recording cut off before it was closed: the header and tables live only in the WAL
    file beside the trace, as the writer leaves them (512-byte pages instead of 4 KiB)."""
    base = path.with_suffix(".base")
    path.rename(base)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA page_size = 512")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {schema.FORMAT_VERSION}")
    source = sqlite3.connect(f"file:{base}?mode=ro", uri=True)
    conn.execute("BEGIN")
    for statement in schema.create_statements():
        conn.execute(statement)
    for table in schema.TABLES:
        rows = source.execute(f"SELECT * FROM {table}").fetchall()
        conn.executemany(schema.insert_statement(table), rows)
    conn.execute("UPDATE meta SET value = '0' WHERE key = 'complete'")
    conn.execute("COMMIT")
    source.close()
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{path}{suffix}", f"{path}.snap{suffix}")
    conn.close()
    for suffix in ("", "-wal"):
        Path(f"{path}.snap{suffix}").replace(f"{path}{suffix}")
    Path(f"{path}-shm").unlink(missing_ok=True)
    base.unlink()


def _live_damaged(path: Path) -> None:
    _live(path)
    wal = Path(f"{path}-wal")
    data = bytearray(wal.read_bytes())
    rng = random.Random(5)
    for _ in range(40):
        data[rng.randrange(32, len(data))] ^= 0xFF
    wal.write_bytes(bytes(data))


# name: (base trace, recipe, expectation, what it is)
RECIPES: dict[str, tuple[str, Callable[[Path], None], str, str]] = {
    "empty": ("plain", _foreign("empty"), "rejected", "an empty file"),
    "text": ("plain", _foreign("text"), "rejected", "a text file"),
    "pickle_gadget": ("plain", _foreign("pickle"), "rejected",
                      "a pickle that touches /tmp/opscope-fuzz-pwned if it is ever unpickled"),
    "zip_of_trace": ("plain", _foreign("zip"), "rejected", "a zip archive holding a trace"),
    "gzip_of_trace": ("plain", _foreign("gzip"), "rejected", "a gzipped trace"),
    "png": ("plain", _foreign("png"), "rejected", "a PNG image"),
    "npz": ("plain", _foreign("npz"), "rejected", "a numpy .npz archive"),
    "plain_sqlite": ("plain", _foreign("plain_sqlite"), "rejected", "somebody else's SQLite file"),
    "header_only": ("plain", _foreign("header_only"), "rejected", "the first 100 bytes of a trace"),
    "truncated_half": ("plain", _truncate(0.5), "rejected", "a trace cut in half"),
    "truncated_to_one_page": ("plain", _truncate(0.02), "rejected", "only the first page"),
    "wrong_application_id": ("plain", _sql("PRAGMA application_id = 1"), "rejected",
                             "application id of another program"),
    "no_format_version": ("plain", _sql("PRAGMA user_version = 0"), "rejected",
                          "user_version 0"),
    "future_format_version": ("plain", _sql(f"PRAGMA user_version = {schema.FORMAT_VERSION + 1}"),
                              "rejected", "a format newer than this reader"),
    "meta_format_version_garbage": (
        "plain", _sql("UPDATE meta SET value = '1; DROP TABLE ops' WHERE key = 'format_version'"),
        "rejected", "a format version that is not a number"),
    "page_size_lies": ("plain", _header(16, b"\x00\x01"), "rejected",
                       "header says 64 KiB pages, the file has 512-byte pages"),
    "page_count_lies": ("plain", _header(28, b"\x7f\xff\xff\xff"), "any",
                        "header claims two billion pages"),
    "missing_table": ("plain", _sql("DROP TABLE frames"), "rejected", "no frames table"),
    "renamed_column": ("plain", _sql("ALTER TABLE ops RENAME COLUMN line TO lineno"), "rejected",
                       "ops.line renamed"),
    "extra_column": ("plain", _sql("ALTER TABLE edges ADD COLUMN extra TEXT"), "rejected",
                     "edges with an extra column"),
    "view_named_ops": ("plain", _view_in_place, "rejected",
                       "ops is a view over an endless recursive query"),
    "trigger_on_ops": ("plain", _sql("CREATE TRIGGER t AFTER INSERT ON ops BEGIN DELETE FROM ops; "
                                     "END"), "rejected", "a trigger"),
    "virtual_table_sources": ("rich", _virtual_sources, "rejected",
                              "sources is an FTS5 virtual table"),
    "generated_column": ("plain", _generated_column, "rejected",
                         "a generated column computing a 900 MB blob"),
    "loose_ops_duplicate_seq": ("plain", _loose_ops, "rejected",
                                "ops without its key, seq 0 twice"),
    "text_in_integer_column": ("plain", _sql("UPDATE ops SET line = 'twelve' WHERE seq = 3"),
                               "rejected", "ops.line is text"),
    "null_op_type": ("plain", _despite_not_null("ops", "UPDATE ops SET op_type = NULL "
                                                "WHERE seq = 2"), "rejected",
                     "NULL in a NOT NULL column"),
    "blob_in_text_column": ("plain", _sql("UPDATE ops SET file = x'00ff' WHERE seq = 1"),
                            "rejected", "ops.file is a blob"),
    "huge_negative_depth": ("plain", _sql(f"UPDATE module_calls SET depth = {-(2**63)}"),
                            "rejected", "module depth -2**63"),
    "op_seq_gap": ("plain", _sql("DELETE FROM ops WHERE seq = 3"), "rejected", "op 3 missing"),
    "outputs_misnumbered": ("plain", _sql("UPDATE tensors SET idx = 5 WHERE seq = 2"), "rejected",
                            "op 2 has output 5 but no output 0"),
    "forward_reference": ("plain", _sql("UPDATE edges SET source = 'op:' || (seq + 3) "
                                        "WHERE source LIKE 'op:%'"), "rejected",
                          "ops read from ops that ran later"),
    "self_reference": ("plain", _sql("UPDATE edges SET source = 'op:' || seq "
                                     "WHERE source LIKE 'op:%'"), "rejected",
                       "ops read their own output"),
    "non_canonical_node_id": ("plain", _sql("UPDATE edges SET source = 'op:0_1' WHERE seq = 5 "
                                            "AND source LIKE 'op:%'"), "rejected",
                              "op:0_1 (Python's int() would read 1)"),
    "module_call_own_parent": ("plain", _sql("UPDATE module_calls SET parent_id = call_id "
                                             "WHERE call_id = 2"), "rejected",
                               "a module call that is its own parent"),
    "module_call_parent_later": ("plain", _sql("UPDATE module_calls SET parent_id = call_id + 1 "
                                               "WHERE call_id = 1"), "rejected",
                                 "a parent that starts later (a cycle)"),
    "op_call_id_out_of_range": ("plain", _sql("UPDATE ops SET call_id = 4611686018427387904 "
                                              "WHERE seq = 4"), "rejected",
                                "an op in module call 2**62"),
    "rank_65_shape": ("plain", _sql("UPDATE tensors SET shape = '" + ",".join(["1"] * 65) +
                                    "' WHERE seq = 1"), "rejected", "a shape of rank 65"),
    "shape_with_5000_dims": ("plain", _sql("UPDATE edges SET shape = '" + ",".join(["1"] * 5000) +
                                           "' WHERE seq = 1"), "rejected", "5000 dimensions"),
    "shape_not_digits": ("plain", _sql("UPDATE tensors SET shape = '+3, 1_0' WHERE seq = 1"),
                         "rejected", "'+3, 1_0' (int() would accept both)"),
    "deep_json_attrs": ("plain", _sql("UPDATE ops SET attrs = '" + "[" * 20_000 + "' "
                                      "WHERE seq = 1"), "rejected", "20,000 nested lists"),
    "huge_int_json": ("plain", _sql("UPDATE ops SET mutates = '[" + "9" * 5000 + "]' "
                                    "WHERE seq = 1"), "rejected", "a 5000-digit integer"),
    "mutates_missing_slot": ("plain", _sql("UPDATE ops SET mutates = '[7]' WHERE seq = 5"),
                             "rejected", "an op writing input slot 7 of 3"),
    "lone_surrogates_json": ("plain", _sql("""UPDATE ops SET attrs = '{"\\ud800": "\\udfff x"}'
                                           WHERE seq = 1"""), "loads",
                             "JSON escapes of lone UTF-16 surrogates (replaced on load)"),
    "invalid_utf8_text": ("plain", _sql("UPDATE ops SET op_type = CAST(x'ff6f70c0af' AS TEXT), "
                                        "file = CAST(x'eda080' AS TEXT) WHERE seq = 2"), "loads",
                          "text that is not UTF-8 (replaced on load)"),
    "utf16_database": ("plain", _utf16, "loads", "a valid trace in a UTF-16 database"),
    "extras_that_are_harmless": ("plain", _sql(
        "CREATE TABLE extra (a, b)", "INSERT INTO extra VALUES (1, zeroblob(2000))",
        "CREATE INDEX idx_expr ON tensors (nan_count > 0, seq)",
        "CREATE INDEX idx_partial ON ops (seq) WHERE nonfinite > 0", "ANALYZE"), "loads",
        "an extra table, an expression index, a partial index and planner statistics"),
    "giant_shape_with_value": ("values", _sql("UPDATE tensors SET shape = '1099511627776' "
                                              "WHERE has_value = 1 AND seq = 1"), "lazy_error",
                               "a stored value whose shape claims 2**40 elements"),
    "shape_2_32_squared_with_value": ("values", _sql("UPDATE tensors SET shape = "
                                                     "'4294967296,4294967296' WHERE seq = 2"),
                                      "lazy_error", "a stored value of shape 2**32 x 2**32"),
    "zero_sized_huge_dims_with_value": ("values", _sql(
        "UPDATE tensors SET shape = '0,281474976710656,281474976710656,281474976710656' "
        "WHERE seq = 3", "UPDATE blobs SET data = x'' WHERE seq = 3"), "lazy_error",
        "an empty value whose other dimensions overflow numpy"),
    "unknown_dtype_with_value": ("values", _sql("UPDATE tensors SET dtype = 'object' "
                                                "WHERE seq = 4"), "lazy_error",
                                 "a stored value of dtype 'object'"),
    "value_size_mismatch": ("values", _sql("UPDATE blobs SET data = substr(data, 1, 7) "
                                           "WHERE seq = 5"), "lazy_error",
                            "a stored value with 7 bytes"),
    "value_chunk_gap": ("values", _sql("INSERT INTO blobs SELECT seq, idx, 2, x'00' FROM blobs "
                                       "WHERE seq = 6"), "lazy_error",
                        "a stored value with chunks 0 and 2"),
    "value_stored_as_text": ("values", _sql("UPDATE blobs SET data = CAST(data AS TEXT) "
                                            "WHERE seq = 7"), "lazy_error",
                             "a stored value that is text"),
    "stack_of_missing_frames": ("plain", _sql("UPDATE stacks SET frames = '[" + ",".join(
        str(900 + i % 50) for i in range(3000)) + "]' WHERE id = 0"), "lazy_error",
                                "call stacks naming 3000 frames that do not exist"),
    "stack_too_deep": ("plain", _sql("UPDATE stacks SET frames = '[" + ",".join(
        ["0"] * 10_001) + "]' WHERE id = 0"), "lazy_error", "a call stack of 10,001 frames"),
    "edges_btree_dag": ("plain", lambda p: pages.btree_dag(p, "edges", levels=5), "rejected",
                        "edges b-tree whose pages all point at one leaf: 10**11 rows from 60 KB"),
    "tensors_btree_dag": ("plain", lambda p: pages.btree_dag(p, "tensors", levels=2), "rejected",
                          "the same trick on tensors"),
    "huge_payload_claim": ("plain", lambda p: pages.claim_huge_payload(p, "edges"), "rejected",
                           "a cell claiming a 900 MB value whose overflow chain loops"),
    "wal_leftover": ("plain", _live, "loads",
                     "a recording cut off before it was closed, with its WAL file"),
    "wal_leftover_damaged": ("plain", _live_damaged, "any",
                             "the same with 40 bytes of its WAL file flipped"),
}  # fmt: skip

ODD_NAMES = {"name with spaces #hash %41 ü.opscope": "plain"}
"""Valid traces whose names need quoting in an SQLite URI (no '?': Windows forbids it; the
tests make such names at run time)."""


def _base(name: str, folder: Path) -> Path:
    path = folder / f"base-{name}.opscope"
    if not path.exists():
        if name == "plain":
            write_synthetic_trace(path, blocks=1, seq_len=2, width=3, nan_block=0)
        elif name == "values":
            write_synthetic_trace(path, blocks=1, seq_len=2, width=3, values=True)
        else:
            write_seed(name, path)
        shrink(path)
    return path


def build(out: Path = CORPUS) -> dict[str, dict[str, str]]:
    """Write every corpus file and the manifest into ``out``; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.name != "README.md":
            old.unlink()
    manifest: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, (base, recipe, expect, about) in RECIPES.items():
            path = work / f"{name}.opscope"
            shutil.copyfile(_base(base, work), path)
            recipe(path)
            for produced in [path, Path(f"{path}-wal")]:
                if produced.exists():
                    if produced.stat().st_size > MAX_BYTES:
                        raise RuntimeError(f"{produced.name} is {produced.stat().st_size} bytes")
                    shutil.copyfile(produced, out / produced.name)
            manifest[path.name] = {"expect": expect, "about": about}
        for name, base in ODD_NAMES.items():
            shutil.copyfile(_base(base, work), out / name)
            manifest[name] = {"expect": "loads", "about": "a valid trace with an odd file name"}
    (out / MANIFEST.name).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


if __name__ == "__main__":
    entries = build()
    total = sum(p.stat().st_size for p in CORPUS.iterdir())
    print(f"wrote {len(entries)} corpus files ({total / 1024:.0f} KiB) to {CORPUS}")
