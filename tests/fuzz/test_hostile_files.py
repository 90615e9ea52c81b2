"""Hostile trace files: only ``TraceFileError`` naming the file, quickly, nothing executed.

The committed corpus (``corpus/``, rebuilt by ``make_corpus.py``) holds the worst cases found
while fuzzing; special paths (FIFO, folder, symlink loop, unreadable file...) are made here; two
property tests apply random SQL-level and byte-level damage to valid traces. The long fuzzing
run is ``benchmarks/fuzz_traces.py``.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracing
from tests.fuzz import mutate
from tests.fuzz.exercise import Outcome, exercise, exercise_unprivileged
from tests.fuzz.make_corpus import shrink
from tests.fuzz.seeds import write_seed
from tracing import TraceFileError, reader

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST: dict[str, dict[str, str]] = json.loads((CORPUS / "manifest.json").read_text())
HANG_SECONDS = 2.0
"""No file may take longer than this to open and walk through (the fuzzing run's bound)."""
STAGES = {"rejected": "rejected", "loaded": "loads", "loaded_with_errors": "lazy_error"}


def exercise_with_watchdog(path: Path, limit: float = HANG_SECONDS) -> tuple[Outcome, float]:
    """``exercise`` in a thread, so a reader that hangs fails the test instead of stalling it."""
    result: list[Outcome] = []
    thread = threading.Thread(target=lambda: result.append(exercise(path)), daemon=True)
    start = time.perf_counter()
    thread.start()
    thread.join(timeout=max(30.0, 10 * limit))
    elapsed = time.perf_counter() - start
    assert result, f"opening {path.name} hung for {elapsed:.0f} s"
    return result[0], elapsed


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the corpus (opening a trace with a WAL beside it may touch the -shm file)."""
    folder = tmp_path_factory.mktemp("corpus")
    for file in CORPUS.iterdir():
        shutil.copyfile(file, folder / file.name)
    exercise(folder / "wal_leftover.opscope")  # imports (networkx, numpy) out of the timings
    return folder


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Valid traces with 512-byte pages (small files keep the property tests quick)."""
    folder = tmp_path_factory.mktemp("seeds")
    names = ("plain", "values", "rich")
    return {name: shrink(write_seed(name, folder / f"{name}.opscope")) for name in names}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_corpus_file_fails_only_with_a_trace_file_error_naming_it(name: str, corpus: Path) -> None:
    outcome, elapsed = exercise_with_watchdog(corpus / name)
    assert not outcome.failed, f"{outcome.kind}: {outcome.detail}"
    expected = MANIFEST[name]["expect"]
    if expected != "any":
        assert STAGES[outcome.kind] == expected, outcome.errors
    for message in outcome.errors:
        assert name in message
    assert elapsed < HANG_SECONDS, f"{name} took {elapsed:.2f} s"


def test_corpus_is_small_and_fully_described() -> None:
    files = {p.name for p in CORPUS.iterdir()} - {"manifest.json"}
    companions = {n for n in files if n.endswith(("-wal", "-shm"))}
    assert files - companions == set(MANIFEST)
    assert all((CORPUS / n).stat().st_size < 100_000 for n in files)
    assert {e["expect"] for e in MANIFEST.values()} <= {"rejected", "lazy_error", "loads", "any"}


def test_pickle_in_a_trace_is_never_unpickled(corpus: Path) -> None:
    mutate.PWNED_MARKER.unlink(missing_ok=True)
    assert b"pathlib" in (corpus / "pickle_gadget.opscope").read_bytes()
    with pytest.raises(TraceFileError, match="not an OpScope trace"):
        tracing.load(corpus / "pickle_gadget.opscope")
    assert not mutate.PWNED_MARKER.exists()


@pytest.mark.parametrize("kind", mutate.SPECIAL_PATHS)
def test_special_path_is_refused_quickly(kind: str, tmp_path: Path, seeds) -> None:
    path = mutate.make_special(kind, tmp_path, seeds["plain"])
    try:
        if kind.startswith("unreadable"):
            outcome = exercise_unprivileged(path)
            if outcome is None:
                pytest.skip("running as root without setpriv: every file is readable")
            elapsed = 0.0
        else:
            outcome, elapsed = exercise_with_watchdog(path)
    finally:
        for folder in [tmp_path, *tmp_path.iterdir()]:
            if folder.is_dir() and not folder.is_symlink():
                folder.chmod(0o755)
    assert outcome.kind == "rejected", f"{outcome.kind}: {outcome.detail}"
    assert elapsed < HANG_SECONDS


def test_a_value_whose_shape_claims_two_to_the_forty_elements_allocates_nothing(
    corpus: Path,
) -> None:
    trace = tracing.load(corpus / "giant_shape_with_value.opscope")
    summary = trace.ops[1].outputs[0]
    assert summary.has_value and summary.numel == 2**40
    tracemalloc.start()
    try:
        with pytest.raises(TraceFileError, match="more than the whole file holds"):
            trace.value(1, 0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        trace.close()
    assert peak < 1 << 20


def test_a_cell_claiming_900_megabytes_is_refused_before_sqlite_allocates_it(
    corpus: Path,
) -> None:
    path = corpus / "huge_payload_claim.opscope"
    with pytest.raises(TraceFileError, match="too big"):
        tracing.load(path)
    # by construction: no value SQLite hands back may be larger than the file itself
    opened = reader.TraceReader(corpus / "wal_leftover.opscope")
    try:
        limit = opened._conn.getlimit(reader.sqlite3.SQLITE_LIMIT_LENGTH)
        assert limit <= max(1 << 20, opened.file_bytes + 4096)
    finally:
        opened.close()


def test_a_btree_whose_pages_loop_is_refused_by_its_row_count(corpus: Path) -> None:
    with pytest.raises(TraceFileError, match="more rows than the file can"):
        tracing.load(corpus / "edges_btree_dag.opscope")


def test_sqlite_work_beyond_the_time_budget_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracing.synthetic import write_synthetic_trace

    path = write_synthetic_trace(tmp_path / "t.opscope", blocks=20)
    monkeypatch.setattr(reader, "BASE_QUERY_SECONDS", -1.0)
    monkeypatch.setattr(reader, "BYTES_PER_SECOND", 1e30)
    with pytest.raises(TraceFileError, match="took too long; the file looks hostile"):
        tracing.load(path)


def test_text_that_no_encoding_carries_is_replaced_not_fatal(corpus: Path) -> None:
    with tracing.load(corpus / "invalid_utf8_text.opscope") as trace:
        assert "\ufffd" in trace.ops[2].op_type
        trace.format_table().encode("utf-8")
    with tracing.load(corpus / "lone_surrogates_json.opscope") as trace:
        for key, value in trace.ops[1].attrs:
            (key + value).encode("utf-8")


def test_a_recording_cut_off_before_its_first_checkpoint_opens(corpus: Path) -> None:
    with tracing.load(corpus / "wal_leftover.opscope") as trace:
        assert len(trace.ops) > 10 and not trace.meta.complete


@pytest.mark.parametrize(
    "name", ["what?.opscope", "a#b.opscope", "%3F%00.opscope", "ü 😀.opscope", "?mode=rw"]
)
def test_file_names_that_mean_something_in_a_uri_open_read_only(seeds, tmp_path, name) -> None:
    path = tmp_path / name
    shutil.copyfile(seeds["plain"], path)
    before = path.read_bytes()
    outcome = exercise(path)
    assert outcome.kind == "loaded", (outcome.detail, outcome.errors)
    assert path.read_bytes() == before


def test_valid_seeds_open_cleanly(seeds) -> None:
    for path in seeds.values():
        outcome = exercise(path)
        assert outcome.kind == "loaded", (path.name, outcome.detail, outcome.errors)


SQL_NAMES = st.lists(st.sampled_from(sorted(mutate.SQL_MUTATORS)), min_size=1, max_size=3)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    base=st.sampled_from(["plain", "values", "rich"]),
    names=SQL_NAMES,
    seed=st.integers(0, 2**32 - 1),
    keep_wal=st.booleans(),
)
def test_sql_level_damage_gives_only_trace_file_errors(seeds, base, names, seed, keep_wal):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutated.opscope"
        shutil.copyfile(seeds[base], path)
        done = mutate.sql_mutate(
            path, random.Random(seed), len(names), keep_wal=keep_wal, names=names
        )
        outcome, elapsed = exercise_with_watchdog(path)
        assert not outcome.failed, (done, outcome.kind, outcome.detail)
        assert elapsed < HANG_SECONDS, (done, elapsed)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    base=st.sampled_from(["plain", "values", "rich"]),
    count=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_byte_level_damage_gives_only_trace_file_errors(seeds, base, count, seed):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.opscope"
        shutil.copyfile(seeds[base], path)
        done = mutate.byte_mutate_file(path, random.Random(seed), count)
        outcome, elapsed = exercise_with_watchdog(path)
        assert not outcome.failed, (done, outcome.kind, outcome.detail)
        assert elapsed < HANG_SECONDS, (done, elapsed)
