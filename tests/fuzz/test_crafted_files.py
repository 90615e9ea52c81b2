"""Hand-crafted hostile traces that a byte- or row-level fuzzer does not reach: files that are
valid SQLite but expand, hide work in SQLite's own tables, claim sizes they do not hold, nest
deeply, or bring companion files that would make SQLite write elsewhere."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

import tracing
from tests.fuzz.seeds import write_seed
from tests.subprocesses import assert_prints_ok
from tracing import TraceFileError, schema


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("seeds")
    return {name: write_seed(name, folder / f"{name}.opscope") for name in ("rich", "wal")}


def _edited(seed: Path, tmp_path: Path, *statements: str, params: tuple = ()) -> Path:
    path = tmp_path / "crafted.opscope"
    shutil.copyfile(seed, path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    for sql in statements:
        conn.execute(sql, params if "?" in sql else ())
    conn.close()
    return path


def _rejected(path: Path, *words: str) -> str:
    with pytest.raises(TraceFileError) as info:
        tracing.load(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message
    return message


def _columns(table: str, count: int) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in schema.TABLES[table][:count])


def test_a_column_default_cannot_fill_every_row(seeds: dict[str, Path], tmp_path: Path) -> None:
    """``ALTER TABLE ... ADD COLUMN ... DEFAULT '<1 MB>'`` gives every row that value while the
    file stores it once: a 1 MB file expanding to gigabytes."""
    columns = schema.TABLES["graph_nodes"]
    path = _edited(
        seeds["rich"],
        tmp_path,
        "DROP TABLE graph_nodes",
        f"CREATE TABLE graph_nodes ({_columns('graph_nodes', len(columns) - 1)})",
        f"ALTER TABLE graph_nodes ADD COLUMN {columns[-1][0]} TEXT NOT NULL DEFAULT '{{}}'",
    )
    _rejected(path, "defaults")


def test_json_lists_cannot_expand_past_the_file_size(
    seeds: dict[str, Path], tmp_path: Path
) -> None:
    """``[{},{},...]``: three bytes of file per tensor summary object."""
    many = "[" + ",".join(["{}"] * 200_000) + "]"
    path = _edited(seeds["rich"], tmp_path, "UPDATE graph_nodes SET outputs = ?", params=(many,))
    start = time.process_time()
    _rejected(path, "hostile")
    assert time.process_time() - start < 10  # (a generous bound: it took minutes)


def test_sqlite_statistics_tables_are_checked_too(seeds: dict[str, Path], tmp_path: Path) -> None:
    """A table named like SQLite's own skipped the schema checks, so its generated column was
    evaluated by the query planner."""
    path = _edited(
        seeds["rich"],
        tmp_path,
        "CREATE TABLE xstat (tbl, idx, stat GENERATED ALWAYS AS (printf('%.*c', 9000, 'x')))",
        "INSERT INTO xstat (tbl, idx) VALUES ('ops', 'i')",
        "PRAGMA writable_schema=ON",
        "UPDATE sqlite_schema SET name = 'sqlite_stat1', tbl_name = 'sqlite_stat1', "
        "sql = replace(sql, 'xstat', 'sqlite_stat1') WHERE name = 'xstat'",
    )
    _rejected(path, "sqlite_stat1")


def test_a_sparse_file_cannot_claim_a_size_it_does_not_hold(
    seeds: dict[str, Path], tmp_path: Path
) -> None:
    """Limits derived from the file's size use what it really holds: a hole punched to 40 GB
    must not buy a hostile file minutes of work and gigabytes of rows."""
    path = tmp_path / "sparse.opscope"
    shutil.copyfile(seeds["rich"], path)
    os.truncate(path, 40 << 30)
    reader = tracing.reader.TraceReader(path)
    try:
        assert reader.file_bytes < 10 << 20
    finally:
        reader.close()


def test_deep_json_is_refused_before_parsing(seeds: dict[str, Path], tmp_path: Path) -> None:
    """json's C parser recurses: with the program's recursion limit raised, a deeply nested
    text overflowed the C stack (a crash, not an error). Checked in a fresh interpreter."""
    deep = "[" * 200_000 + "]" * 200_000
    path = _edited(seeds["rich"], tmp_path, "UPDATE ops SET attrs = ?", params=(deep,))
    code = f"""
import sys
import tracing
sys.setrecursionlimit(1_000_000)
try:
    tracing.load({str(path)!r})
except tracing.TraceFileError as exc:
    assert "nested too deeply" in str(exc), exc
    print("ok")
"""
    assert_prints_ok(code, cwd=Path(__file__).resolve().parents[2], timeout=120)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def cut_off(seeds: dict[str, Path], tmp_path: Path) -> Path:
    """A recording cut off before its end, copied without its -shm file (as sent by someone)."""
    folder = tmp_path / "sent"
    folder.mkdir()
    path = folder / "run.opscope"
    shutil.copyfile(seeds["wal"], path)
    shutil.copyfile(f"{seeds['wal']}-wal", f"{path}-wal")
    return path


def test_a_wal_trace_is_read_without_writing_beside_it(cut_off: Path) -> None:
    before = _digest(cut_off.parent)
    trace = tracing.load(cut_off)
    assert len(trace.ops) > 0
    trace.value(next(op.seq for op in trace.ops if op.outputs and op.outputs[0].has_value))
    assert _digest(cut_off.parent) == before  # no -shm created, nothing rewritten
    copy = trace._reader._copy_folder
    trace._reader.close()
    assert copy is not None and not os.path.exists(copy)


def test_a_wal_trace_in_a_read_only_folder_opens(cut_off: Path) -> None:
    os.chmod(cut_off.parent, 0o555)
    try:
        assert len(tracing.load(cut_off).ops) > 0
    finally:
        os.chmod(cut_off.parent, 0o755)


def test_companion_files_that_are_links_are_refused(cut_off: Path) -> None:
    victim = cut_off.parent / "victim.txt"
    victim.write_text("keep me")
    shm = Path(f"{cut_off}-shm")
    os.link(victim, shm)  # SQLite would write its WAL index into the victim
    _rejected(cut_off, "-shm", "hard links")
    shm.unlink()
    shm.symlink_to(victim)
    _rejected(cut_off, "-shm", "link")
    assert victim.read_text() == "keep me"


def test_a_rollback_journal_beside_a_trace_is_refused(
    seeds: dict[str, Path], tmp_path: Path
) -> None:
    """Opened as immutable, SQLite would show another program's uncommitted changes."""
    path = tmp_path / "journal.opscope"
    shutil.copyfile(seeds["rich"], path)
    Path(f"{path}-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + bytes(600))
    _rejected(path, "rollback journal")
