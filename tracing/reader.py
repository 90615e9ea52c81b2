"""Read-only, validating access to a trace file.

A trace may come from a stranger, so nothing in it is trusted:

* only a regular file is opened (a FIFO, device, socket or folder is refused before any read);
* the file is opened read-only with SQLite's defensive settings (``trusted_schema=OFF``,
  ``query_only``), its largest value is capped at the file's own size, and only our own tables
  are read — and only when they are plain tables laid out exactly as the writer creates them
  (views, triggers, virtual tables and generated columns are refused);
* every row is type- and range-checked before it becomes a record, and no table may yield more
  rows than its bytes can hold (a damaged b-tree that loops is caught);
* every query batch runs under a time budget scaled to the file's size, so no file can make the
  reader hang;
* every failure becomes a ``TraceFileError`` that names the file and the problem.

Valid files take the fast path: a row is checked with one inline expression and built directly;
the slower per-column validators below run only on a row that fails it, to say what is wrong.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import re
import shutil
import sqlite3
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

from tracing import schema
from tracing.errors import TraceFileError
from tracing.model import (
    Frame,
    FunctionGraph,
    GraphEdge,
    GraphNode,
    InputRef,
    ModuleCall,
    Op,
    SourceNode,
    TensorSummary,
    TraceMeta,
)

MAX_TEXT = 1 << 20
"""Longest string accepted in a metadata column (source files have their own limit)."""

MAX_SOURCE_TEXT = 16 << 20
MAX_RANK = 64
MAX_DIM = 1 << 48
MAX_STACK_FRAMES = 10_000
MAX_LINE = (1 << 31) - 1
"""Line and column numbers fit the 32-bit integers of the viewer's text widgets."""
BASE_QUERY_SECONDS = 1.0
"""CPU time SQLite may spend on a small file: for opening it (schema checks and every table
read, together), and for each later query (a value, a call chain, a source file). Measured as
the reading thread's CPU time, so a busy machine or a slow disk cannot make a good file fail."""
BYTES_PER_SECOND = 4e6
"""Added to the budget per byte of file: opening a 1 GB trace may spend about 250 s in SQLite
(a valid trace needs a small fraction of that)."""
MIN_ROW_BYTES = 4
"""No row of any of our tables takes fewer bytes of file (cell pointer, sizes, header)."""
BATCH_ROWS = (1, 16, 256, 2048)
"""Rows fetched per step: a few first, so a hostile first row is caught before more are read."""

_SQLITE_MAGIC = b"SQLite format 3\x00"
_OP_KINDS = frozenset({"op", "call", "opaque"})
_EDGE_KINDS = frozenset({"data", "write"})
_SOURCE_KINDS = frozenset({"param", "buffer", "input", "const", "variable", "unknown"})
_INT64 = (1 << 63) - 1
_INTERNAL_TABLES = re.compile(r"sqlite_(sequence|stat\d)$")
_SQL_COMMENT = re.compile(r"\s+|--[^\n]*(\n|$)|/\*.*?(\*/|$)", re.S)
_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
MAX_JSON_DEPTH = 64
"""Deepest nesting accepted in a JSON column (OpScope writes at most three levels)."""
SUMMARY_BYTES = 64
PAIR_BYTES = 8
"""Every tensor summary and attribute pair decoded from JSON must be paid for by this many
bytes of file (OpScope writes at least about 100 and 10): a small file cannot expand into
millions of objects (``[{},{},...]``)."""


class TraceReader:
    """A validating, read-only connection to one trace file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._deadline = 0.0
        self._load_left: float | None = None
        """SQLite time left for opening the file (None once it is open: per-query budgets)."""
        self._lenient = False
        self._shapes: dict[Any, tuple[int, ...]] = {}
        self._json: dict[tuple[str, str], Any] = {}
        self._real = self.path
        self._copy_folder: str | None = None
        """A private folder holding a copy of a WAL trace (see ``_open``)."""
        self.file_bytes = 0
        """Size of the trace file plus its WAL: the most any value in it can take."""
        try:
            self._conn = self._open()
        except BaseException:
            self._remove_copy()
            raise
        self._budget = BASE_QUERY_SECONDS + self.file_bytes / BYTES_PER_SECOND
        self._load_left = self._budget
        self._max_rows = self.file_bytes // MIN_ROW_BYTES + 1024
        self._allowance = self.file_bytes + (1 << 20)
        try:
            self._check_schema()
            self.meta_rows = self._read_meta()
        except BaseException:
            self.close()
            raise

    # -- opening ---

    def fail(self, problem: str) -> TraceFileError:
        """A ``TraceFileError`` for this file."""
        return TraceFileError(self.path, problem)

    def _stat(self, path: str | Path, what: str) -> os.stat_result | None:
        """``os.stat`` with every failure turned into a message (None: does not exist)."""
        try:
            return os.stat(path)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            if what == "trace":
                raise self.fail("no such file (a folder in its path is a file)") from None
            return None
        except PermissionError:
            where = "" if what == "trace" else f" (its {what})"
            raise self.fail(
                f"cannot be read: permission denied on it or a folder above it{where}"
            ) from None
        except ValueError:
            raise self.fail("is not a valid file name (it contains a NUL character)") from None
        except OSError as exc:
            reason = "a symbolic link that loops" if exc.errno == errno.ELOOP else exc.strerror
            raise self.fail(f"cannot be opened ({reason})") from None

    def _open(self) -> sqlite3.Connection:
        path = self.path
        info = self._stat(path, "trace")
        if info is None:
            raise self.fail("no such file")
        if stat.S_ISDIR(info.st_mode):
            raise self.fail("is a folder, not a trace file")
        if not stat.S_ISREG(info.st_mode):
            raise self.fail("is not a regular file (a FIFO, device or socket); refusing to read it")
        head = self._read_head(path)
        if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
            if len(head) == 0:
                raise self.fail("is empty, not an OpScope trace")
            raise self.fail("is not an OpScope trace (not an SQLite file)")
        # A trace still being written (or left by a killed recorder) has a WAL beside it, which
        # needs SQLite's locking and shared-memory index; a finished trace is opened as
        # immutable so nothing is created next to it.
        try:
            real = path.resolve()  # SQLite looks for the WAL beside the file a link points to
        except (OSError, RuntimeError) as exc:
            raise self.fail(f"cannot be opened ({exc})") from exc
        wal = self._companion(real, "-wal")
        shm = self._companion(real, "-shm")
        journal = self._companion(real, "-journal")
        if journal is not None and journal.st_size > 0:
            raise self.fail(
                "has a rollback journal (-journal) beside it: a program was interrupted while "
                "changing it, and OpScope never writes one; refusing to read it"
            )
        live = wal is not None
        if not live and int.from_bytes(head[68:72], "big") != schema.APPLICATION_ID:
            # With a WAL beside it the header may not be checkpointed yet: checked after opening.
            raise self.fail("is an SQLite file but not an OpScope trace (wrong application id)")
        self.file_bytes = _stored_bytes(info) + (_stored_bytes(wal) if wal is not None else 0)
        if live and shm is None:
            # Reading the WAL would make SQLite create its index file beside the trace: read a
            # private copy instead (no recorder is writing it: a writer keeps that file).
            real = self._private_copy(real)
        self._real = real
        try:
            uri = real.as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        except (sqlite3.Error, OSError, RuntimeError, ValueError) as exc:
            raise self.fail(f"cannot be opened ({exc})") from exc
        try:
            conn.execute("PRAGMA trusted_schema=OFF")
            conn.execute("PRAGMA cell_size_check=ON")
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA temp_store=MEMORY")
            self._limit_lengths(conn)
            conn.set_progress_handler(self._progress, 2000)
            conn.text_factory = str
        except sqlite3.Error as exc:
            conn.close()
            raise self.fail(f"cannot be opened ({exc})") from exc
        return conn

    def _companion(self, real: Path, suffix: str) -> os.stat_result | None:
        """The ``-wal``/``-shm``/``-journal`` file beside the trace, if any: a regular file of
        its own (a symbolic or hard link could make SQLite write somewhere else)."""
        try:
            found = os.lstat(f"{real}{suffix}")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self.fail(f"cannot be opened (its {suffix} file: {exc.strerror})") from None
        if stat.S_ISLNK(found.st_mode):
            raise self.fail(f"has a {suffix} file beside it that is a link; refusing to read it")
        if not stat.S_ISREG(found.st_mode):
            raise self.fail(f"has a {suffix} file beside it that is not a regular file")
        if found.st_nlink > 1 and suffix != "-journal":
            raise self.fail(
                f"has a {suffix} file beside it with other names (hard links); refusing to read it"
            )
        return found

    def _private_copy(self, real: Path) -> Path:
        """Copy the trace and its WAL into a private folder (removed by ``close``)."""
        folder = tempfile.mkdtemp(prefix="opscope-")
        self._copy_folder = folder
        copy = Path(folder) / "trace.opscope"
        try:
            shutil.copyfile(real, copy)
            shutil.copyfile(f"{real}-wal", f"{copy}-wal")
        except OSError as exc:
            self._remove_copy()
            raise self.fail(f"cannot be read ({exc.strerror or exc})") from None
        return copy

    def _remove_copy(self) -> None:
        folder, self._copy_folder = self._copy_folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _limit_lengths(self, conn: sqlite3.Connection) -> None:
        """No value in the file can be larger than the file: SQLite refuses to materialise one
        that claims to be (a damaged record header or overflow chain) before allocating it."""
        limit = max(1 << 20, min(self.file_bytes + 4096, 1_000_000_000))
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limit)

    def _measure(self) -> None:
        """Size the limits after the file (and its WAL) as they are now: a live trace grows."""
        total = 0
        for suffix in ("", "-wal"):
            found = self._stat(f"{self._real}{suffix}", "trace")
            if found is not None and stat.S_ISREG(found.st_mode):
                total += _stored_bytes(found)
        if total > self.file_bytes:
            self._allowance += total - self.file_bytes
            self.file_bytes = total
            self._limit_lengths(self._conn)
        self._max_rows = self.file_bytes // MIN_ROW_BYTES + 1024

    def _read_head(self, path: Path) -> bytes:
        try:
            # O_NONBLOCK: if the file was swapped for a FIFO since the check, do not wait on it.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except PermissionError:
            raise self.fail("cannot be read: permission denied") from None
        except OSError as exc:
            raise self.fail(f"cannot be read ({exc.strerror or exc})") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise self.fail("is not a regular file; refusing to read it")
            return os.read(fd, 100)
        except OSError as exc:
            raise self.fail(f"cannot be read ({exc.strerror or exc})") from None
        finally:
            os.close(fd)

    def _progress(self) -> int:
        return 1 if self._deadline and time.thread_time() > self._deadline else 0

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Run SQLite work under the time budget, turning every failure into TraceFileError."""
        with self._lock:
            start = time.thread_time()
            budget = self._budget if self._load_left is None else max(self._load_left, 0.0)
            self._deadline = start + budget
            try:
                yield
            except TraceFileError:
                raise
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc):
                    raise self.fail(
                        f"reading {what} took too long; the file looks hostile"
                    ) from exc
                raise self.fail(f"is damaged: {what} cannot be read ({exc})") from exc
            except (sqlite3.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
                raise self.fail(f"is damaged: {what} cannot be read ({exc})") from exc
            except MemoryError as exc:
                raise self.fail(f"is damaged: {what} is too large to read") from exc
            finally:
                self._deadline = 0.0
                if self._load_left is not None:
                    self._load_left -= time.thread_time() - start

    def _switch_to_lenient(self, exc: sqlite3.Error) -> bool:
        """After a UTF-8 decode failure, replace invalid bytes from now on; True if switched."""
        if self._lenient or not str(exc).startswith("Could not decode"):
            return False
        self._lenient = True
        self._conn.text_factory = _lenient_text
        return True

    def query(self, sql: str, params: tuple = (), what: str = "the file") -> list[tuple]:
        """Run one read query under the time guard and return all rows."""
        return list(self.iter_query(sql, params, what))

    def iter_query(self, sql: str, params: tuple = (), what: str = "the file") -> Iterator[tuple]:
        """Run one read query, yielding rows; each batch of rows runs under the time guard.

        Fails when the query yields more rows than the file can hold. Text that is not valid
        UTF-8 is read again with the bad bytes replaced.
        """
        done = 0
        while True:
            try:
                yield from self._iter_rows(sql, params, what, done)
                return
            except _Restart as restart:
                done = restart.done

    def _iter_rows(self, sql: str, params: tuple, what: str, skip: int) -> Iterator[tuple]:
        cursor = None
        fetched = 0
        step = 0
        while True:
            with self._guard(what):
                try:
                    if cursor is None:
                        cursor = self._conn.execute(sql, params)
                    rows = cursor.fetchmany(BATCH_ROWS[step])
                    step = min(step + 1, len(BATCH_ROWS) - 1)
                except sqlite3.OperationalError as exc:
                    if self._switch_to_lenient(exc):
                        raise _Restart(fetched) from exc
                    raise
            if not rows:
                return
            fetched += len(rows)
            if fetched > self._max_rows:
                raise self.fail(f"is damaged: {what} holds more rows than the file can")
            if skip:
                drop = min(skip, len(rows))
                rows = rows[drop:]
                skip -= drop
            yield from rows

    def close(self) -> None:
        """Close the connection (idempotent) and remove a private copy of a WAL trace."""
        with self._lock:
            self._conn.close()
            self._remove_copy()

    def __del__(self) -> None:
        if getattr(self, "_copy_folder", None) is not None:
            try:
                self.close()
            except Exception:
                pass

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Open the file: read everything inside one read transaction (a consistent view of a
        trace still being written). The SQLite work of opening shares one time budget; after
        it, each query has its own."""
        with self._lock:
            try:
                self.query("BEGIN", what="the file")
                self.query("SELECT 1 FROM meta LIMIT 1", what="meta")  # fixes the snapshot
                self._measure()
                yield
            finally:
                self._load_left = None
                try:
                    self._conn.execute("COMMIT")
                except sqlite3.Error:
                    pass

    def _check_schema(self) -> None:
        rows = self.query("SELECT type, name, sql FROM sqlite_schema", what="the schema")
        tables: set[str] = set()
        for kind, name, sql in rows:
            label = name if isinstance(name, str) else repr(name)
            if kind in ("view", "trigger"):
                raise self.fail(
                    f"contains a {kind} ({label[:80]!r}); traces never do, refusing to read it"
                )
            if kind == "table":
                if not isinstance(sql, str) or not _plain_create_table(sql):
                    raise self.fail(
                        f"contains a virtual or unusual table ({label[:80]!r}); traces never "
                        "do, refusing to read it"
                    )
                if isinstance(name, str) and _INTERNAL_TABLES.match(name):
                    self._check_internal_table(name)
                    continue
                tables.add(str(name))
            elif kind != "index":
                raise self.fail(f"contains an unknown schema object {str(kind)[:40]!r}")
        application_id = self.query("PRAGMA application_id", what="the header")[0][0]
        if application_id != schema.APPLICATION_ID:
            if not tables:
                raise self.fail(
                    "holds no committed data: the recording was cut off before its first "
                    "commit, or the WAL file beside it is damaged"
                )
            raise self.fail("is an SQLite file but not an OpScope trace (wrong application id)")
        version = self.query("PRAGMA user_version", what="the format version")[0][0]
        if not isinstance(version, int) or version < 1:
            raise self.fail("has no format version; it was not written by OpScope")
        if version > schema.FORMAT_VERSION:
            raise self.fail(
                f"uses trace format {version}, newer than this OpScope reads "
                f"({schema.FORMAT_VERSION}); upgrade OpScope"
            )
        for table in schema.TABLES:
            if table not in tables:
                raise self.fail(f"is incomplete: table {table!r} is missing")
            info = self.query(f"PRAGMA table_xinfo({table})", what=f"table {table}")
            found = [
                (str(r[1]), str(r[2]).upper(), int(r[5] or 0), _computed_or_defaulted(r))
                for r in info
            ]
            expected = _EXPECTED_LAYOUT[table]
            if [f[:3] for f in found] != expected or any(f[3] for f in found):
                names = [f[0] for f in found]
                if names != [e[0] for e in expected]:
                    raise self.fail(
                        f"is damaged: table {table!r} has columns {names}, "
                        f"expected {[e[0] for e in expected]}"
                    )
                raise self.fail(
                    f"is damaged: table {table!r} is not laid out as OpScope writes it "
                    "(column types, keys, defaults or generated columns differ)"
                )

    def spend(self, cost: int) -> None:
        """Count objects decoded from JSON (``cost``: the bytes of file they must be paid for,
        see ``SUMMARY_BYTES``) against the file's size."""
        self._allowance -= cost
        if self._allowance < 0:
            raise self.fail(
                "is damaged: it describes more tensors and attributes than its size can hold; "
                "the file looks hostile"
            )

    def _check_internal_table(self, name: str) -> None:
        """SQLite's own tables (statistics, autoincrement counters) hold plain values: no
        generated columns or defaults whose expressions the planner would evaluate."""
        info = self.query(f'PRAGMA table_xinfo("{name}")', what=f"table {name}")
        if len(info) > 8 or any(_computed_or_defaulted(r) for r in info):
            raise self.fail(
                f"has an unusual SQLite table {name!r} (computed columns or defaults); traces "
                "never do, refusing to read it"
            )

    def _read_meta(self) -> dict[str, str]:
        meta: dict[str, str] = {}
        for key, value in self.query("SELECT key, value FROM meta LIMIT 10000", what="meta"):
            meta[text(self, key, "meta key", 200)] = text(self, value, "meta value")
        if meta.get("format_version") not in (None, *map(str, range(1, schema.FORMAT_VERSION + 1))):
            raise self.fail(f"has an unknown format version {meta.get('format_version')!r:.60}")
        return meta

    # -- typed row readers ---

    def read_meta(self) -> TraceMeta:
        """The ``meta`` table as a ``TraceMeta``."""
        m = self.meta_rows
        return TraceMeta(
            format_version=int(m.get("format_version", schema.FORMAT_VERSION)),
            framework=m.get("framework", ""),
            versions=tuple(sorted(json_pairs(self, m.get("versions", "{}"), "meta versions"))),
            argv=tuple(json_strings(self, m.get("argv", "[]"), "meta argv")),
            cwd=m.get("cwd", ""),
            created=m.get("created", ""),
            complete=m.get("complete") == "1",
            error=m.get("error", ""),
            options=tuple(sorted(json_pairs(self, m.get("options", "{}"), "meta options"))),
        )

    def shape(self, raw: Any) -> tuple[int, ...]:
        """``parse_shape`` with a cache (traces repeat a few shapes many times)."""
        try:
            return self._shapes[raw]
        except KeyError:
            parsed = self._shapes[raw] = parse_shape(self, raw)
            return parsed

    def cached_json(self, kind: str, raw: Any, what: str) -> Any:
        """``json_ints`` (kind ``ints``) or ``json_pairs`` (``pairs``) as a tuple, cached."""
        key = (kind, raw) if type(raw) is str else None
        if key is not None:
            found = self._json.get(key)
            if found is not None:
                return found
        parsed = tuple(
            json_ints(self, raw, what) if kind == "ints" else json_pairs(self, raw, what)
        )
        if key is not None and len(raw) <= 4096:
            self._json[key] = parsed
        return parsed

    def read_ops(self) -> list[Op]:
        """Every op with its inputs and outputs, validated, in seq order."""
        shape = self.shape
        inputs: dict[int, list[InputRef]] = {}
        for row in self.iter_query(
            "SELECT seq, slot, name, source, out_index, shape, dtype, kind FROM edges",
            what="edges",
        ):
            seq, slot, name, source, out_index, raw_shape, dtype, kind = row
            if not (
                type(seq) is int
                and seq >= 0
                and type(slot) is int
                and 0 <= slot <= 1 << 20
                and type(name) is str
                and len(name) <= 256
                and type(source) is str
                and len(source) <= 4096
                and type(out_index) is int
                and 0 <= out_index <= 1 << 20
                and type(dtype) is str
                and len(dtype) <= 64
                and (kind == "data" or kind == "write")
            ):
                self._check_edge(row)
            ref = InputRef(slot, name, source, out_index, shape(raw_shape), dtype, kind)
            refs = inputs.get(seq)
            if refs is None:
                inputs[seq] = [ref]
            else:
                refs.append(ref)
        stored = set()
        for seq, idx in self.iter_query(
            "SELECT DISTINCT seq, idx FROM blobs WHERE chunk = 0", what="tensor values"
        ):
            stored.add((integer(self, seq, "value seq", 0), integer(self, idx, "value index", 0)))
        outputs: dict[int, list[tuple[int, TensorSummary]]] = {}
        for row in self.iter_query(
            "SELECT seq, idx, shape, dtype, device, min, max, mean, std, nan_count, inf_count, "
            "initialized, has_value FROM tensors",
            what="tensors",
        ):
            seq, idx, raw_shape, dtype, device, lo, hi, mean, std, nans, infs, init, has = row
            if not (
                type(seq) is int
                and seq >= 0
                and type(idx) is int
                and 0 <= idx <= 1 << 20
                and _plain_summary_fields(dtype, device, lo, hi, mean, std, nans, infs)
                and (init == 1 or init == 0)
                and type(init) is int
                and (has == 1 or has == 0)
                and type(has) is int
            ):
                integer(self, seq, "tensor seq", 0)
                integer(self, idx, "tensor index", 0, 1 << 20)
                summary = summary_from_row(self, row[2:])
            else:
                summary = TensorSummary(
                    shape(raw_shape), dtype, device, lo, hi, mean, std, nans, infs,
                    init == 1, has == 1 and (seq, idx) in stored,
                )  # fmt: skip
            if summary.has_value and (seq, idx) not in stored:
                # Dropped by a value budget, or lost with a killed recorder's last batch.
                summary = dataclasses.replace(summary, has_value=False)
            pairs = outputs.get(seq)
            if pairs is None:
                outputs[seq] = [(idx, summary)]
            else:
                pairs.append((idx, summary))
        ops: list[Op] = []
        ints, pairs_of = "ints", "pairs"
        cached_json = self.cached_json
        for row in self.iter_query(
            "SELECT seq, op_type, framework, module_path, module_call, call_id, file, line, col, "
            "end_col, func, stack_id, mutates, duration_ns, error, thread_id, kind, attrs, "
            "graph_id FROM ops ORDER BY seq",
            what="ops",
        ):
            (seq, op_type, framework, module_path, module_call, call_id, file, line, col,
             end_col, func, stack_id, mutates, duration, error, thread, kind, attrs,
             graph_id) = row  # fmt: skip
            if seq != len(ops) or type(seq) is not int:
                seq = integer(self, seq, "op seq", 0)
                raise self.fail(f"is damaged: op {len(ops)} is missing (found op {seq} instead)")
            if not (
                type(op_type) is str
                and len(op_type) <= 512
                and type(framework) is str
                and len(framework) <= 64
                and type(module_path) is str
                and len(module_path) <= 4096
                and type(module_call) is int
                and module_call >= 0
                and type(call_id) is int
                and call_id >= -1
                and type(file) is str
                and len(file) <= 4096
                and type(line) is int
                and 0 <= line <= MAX_LINE
                and type(col) is int
                and -1 <= col <= MAX_LINE
                and type(end_col) is int
                and -1 <= end_col <= MAX_LINE
                and type(func) is str
                and len(func) <= 512
                and type(stack_id) is int
                and stack_id >= -1
                and type(duration) is int
                and duration >= 0
                and (error is None or (type(error) is str and len(error) <= 65536))
                and type(thread) is int
                and thread >= 0
                and (kind == "op" or kind == "call" or kind == "opaque")
                and type(graph_id) is str
                and len(graph_id) <= 4096
            ):
                self._check_op(row)
            op_inputs = inputs.pop(seq, None)
            if op_inputs is None:
                op_inputs = ()
            else:
                if len(op_inputs) > 1 and any(a.slot > b.slot for a, b in pairwise(op_inputs)):
                    op_inputs.sort(key=_slot)
                for ref in op_inputs:
                    if ref.source.startswith("op:"):
                        producer = parse_op_node(self, ref.source)
                        if producer >= seq:
                            raise self.fail(
                                f"is damaged: op {seq} reads from op {producer}, which ran later"
                            )
                op_inputs = tuple(op_inputs)
            op_outputs = outputs.pop(seq, None)
            if op_outputs is None:
                op_outputs = ()
            elif len(op_outputs) == 1 and op_outputs[0][0] == 0:
                op_outputs = (op_outputs[0][1],)
            else:
                if any(index != i for i, (index, _) in enumerate(op_outputs)):
                    op_outputs.sort(key=_first)
                    if any(index != i for i, (index, _) in enumerate(op_outputs)):
                        raise self.fail(
                            f"is damaged: outputs of op {seq} are not numbered 0, 1, 2..."
                        )
                op_outputs = tuple(summary for _, summary in op_outputs)
            ops.append(
                Op(
                    seq, op_type or "?", framework, module_path, module_call, call_id, file,
                    line, col, end_col, func, stack_id, op_inputs, op_outputs,
                    cached_json(ints, mutates, "op mutates"), duration, error, thread, kind,
                    cached_json(pairs_of, attrs, "op attrs"), graph_id,
                )
            )  # fmt: skip
        # Rows beyond the last op belong to a batch still being written: they are ignored.
        return ops

    def _check_edge(self, row: tuple) -> None:
        seq, slot, name, source, out_index, _shape, dtype, kind = row
        integer(self, seq, "edge seq", 0)
        integer(self, slot, "edge slot", 0, 1 << 20)
        text(self, name, "edge name", 256)
        text(self, source, "edge source", 4096)
        integer(self, out_index, "edge out_index", 0, 1 << 20)
        text(self, dtype, "edge dtype", 64)
        choice(self, kind, _EDGE_KINDS, "edge kind")

    def _check_op(self, row: tuple) -> None:
        text(self, row[1], "op type", 512)
        text(self, row[2], "op framework", 64)
        text(self, row[3], "module path", 4096)
        integer(self, row[4], "module call", 0)
        integer(self, row[5], "op call id", -1)
        text(self, row[6], "op file", 4096)
        integer(self, row[7], "op line", 0, MAX_LINE)
        integer(self, row[8], "op column", -1, MAX_LINE)
        integer(self, row[9], "op end column", -1, MAX_LINE)
        text(self, row[10], "op function", 512)
        integer(self, row[11], "op stack id", -1)
        integer(self, row[13], "op duration", 0)
        if row[14] is not None:
            text(self, row[14], "op error", 65536)
        integer(self, row[15], "op thread", 0)
        choice(self, row[16], _OP_KINDS, "op kind")
        text(self, row[18], "op graph id", 4096)

    def read_module_calls(self, op_count: int) -> list[ModuleCall]:
        """Every module call, with exits filled in (``end_seq = op_count`` when still open)."""
        exits: dict[int, tuple[int, int]] = {}
        for call_id, end_seq, exit_order in self.iter_query(
            "SELECT call_id, end_seq, exit_order FROM module_exits", what="module exits"
        ):
            if not (
                type(call_id) is int
                and call_id >= 0
                and type(end_seq) is int
                and end_seq >= 0
                and type(exit_order) is int
                and exit_order >= 0
            ):
                integer(self, call_id, "exit call id", 0)
                integer(self, end_seq, "exit seq", 0)
                integer(self, exit_order, "exit order", 0)
            exits[call_id] = (end_seq, exit_order)
        calls: list[ModuleCall] = []
        known: set[int] = set()
        for row in self.iter_query(
            "SELECT call_id, path, type_name, call_index, parent_id, depth, start_seq, "
            "enter_order, framework FROM module_calls ORDER BY call_id",
            what="module calls",
        ):
            call_id, path, type_name, call_index, parent_id, depth, start, order, framework = row
            if not (
                type(call_id) is int
                and call_id >= 0
                and type(path) is str
                and len(path) <= 4096
                and type(type_name) is str
                and len(type_name) <= 512
                and type(call_index) is int
                and call_index >= 0
                and type(parent_id) is int
                and parent_id >= -1
                and type(depth) is int
                and 0 <= depth <= 100_000
                and type(start) is int
                and start >= 0
                and type(order) is int
                and order >= 0
                and type(framework) is str
                and len(framework) <= 64
            ):
                integer(self, call_id, "module call id", 0)
                text(self, path, "module path", 4096)
                text(self, type_name, "module type", 512)
                integer(self, call_index, "module call index", 0)
                integer(self, parent_id, "module parent id", -1)
                integer(self, depth, "module depth", 0, 100_000)
                integer(self, start, "module start seq", 0)
                integer(self, order, "module enter order", 0)
                text(self, framework, "module framework", 64)
            if parent_id >= call_id:
                raise self.fail(
                    f"is damaged: module call {call_id} has parent {parent_id}, "
                    "which does not come before it"
                )
            if parent_id >= 0 and parent_id not in known:
                raise self.fail(
                    f"is damaged: module call {call_id} has parent {parent_id}, which is missing"
                )
            start_seq = min(start, op_count)
            end_seq, exit_order = exits.get(call_id, (op_count, -1))
            end_seq = min(max(end_seq, start_seq), op_count)
            known.add(call_id)
            calls.append(
                ModuleCall(
                    call_id, path, type_name, call_index, parent_id, depth, start_seq, end_seq,
                    framework, order, exit_order,
                )
            )  # fmt: skip
        return calls

    def read_source_nodes(self) -> list[SourceNode]:
        """Graph nodes for parameters, buffers, inputs and constants."""
        nodes = []
        for node_id, kind, name, shape, dtype, summary in self.iter_query(
            "SELECT node_id, kind, name, shape, dtype, summary FROM source_nodes", what="sources"
        ):
            parsed = parse_json(self, summary, "source summary")
            nodes.append(
                SourceNode(
                    node_id=text(self, node_id, "source node id", 4096),
                    kind=choice(self, kind, _SOURCE_KINDS, "source kind"),
                    name=text(self, name, "source name", 4096),
                    shape=self.shape(shape),
                    dtype=text(self, dtype, "source dtype", 64),
                    summary=None if parsed is None else summary_from_json(self, parsed),
                )
            )
        return nodes

    def read_functions(self) -> tuple[list[FunctionGraph], list[GraphNode], list[GraphEdge]]:
        """Recorded function graphs (``tf.function``) with their nodes and edges."""
        functions = [
            FunctionGraph(
                graph_id=text(self, r[0], "function id", 4096),
                name=text(self, r[1], "function name", 4096),
                parent_id=text(self, r[2], "function parent", 4096),
                file=text(self, r[3], "function file", 4096),
                line=integer(self, r[4], "function line", 0, MAX_LINE),
            )
            for r in self.iter_query(
                "SELECT graph_id, name, parent_id, file, line FROM functions", what="functions"
            )
        ]
        nodes = []
        for r in self.iter_query(
            "SELECT node_id, graph_id, op_type, name, module_path, file, line, func, outputs, "
            "attrs FROM graph_nodes",
            what="graph nodes",
        ):
            outs = parse_json(self, r[8], "graph node outputs")
            if not isinstance(outs, list):
                raise self.fail("is damaged: graph node outputs are not a list")
            self.spend(len(outs) * SUMMARY_BYTES)
            nodes.append(
                GraphNode(
                    node_id=text(self, r[0], "graph node id", 4096),
                    graph_id=text(self, r[1], "graph node graph", 4096),
                    op_type=text(self, r[2], "graph node type", 512),
                    name=text(self, r[3], "graph node name", 4096),
                    module_path=text(self, r[4], "graph node module", 4096),
                    file=text(self, r[5], "graph node file", 4096),
                    line=integer(self, r[6], "graph node line", 0, MAX_LINE),
                    func=text(self, r[7], "graph node function", 512),
                    outputs=tuple(summary_from_json(self, o) for o in outs),
                    attrs=tuple(json_pairs(self, r[9], "graph node attrs")),
                )
            )
        edges = [
            GraphEdge(
                src=text(self, r[0], "graph edge source", 4096),
                dst=text(self, r[1], "graph edge target", 4096),
                slot=integer(self, r[2], "graph edge slot", -1, 1 << 20),
                out_index=integer(self, r[3], "graph edge out index", 0, 1 << 20),
                shape=self.shape(r[4]),
                dtype=text(self, r[5], "graph edge dtype", 64),
                kind=text(self, r[6], "graph edge kind", 64),
            )
            for r in self.iter_query(
                "SELECT src, dst, slot, out_index, shape, dtype, kind FROM graph_edges",
                what="graph edges",
            )
        ]
        return functions, nodes, edges

    def read_frames(self, stack_id: int) -> list[Frame]:
        """The user call chain ``stack_id``, outermost frame first."""
        rows = self.query("SELECT frames FROM stacks WHERE id = ?", (stack_id,), what="stacks")
        if not rows:
            return []
        ids = json_ints(self, rows[0][0], "stack frames")
        if len(ids) > MAX_STACK_FRAMES:
            raise self.fail(f"is damaged: stack {stack_id} has {len(ids)} frames")
        wanted = sorted(set(ids))
        found: dict[int, Frame] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for frame_id, file, line, func, first_line in self.query(
                f"SELECT id, file, line, func, first_line FROM frames WHERE id IN ({marks})",
                tuple(chunk),
                what="frames",
            ):
                found[frame_id] = Frame(
                    file=text(self, file, "frame file", 4096),
                    line=integer(self, line, "frame line", 0, MAX_LINE),
                    func=text(self, func, "frame function", 512),
                    first_line=integer(self, first_line, "frame first line", 0, MAX_LINE),
                )
        missing = next((i for i in ids if i not in found), None)
        if missing is not None:
            raise self.fail(f"is damaged: stack {stack_id} names a missing frame {missing}")
        return [found[i] for i in ids]

    def read_source(self, file: str) -> str | None:
        """The recorded text of a user source file, or None."""
        rows = self.query(
            "SELECT typeof(text), length(CAST(text AS BLOB)) FROM sources WHERE file = ?",
            (file,),
            what="sources",
        )
        if not rows:
            return None
        kind, size = rows[0]
        if kind != "text":
            raise self.fail(f"is damaged: the recorded source of {file[:200]!r} is not text")
        if not isinstance(size, int) or size > 4 * MAX_SOURCE_TEXT:
            raise self.fail(f"is damaged: the recorded source of {file[:200]!r} is too large")
        body = self.query("SELECT text FROM sources WHERE file = ?", (file,), what="sources")
        if not body:
            return None
        return text(self, body[0][0], "source text", MAX_SOURCE_TEXT)

    def source_files(self) -> list[str]:
        """Files whose text is embedded in the trace."""
        return [
            text(self, r[0], "source file", 4096)
            for r in self.query("SELECT file FROM sources", what="sources")
        ]

    def read_blob(self, seq: int, idx: int, expected_bytes: int) -> bytes:
        """The stored payload of output ``idx`` of op ``seq``, checked against its size."""
        if expected_bytes > self.file_bytes:
            raise self.fail(
                f"is damaged: the value of op {seq} output {idx} would need {expected_bytes} "
                f"bytes, more than the whole file holds ({self.file_bytes})"
            )
        rows = self.query(
            "SELECT chunk, length(data), typeof(data) FROM blobs WHERE seq = ? AND idx = ? "
            "ORDER BY chunk",
            (seq, idx),
            what="tensor values",
        )
        if not rows:
            raise self.fail(f"holds no stored value for output {idx} of op {seq}")
        total = 0
        for number, (chunk, size, kind) in enumerate(rows):
            if chunk != number or not isinstance(size, int):
                raise self.fail(f"is damaged: the value of op {seq} output {idx} has a gap")
            if kind != "blob":
                raise self.fail(f"is damaged: the value of op {seq} output {idx} is not binary")
            total += size
        if total != expected_bytes:
            raise self.fail(
                f"is damaged: the value of op {seq} output {idx} has {total} bytes, "
                f"its shape and dtype need {expected_bytes}"
            )
        parts = []
        for chunk, _, _ in rows:
            got = self.query(
                "SELECT data FROM blobs WHERE seq = ? AND idx = ? AND chunk = ?",
                (seq, idx, chunk),
                what="tensor values",
            )
            data = got[0][0] if got else None
            if not isinstance(data, bytes):
                raise self.fail(f"is damaged: the value of op {seq} output {idx} is not binary")
            parts.append(data)
        payload = parts[0] if len(parts) == 1 else b"".join(parts)
        if len(payload) != expected_bytes:
            raise self.fail(f"is damaged: the value of op {seq} output {idx} changed size")
        return payload


class _Restart(Exception):
    """Internal: a query must be run again in lenient text mode, skipping ``done`` rows."""

    def __init__(self, done: int) -> None:
        super().__init__(done)
        self.done = done


def _slot(ref: InputRef) -> int:
    return ref.slot


def _first(pair: tuple[int, TensorSummary]) -> int:
    return pair[0]


def _computed_or_defaulted(column: tuple) -> bool:
    """Whether a ``PRAGMA table_xinfo`` row is a generated (hidden) column or has a DEFAULT:
    SQLite would compute values the file does not hold."""
    return bool(column[6]) or column[4] is not None


def _stored_bytes(info: os.stat_result) -> int:
    """Bytes the file really holds: a sparse file (a hole punched to claim 40 GB) counts only
    what is allocated, so it cannot inflate the time, row and length limits derived from it."""
    blocks = getattr(info, "st_blocks", 0)
    return min(info.st_size, blocks * 512) if blocks > 0 else info.st_size


def _plain_create_table(sql: str) -> bool:
    """True for ``CREATE TABLE ...`` (not ``CREATE VIRTUAL TABLE``), comments ignored."""
    words = _SQL_COMMENT.sub(" ", sql[:200]).split()
    return [w.upper() for w in words[:2]] == ["CREATE", "TABLE"]


def _layout(table: str) -> list[tuple[str, str, int]]:
    """``(column, declared type, primary-key position)`` as the writer creates ``table``."""
    composite = schema.PRIMARY_KEYS.get(table, "")
    key_columns = [c.strip() for c in composite.partition("(")[2].rstrip(")").split(",") if c]
    layout = []
    for name, sql_type in schema.TABLES[table]:
        position = 1 if "PRIMARY KEY" in sql_type else 0
        if name in key_columns:
            position = key_columns.index(name) + 1
        layout.append((name, sql_type.split()[0].upper(), position))
    return layout


_EXPECTED_LAYOUT = {table: _layout(table) for table in schema.TABLES}


# -- validation helpers (shared with other readers of untrusted rows) ---


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def text(reader: TraceReader, value: Any, what: str, limit: int = MAX_TEXT) -> str:
    """A string column, bounded in length."""
    if not isinstance(value, str):
        raise reader.fail(f"is damaged: {what} is not text ({type(value).__name__})")
    if len(value) > limit:
        raise reader.fail(f"is damaged: {what} is {len(value)} characters long")
    return value


def integer(reader: TraceReader, value: Any, what: str, low: int = 0, high: int = _INT64) -> int:
    """An integer column within ``[low, high]``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise reader.fail(f"is damaged: {what} is not an integer ({value!r:.40})")
    if not low <= value <= high:
        raise reader.fail(f"is damaged: {what} is out of range ({value})")
    return value


def real(reader: TraceReader, value: Any, what: str) -> float | None:
    """A nullable float column."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise reader.fail(f"is damaged: {what} is not a number ({value!r:.40})")
    return float(value)


def choice(reader: TraceReader, value: Any, allowed: frozenset[str], what: str) -> Any:
    """A text column restricted to ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise reader.fail(f"is damaged: {what} {value!r:.40} is not one of {sorted(allowed)}")
    return value


_DIGITS = re.compile(r"0|[1-9][0-9]{0,14}")


def parse_shape(reader: TraceReader, value: Any) -> tuple[int, ...]:
    """Decode ``"8,3,32,32"``; rank and dimensions are bounded."""
    raw = text(reader, value, "shape", 2048)
    if raw == "":
        return ()
    parts = raw.split(",")
    if len(parts) > MAX_RANK:
        raise reader.fail(f"is damaged: a shape has rank {len(parts)}")
    if not all(_DIGITS.fullmatch(p) for p in parts):
        raise reader.fail(f"is damaged: bad shape {raw[:60]!r}")
    dims = tuple(int(p) for p in parts)
    if any(d > MAX_DIM for d in dims):
        raise reader.fail(f"is damaged: shape {raw[:60]!r} has a dimension over {MAX_DIM}")
    return dims


def parse_json(reader: TraceReader, value: Any, what: str, limit: int = MAX_TEXT) -> Any:
    """Parse a JSON text column (plain data only; depth is bounded by the length limit).

    Lone UTF-16 surrogates (``"\\ud800"``), which no text encoding can carry, are replaced.
    """
    raw = text(reader, value, what, limit)
    # json's C parser recurses: a deeply nested text could overflow the C stack (when the
    # program raised Python's recursion limit), so nesting is checked first where it could be.
    if (
        len(raw) > MAX_JSON_DEPTH
        and raw.count("[") + raw.count("{") > MAX_JSON_DEPTH
        and _json_depth(raw) > MAX_JSON_DEPTH
    ):
        raise reader.fail(f"is damaged: {what} is nested too deeply")
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise reader.fail(f"is damaged: {what} is not valid JSON") from exc
    if "\\u" in raw and _LONE_SURROGATE.search(raw):
        try:
            parsed = _without_surrogates(parsed)
        except RecursionError as exc:
            raise reader.fail(f"is damaged: {what} is nested too deeply") from exc
    return parsed


def _json_depth(raw: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (brackets in strings skipped)."""
    depth = deepest = 0
    for token in _JSON_TOKEN.findall(raw):
        if token == "[" or token == "{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif token == "]" or token == "}":
            depth -= 1
    return deepest


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def json_ints(reader: TraceReader, value: Any, what: str) -> list[int]:
    """A JSON list of non-negative integers."""
    parsed = parse_json(reader, value, what)
    if not isinstance(parsed, list) or not all(type(v) is int and 0 <= v <= _INT64 for v in parsed):
        raise reader.fail(f"is damaged: {what} is not a list of integers")
    return parsed


def json_strings(reader: TraceReader, value: Any, what: str) -> list[str]:
    """A JSON list of strings."""
    parsed = parse_json(reader, value, what)
    if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
        raise reader.fail(f"is damaged: {what} is not a list of strings")
    return parsed


def json_pairs(reader: TraceReader, value: Any, what: str) -> list[tuple[str, str]]:
    """A JSON object of string values, as ``(key, value)`` pairs."""
    parsed = parse_json(reader, value, what)
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise reader.fail(f"is damaged: {what} is not an object of strings")
    reader.spend(len(parsed) * PAIR_BYTES)
    return list(parsed.items())


_OP_NODE = re.compile(r"op:(0|[1-9][0-9]{0,17})")


def parse_op_node(reader: TraceReader, node_id: str) -> int:
    """The seq of an ``op:{seq}`` node id (written exactly as the recorder writes it)."""
    if not _OP_NODE.fullmatch(node_id):
        raise reader.fail(f"is damaged: bad node id {node_id[:60]!r}")
    return int(node_id[3:])


def summary_from_row(reader: TraceReader, row: tuple) -> TensorSummary:
    """Decode the summary columns of a ``tensors`` row (from ``shape`` on)."""
    shape, dtype, device, lo, hi, mean, std, nan_count, inf_count, initialized, has_value = row
    return TensorSummary(
        shape=reader.shape(shape),
        dtype=text(reader, dtype, "tensor dtype", 64),
        device=text(reader, device, "tensor device", 256),
        min=real(reader, lo, "tensor min"),
        max=real(reader, hi, "tensor max"),
        mean=real(reader, mean, "tensor mean"),
        std=real(reader, std, "tensor std"),
        nan_count=integer(reader, nan_count, "tensor NaN count"),
        inf_count=integer(reader, inf_count, "tensor Inf count"),
        initialized=bool(integer(reader, initialized, "tensor initialized flag", 0, 1)),
        has_value=bool(integer(reader, has_value, "tensor has_value flag", 0, 1)),
    )


def _plain_summary_fields(
    dtype: Any, device: Any, lo: Any, hi: Any, mean: Any, std: Any, nans: Any, infs: Any
) -> bool:
    """True when a stored summary's fields already have the types and bounds a
    ``TensorSummary`` needs (the fast path; anything else goes through the checked decoders)."""
    return (
        type(dtype) is str
        and len(dtype) <= 64
        and type(device) is str
        and len(device) <= 256
        and (lo is None or type(lo) is float)
        and (hi is None or type(hi) is float)
        and (mean is None or type(mean) is float)
        and (std is None or type(std) is float)
        and type(nans) is int
        and nans >= 0
        and type(infs) is int
        and infs >= 0
    )


_SUMMARY_KEYS = ("shape", "dtype", "device", "min", "max", "mean", "std", "nan", "inf", "init")


def summary_from_json(reader: TraceReader, data: Any) -> TensorSummary:
    """Decode a summary stored as a JSON object (source and graph nodes; callers count it with
    ``reader.spend``)."""
    if type(data) is dict:
        get = data.get
        shape, dtype, device = get("shape", ()), get("dtype", ""), get("device", "")
        lo, hi, mean, std = get("min"), get("max"), get("mean"), get("std")
        nans, infs = get("nan", 0), get("inf", 0)
        if (
            type(shape) is list
            and len(shape) <= MAX_RANK
            and all(type(d) is int and 0 <= d <= MAX_DIM for d in shape)
            and _plain_summary_fields(dtype, device, lo, hi, mean, std, nans, infs)
        ):
            init = bool(get("init", 1))
            return TensorSummary(tuple(shape), dtype, device, lo, hi, mean, std, nans, infs, init)
    if not isinstance(data, dict):
        raise reader.fail("is damaged: a tensor summary is not an object")
    shape = data.get("shape", [])
    if not isinstance(shape, list):
        raise reader.fail("is damaged: a summary shape is not a list")
    if len(shape) > MAX_RANK:
        raise reader.fail(f"is damaged: a summary shape has rank {len(shape)}")
    dims = tuple(integer(reader, d, "summary dimension", 0, MAX_DIM) for d in shape)
    return TensorSummary(
        shape=dims,
        dtype=text(reader, data.get("dtype", ""), "summary dtype", 64),
        device=text(reader, data.get("device", ""), "summary device", 256),
        min=real(reader, data.get("min"), "summary min"),
        max=real(reader, data.get("max"), "summary max"),
        mean=real(reader, data.get("mean"), "summary mean"),
        std=real(reader, data.get("std"), "summary std"),
        nan_count=integer(reader, data.get("nan", 0), "summary NaN count"),
        inf_count=integer(reader, data.get("inf", 0), "summary Inf count"),
        initialized=bool(data.get("init", 1)),
        has_value=False,
    )


def summary_to_json(summary: TensorSummary) -> dict[str, Any]:
    """Encode a summary as a JSON-safe object (inverse of ``summary_from_json``)."""

    def finite(v: float | None) -> float | None:
        return v if v is None or math.isfinite(v) else None

    return {
        "shape": list(summary.shape),
        "dtype": summary.dtype,
        "device": summary.device,
        "min": finite(summary.min),
        "max": finite(summary.max),
        "mean": finite(summary.mean),
        "std": finite(summary.std),
        "nan": summary.nan_count,
        "inf": summary.inf_count,
        "init": int(summary.initialized),
    }
