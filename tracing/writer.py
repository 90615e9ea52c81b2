"""Incremental trace-file writer: rows stream to SQLite from a background thread.

The recording thread only appends ``(table, row)`` pairs to a deque, which costs well under a
microsecond. A writer thread drains the deque, inserts the rows and commits at least every
``FLUSH_SECONDS``, so a program killed with SIGKILL leaves a file that holds everything recorded
more than about a second earlier. Tensor payloads count against ``max_pending_bytes``: when the
disk falls behind, the recording thread waits instead of growing memory.
"""

from __future__ import annotations

import collections
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tracing import schema
from tracing.errors import TraceWriteError

FLUSH_SECONDS = 0.25
"""Longest time a recorded row waits in memory before it is committed."""

_DELETE_VALUE = "__delete_value__"
_ROWS = "__rows__"
_FLUSHED = "__flushed__"


class TraceWriter:
    """Owns one trace file while it is being recorded."""

    def __init__(self, path: str | os.PathLike[str], *, max_pending_bytes: int = 128 << 20) -> None:
        self.path = Path(path)
        self._max_pending_bytes = max_pending_bytes
        self._pending: collections.deque[tuple[str, tuple]] = collections.deque()
        self._pending_bytes = 0
        self._lock = threading.Condition()
        self._closing = False
        self._flush_requested = False
        self._error: BaseException | None = None
        self.values_error: BaseException | None = None
        """The first error writing values; later values are dropped, metadata still written."""
        self.on_tick: Callable[[], None] | None = None
        """Called on the writer thread before each periodic commit (the recorder hands over
        ops that waited too long for their summaries); its errors are ignored."""
        self._conn = self._create(self.path)
        self._statements = {table: schema.insert_statement(table) for table in schema.TABLES}
        self._bulk = _bulk_statements(self._conn)
        self._thread = threading.Thread(target=self._run, name="opscope-writer", daemon=True)
        self._thread.start()

    # -- public, called from the recording thread ---

    @property
    def error(self) -> BaseException | None:
        """The first write error (full disk, removed file...), after which rows are dropped."""
        return self._error

    def put(self, table: str, row: tuple) -> None:
        """Queue one row for ``table`` (columns in ``schema.TABLES`` order)."""
        self._pending.append((table, row))

    def put_rows(self, tables: list[tuple[str, list]]) -> None:
        """Queue rows of several tables, each table's rows as one flat list of their column
        values, row after row (the lists must not change afterwards). They are committed in
        one transaction. Cheaper than ``put`` per row, and creates no per-row objects for the
        garbage collector to track."""
        self._pending.append((_ROWS, tables))

    def put_blob(self, seq: int, idx: int, payload: bytes | memoryview) -> None:
        """Queue a tensor payload; waits while too many payload bytes are not yet on disk."""
        size = len(payload)
        with self._lock:
            while (
                self._pending_bytes + size > self._max_pending_bytes
                and self._pending_bytes > 0
                and self._error is None
            ):
                self._lock.wait(0.5)
            self._pending_bytes += size
        self._pending.append(("blobs", (seq, idx, payload)))

    def delete_value(self, seq: int, idx: int) -> None:
        """Queue the removal of a stored payload (used by value budgets)."""
        self._pending.append((_DELETE_VALUE, (seq, idx)))

    def set_meta(self, values: dict[str, str]) -> None:
        """Queue ``meta`` rows (later values for a key replace earlier ones)."""
        for key, value in values.items():
            self.put("meta", (key, value))

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every row queued so far is committed; False on timeout or write error."""
        if self._closing:
            return self._error is None
        done = threading.Event()
        self._pending.append((_FLUSHED, (done,)))
        self._flush_requested = True
        with self._lock:
            self._lock.notify_all()
        return done.wait(timeout) and self._error is None

    def close(self) -> None:
        """Commit everything, fold the WAL into the file and close it (idempotent).

        Folding is best effort: while a viewer has the trace open the WAL may stay beside the
        file (every row is committed either way, and the next reader sees all of it).
        """
        if self._closing:
            return
        self._closing = True
        with self._lock:
            self._lock.notify_all()
        self._thread.join()
        try:
            for _attempt in range(20):
                busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy:
                    self._conn.execute("PRAGMA journal_mode=DELETE")
                    break
                time.sleep(0.05)
        except sqlite3.Error:
            pass  # a reader holds the WAL open: the data is committed, leave the WAL in place
        finally:
            self._conn.close()

    # -- writer thread ---

    @staticmethod
    def _create(path: Path) -> sqlite3.Connection:
        if path.is_dir():
            raise TraceWriteError(f"cannot write trace {path}: it is a directory")
        if not path.parent.exists():
            raise TraceWriteError(f"cannot write trace {path}: folder {path.parent} does not exist")
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA journal_size_limit={64 << 20}")
            conn.execute(f"PRAGMA application_id={schema.APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={schema.FORMAT_VERSION}")
            conn.execute("BEGIN")
            for statement in schema.create_statements():
                conn.execute(statement)
            conn.execute(
                schema.insert_statement("meta"), ("format_version", str(schema.FORMAT_VERSION))
            )
            conn.execute("COMMIT")
            # Move the header (application id) and schema into the main file now, so a viewer
            # can recognise and open the trace while it is still being written.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except (OSError, sqlite3.Error) as exc:
            raise TraceWriteError(f"cannot write trace {path}: {exc}") from exc
        return conn

    def _run(self) -> None:
        next_flush = time.monotonic() + FLUSH_SECONDS
        while True:
            closing = self._closing
            now = time.monotonic()
            if closing or now >= next_flush or self._pending_bytes > 0 or self._flush_requested:
                self._flush_requested = False
                if not closing:
                    self._tick()
                self._drain()
                next_flush = now + FLUSH_SECONDS
            if closing:
                self._drain()
                return
            with self._lock:
                if not self._closing:
                    self._lock.wait(0.02)

    def _tick(self) -> None:
        tick = self.on_tick
        if tick is not None:
            try:
                tick()
            except Exception:  # the recorder's problem must not stop the writer
                pass

    def _drain(self) -> None:
        if not self._pending:
            return
        batch: list[tuple[str, tuple]] = []
        pop = self._pending.popleft
        try:
            while True:
                batch.append(pop())
        except IndexError:
            pass
        payload_bytes = sum(len(row[2]) for table, row in batch if table == "blobs")
        if self._error is None:
            if self.values_error is not None:
                batch = [item for item in batch if item[0] != "blobs"]
            try:
                self._write(batch)
            except (sqlite3.Error, OSError, MemoryError) as exc:
                # Out of space (or memory): drop the values, which are most of the bytes, and
                # keep recording the ops' metadata and summaries if that still fits.
                self.values_error = self.values_error or exc
                try:
                    self._write([item for item in batch if item[0] != "blobs"])
                except (sqlite3.Error, OSError, MemoryError) as second:
                    self._error = second
        for table, row in batch:
            if table == _FLUSHED:
                row[0].set()
        freed = payload_bytes
        with self._lock:
            self._pending_bytes -= freed
            self._lock.notify_all()

    def _write(self, batch: list[tuple[str, tuple]]) -> None:
        grouped: dict[str, list] = {}  # table -> flat column values, row after row
        blob_rows: list[tuple[int, int, int, bytes | memoryview]] = []
        deletes: list[tuple[int, int]] = []
        for table, row in batch:
            if table == _ROWS:
                for name, values in row:
                    found = grouped.get(name)
                    if found is None:
                        grouped[name] = list(values)
                    else:
                        found.extend(values)
            elif table == "blobs":
                seq, idx, payload = row
                blob_rows.extend(_chunks(seq, idx, payload))
            elif table == _DELETE_VALUE:
                deletes.append(row)
            elif table == _FLUSHED:
                pass
            else:
                found = grouped.get(table)
                if found is None:
                    grouped[table] = list(row)
                else:
                    found.extend(row)
        # Delete values stored by earlier batches first so their pages are reused at once;
        # a value stored and evicted within this batch can only be deleted after its insert.
        inserted = {(seq, idx) for seq, idx, chunk, _ in blob_rows if chunk == 0}
        early = [key for key in deletes if key not in inserted]
        late = [key for key in deletes if key in inserted]
        delete = "DELETE FROM blobs WHERE seq = ? AND idx = ?"
        conn = self._conn
        conn.execute("BEGIN")
        try:
            if early:  # the reader treats a tensor whose payload is gone as not stored
                conn.executemany(delete, early)
            for table in schema.TABLES:
                rows = grouped.get(table)
                if rows:
                    self._insert(table, rows)
            if blob_rows:
                conn.executemany(self._statements["blobs"], blob_rows)
            if late:
                conn.executemany(delete, late)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _insert(self, table: str, values: list) -> None:
        """Insert the rows whose column values ``values`` holds, with as few statements as
        possible.

        The sqlite3 module releases the GIL around every statement it steps, and the
        recording thread then waits to get it back: one multi-row ``INSERT`` per up to
        ``_BULK_ROWS`` rows costs it far less than one statement per row.
        """
        conn = self._conn
        width = len(schema.TABLES[table])
        start, end = 0, len(values)
        for size, statement in self._bulk[table]:
            step = size * width
            while end - start >= step:
                conn.execute(statement, values[start : start + step])
                start += step
        if start < end:
            conn.executemany(
                self._statements[table],
                [values[i : i + width] for i in range(start, end, width)],
            )


_BULK_ROWS = (256, 32, 4)
"""Rows per multi-row ``INSERT`` statement, largest first (each size is one cached statement)."""


def _bulk_statements(conn: sqlite3.Connection) -> dict[str, list[tuple[int, str]]]:
    """Multi-row insert statements per table, within the connection's parameter limit."""
    try:
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):
        limit = 999  # the smallest default SQLite ever had
    bulk: dict[str, list[tuple[int, str]]] = {}
    for table, columns in schema.TABLES.items():
        single = schema.insert_statement(table)
        head, _, row = single.partition(" VALUES ")
        bulk[table] = [
            (size, f"{head} VALUES {','.join([row] * size)}")
            for size in _BULK_ROWS
            if size * len(columns) <= limit
        ]
    return bulk


def _chunks(
    seq: int, idx: int, payload: bytes | memoryview
) -> Iterable[tuple[int, int, int, bytes | memoryview]]:
    view = memoryview(payload).cast("B")
    if len(view) == 0:
        yield (seq, idx, 0, b"")
        return
    for chunk, start in enumerate(range(0, len(view), schema.BLOB_CHUNK_BYTES)):
        yield (seq, idx, chunk, view[start : start + schema.BLOB_CHUNK_BYTES])
