"""Read-only, validating access to a trace file.

A trace may come from a stranger, so nothing in it is trusted: the file is opened read-only with
SQLite's defensive settings, only our own tables are read (and only when they are real tables),
every row is type- and range-checked, and every failure becomes a ``TraceFileError`` that names
the file and the problem. No query can run for long: a progress handler aborts it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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

QUERY_SECONDS = 20.0
"""Longest time any single query may run before the file is declared hostile."""

MAX_TEXT = 1 << 20
"""Longest string accepted in a metadata column (source files have their own limit)."""

MAX_SOURCE_TEXT = 16 << 20
MAX_RANK = 64
MAX_DIM = 1 << 48
_SQLITE_MAGIC = b"SQLite format 3\x00"
_OP_KINDS = frozenset({"op", "call", "opaque"})
_EDGE_KINDS = frozenset({"data", "write"})
_SOURCE_KINDS = frozenset({"param", "buffer", "input", "const", "variable", "unknown"})
_INT64 = (1 << 63) - 1


class TraceReader:
    """A validating, read-only connection to one trace file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._deadline = 0.0
        self._conn = self._open()
        try:
            self._check_schema()
            self.meta_rows = self._read_meta()
        except BaseException:
            self._conn.close()
            raise

    # -- opening ---

    def fail(self, problem: str) -> TraceFileError:
        """A ``TraceFileError`` for this file."""
        return TraceFileError(self.path, problem)

    def _open(self) -> sqlite3.Connection:
        path = self.path
        if not path.exists():
            raise self.fail("no such file")
        if path.is_dir():
            raise self.fail("is a folder, not a trace file")
        try:
            with open(path, "rb") as handle:
                head = handle.read(100)
        except OSError as exc:
            raise self.fail(f"cannot be read ({exc.strerror or exc})") from exc
        if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
            if len(head) == 0:
                raise self.fail("is empty, not an OpScope trace")
            raise self.fail("is not an OpScope trace (not an SQLite file)")
        live = Path(f"{path}-wal").exists()
        # A trace still being written (or left by a killed recorder) has a WAL beside it, which
        # needs SQLite's locking; a finished trace is opened as immutable so nothing is created
        # next to it.
        uri = path.resolve().as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
        try:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise self.fail(f"cannot be opened ({exc})") from exc
        try:
            conn.execute("PRAGMA trusted_schema=OFF")
            conn.execute("PRAGMA cell_size_check=ON")
            conn.execute("PRAGMA query_only=ON")
            conn.set_progress_handler(self._progress, 5000)
            conn.text_factory = _text_factory
            # Read through SQLite, not from the header bytes: a trace still being written
            # has its header in the WAL until the first checkpoint.
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.Error as exc:
            conn.close()
            raise self.fail(f"cannot be opened ({exc})") from exc
        if app_id != schema.APPLICATION_ID:
            conn.close()
            raise self.fail("is an SQLite file but not an OpScope trace (wrong application id)")
        return conn

    def _progress(self) -> int:
        return 1 if self._deadline and time.monotonic() > self._deadline else 0

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        with self._lock:
            self._deadline = time.monotonic() + QUERY_SECONDS
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

    def query(self, sql: str, params: tuple = (), what: str = "the file") -> list[tuple]:
        """Run one read query under the time guard and return all rows."""
        with self._guard(what):
            return self._conn.execute(sql, params).fetchall()

    def iter_query(self, sql: str, params: tuple = (), what: str = "the file") -> Iterator[tuple]:
        """Run one read query under the time guard, yielding rows (for large tables)."""
        with self._guard(what):
            cursor = self._conn.execute(sql, params)
            while True:
                rows = cursor.fetchmany(4096)
                if not rows:
                    return
                yield from rows

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()

    def _check_schema(self) -> None:
        rows = self.query("SELECT type, name, tbl_name FROM sqlite_schema", what="the schema")
        objects: dict[str, str] = {}
        for kind, name, _table in rows:
            if kind in ("view", "trigger"):
                raise self.fail(
                    f"contains a {kind} ({name!r}); traces never do, refusing to read it"
                )
            if kind == "table":
                objects[str(name)] = kind
        version_rows = self.query("PRAGMA user_version", what="the format version")
        version = version_rows[0][0] if version_rows else 0
        if not isinstance(version, int) or version < 1:
            raise self.fail("has no format version; it was not written by OpScope")
        if version > schema.FORMAT_VERSION:
            raise self.fail(
                f"uses trace format {version}, newer than this OpScope reads "
                f"({schema.FORMAT_VERSION}); upgrade OpScope"
            )
        for table, columns in schema.TABLES.items():
            if table not in objects:
                raise self.fail(f"is incomplete: table {table!r} is missing")
            info = self.query(f"PRAGMA table_info({table})", what=f"table {table}")
            names = [str(r[1]) for r in info]
            expected = [name for name, _ in columns]
            if names != expected:
                raise self.fail(
                    f"is damaged: table {table!r} has columns {names}, expected {expected}"
                )

    def _read_meta(self) -> dict[str, str]:
        meta: dict[str, str] = {}
        for key, value in self.query("SELECT key, value FROM meta LIMIT 10000", what="meta"):
            meta[text(self, key, "meta key", 200)] = text(self, value, "meta value")
        if meta.get("format_version") not in (None, *map(str, range(1, schema.FORMAT_VERSION + 1))):
            raise self.fail(f"has an unknown format version {meta.get('format_version')!r}")
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

    def read_ops(self) -> list[Op]:
        """Every op with its inputs and outputs, validated, in seq order."""
        inputs: dict[int, list[InputRef]] = {}
        for row in self.iter_query(
            "SELECT seq, slot, name, source, out_index, shape, dtype, kind FROM edges "
            "ORDER BY seq, slot",
            what="edges",
        ):
            seq, slot, name, source, out_index, shape, dtype, kind = row
            seq = integer(self, seq, "edge seq", 0)
            ref = InputRef(
                slot=integer(self, slot, "edge slot", 0, 1 << 20),
                name=text(self, name, "edge name", 256),
                source=text(self, source, "edge source", 4096),
                out_index=integer(self, out_index, "edge out_index", 0, 1 << 20),
                shape=parse_shape(self, shape),
                dtype=text(self, dtype, "edge dtype", 64),
                kind=choice(self, kind, _EDGE_KINDS, "edge kind"),
            )
            inputs.setdefault(seq, []).append(ref)
        stored = {
            (integer(self, seq, "value seq", 0), integer(self, idx, "value index", 0))
            for seq, idx in self.iter_query(
                "SELECT DISTINCT seq, idx FROM blobs WHERE chunk = 0", what="tensor values"
            )
        }
        outputs: dict[int, list[TensorSummary]] = {}
        for row in self.iter_query(
            "SELECT seq, idx, shape, dtype, device, min, max, mean, std, nan_count, inf_count, "
            "initialized, has_value FROM tensors ORDER BY seq, idx",
            what="tensors",
        ):
            seq = integer(self, row[0], "tensor seq", 0)
            idx = integer(self, row[1], "tensor index", 0)
            summaries = outputs.setdefault(seq, [])
            if idx != len(summaries):
                raise self.fail(f"is damaged: outputs of op {seq} are not numbered 0, 1, 2...")
            summary = summary_from_row(self, row[2:])
            if summary.has_value and (seq, idx) not in stored:
                # Dropped by a value budget, or lost with a killed recorder's last batch.
                summary = dataclasses.replace(summary, has_value=False)
            summaries.append(summary)
        ops: list[Op] = []
        for row in self.iter_query(
            "SELECT seq, op_type, framework, module_path, module_call, call_id, file, line, col, "
            "end_col, func, stack_id, mutates, duration_ns, error, thread_id, kind, attrs, "
            "graph_id FROM ops ORDER BY seq",
            what="ops",
        ):
            seq = integer(self, row[0], "op seq", 0)
            if seq != len(ops):
                raise self.fail(f"is damaged: op {len(ops)} is missing (found op {seq} instead)")
            op_inputs = tuple(inputs.pop(seq, ()))
            for ref in op_inputs:
                if ref.source.startswith("op:"):
                    producer = parse_op_node(self, ref.source)
                    if producer >= seq:
                        raise self.fail(
                            f"is damaged: op {seq} reads from op {producer}, which ran later"
                        )
            mutates = tuple(json_ints(self, row[12], "op mutates"))
            ops.append(
                Op(
                    seq=seq,
                    op_type=text(self, row[1], "op type", 512) or "?",
                    framework=text(self, row[2], "op framework", 64),
                    module_path=text(self, row[3], "module path", 4096),
                    module_call=integer(self, row[4], "module call", 0),
                    call_id=integer(self, row[5], "op call id", -1),
                    file=text(self, row[6], "op file", 4096),
                    line=integer(self, row[7], "op line", 0),
                    col=integer(self, row[8], "op column", -1),
                    end_col=integer(self, row[9], "op end column", -1),
                    func=text(self, row[10], "op function", 512),
                    stack_id=integer(self, row[11], "op stack id", -1),
                    inputs=op_inputs,
                    outputs=tuple(outputs.pop(seq, ())),
                    mutates=mutates,
                    duration_ns=integer(self, row[13], "op duration", 0),
                    error=None if row[14] is None else text(self, row[14], "op error", 65536),
                    thread_id=integer(self, row[15], "op thread", 0),
                    kind=choice(self, row[16], _OP_KINDS, "op kind"),
                    attrs=tuple(json_pairs(self, row[17], "op attrs")),
                    graph_id=text(self, row[18], "op graph id", 4096),
                )
            )
        if inputs or outputs:
            seq = min([*inputs, *outputs])
            if seq < len(ops):  # pragma: no cover - pops above leave only unknown seqs
                raise self.fail(f"is damaged: op {seq} has inconsistent rows")
            # Rows beyond the last op are from a batch still being written: ignore them.
        return ops

    def read_module_calls(self, op_count: int) -> list[ModuleCall]:
        """Every module call, with exits filled in (``end_seq = op_count`` when still open)."""
        exits: dict[int, tuple[int, int]] = {}
        for call_id, end_seq, exit_order in self.iter_query(
            "SELECT call_id, end_seq, exit_order FROM module_exits", what="module exits"
        ):
            exits[integer(self, call_id, "exit call id", 0)] = (
                integer(self, end_seq, "exit seq", 0),
                integer(self, exit_order, "exit order", 0),
            )
        calls: list[ModuleCall] = []
        known: dict[int, ModuleCall] = {}
        for row in self.iter_query(
            "SELECT call_id, path, type_name, call_index, parent_id, depth, start_seq, "
            "enter_order, framework FROM module_calls ORDER BY call_id",
            what="module calls",
        ):
            call_id = integer(self, row[0], "module call id", 0)
            parent_id = integer(self, row[4], "module parent id", -1)
            if parent_id >= call_id or (parent_id >= 0 and parent_id not in known):
                raise self.fail(f"is damaged: module call {call_id} has an unknown parent")
            start_seq = min(integer(self, row[6], "module start seq", 0), op_count)
            end_seq, exit_order = exits.get(call_id, (op_count, -1))
            end_seq = min(max(end_seq, start_seq), op_count)
            call = ModuleCall(
                call_id=call_id,
                path=text(self, row[1], "module path", 4096),
                type_name=text(self, row[2], "module type", 512),
                call_index=integer(self, row[3], "module call index", 0),
                parent_id=parent_id,
                depth=integer(self, row[5], "module depth", 0, 100_000),
                start_seq=start_seq,
                end_seq=end_seq,
                framework=text(self, row[8], "module framework", 64),
                enter_order=integer(self, row[7], "module enter order", 0),
                exit_order=exit_order,
            )
            known[call_id] = call
            calls.append(call)
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
                    shape=parse_shape(self, shape),
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
                line=integer(self, r[4], "function line", 0),
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
            nodes.append(
                GraphNode(
                    node_id=text(self, r[0], "graph node id", 4096),
                    graph_id=text(self, r[1], "graph node graph", 4096),
                    op_type=text(self, r[2], "graph node type", 512),
                    name=text(self, r[3], "graph node name", 4096),
                    module_path=text(self, r[4], "graph node module", 4096),
                    file=text(self, r[5], "graph node file", 4096),
                    line=integer(self, r[6], "graph node line", 0),
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
                shape=parse_shape(self, r[4]),
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
        ids = json_ints(self, rows[0][0], "stack frames")[:10_000]
        frames = []
        for frame_id in ids:
            found = self.query(
                "SELECT file, line, func, first_line FROM frames WHERE id = ?",
                (frame_id,),
                what="frames",
            )
            if not found:
                raise self.fail(f"is damaged: stack {stack_id} names a missing frame {frame_id}")
            f = found[0]
            frames.append(
                Frame(
                    file=text(self, f[0], "frame file", 4096),
                    line=integer(self, f[1], "frame line", 0),
                    func=text(self, f[2], "frame function", 512),
                    first_line=integer(self, f[3], "frame first line", 0),
                )
            )
        return frames

    def read_source(self, file: str) -> str | None:
        """The recorded text of a user source file, or None."""
        rows = self.query(
            "SELECT length(text), text FROM sources WHERE file = ?", (file,), what="sources"
        )
        if not rows:
            return None
        size, body = rows[0]
        if not isinstance(size, int) or size > MAX_SOURCE_TEXT:
            raise self.fail(f"is damaged: the recorded source of {file} is too large")
        return text(self, body, "source text", MAX_SOURCE_TEXT)

    def source_files(self) -> list[str]:
        """Files whose text is embedded in the trace."""
        return [
            text(self, r[0], "source file", 4096) for r in self.query("SELECT file FROM sources")
        ]

    def read_blob(self, seq: int, idx: int, expected_bytes: int) -> bytes:
        """The stored payload of output ``idx`` of op ``seq``, checked against its size."""
        rows = self.query(
            "SELECT chunk, length(data) FROM blobs WHERE seq = ? AND idx = ? ORDER BY chunk",
            (seq, idx),
            what="tensor values",
        )
        if not rows:
            raise self.fail(f"holds no stored value for output {idx} of op {seq}")
        total = 0
        for number, (chunk, size) in enumerate(rows):
            if chunk != number or not isinstance(size, int):
                raise self.fail(f"is damaged: the value of op {seq} output {idx} has a gap")
            total += size
        if total != expected_bytes:
            raise self.fail(
                f"is damaged: the value of op {seq} output {idx} has {total} bytes, "
                f"its shape and dtype need {expected_bytes}"
            )
        parts = []
        for chunk, _ in rows:
            got = self.query(
                "SELECT data FROM blobs WHERE seq = ? AND idx = ? AND chunk = ?",
                (seq, idx, chunk),
                what="tensor values",
            )
            data = got[0][0] if got else None
            if not isinstance(data, bytes):
                raise self.fail(f"is damaged: the value of op {seq} output {idx} is not binary")
            parts.append(data)
        payload = b"".join(parts)
        if len(payload) != expected_bytes:
            raise self.fail(f"is damaged: the value of op {seq} output {idx} changed size")
        return payload


# -- validation helpers (shared with other readers of untrusted rows) ---


def _text_factory(data: bytes) -> str:
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
    if value not in allowed:
        raise reader.fail(f"is damaged: {what} {value!r:.40} is not one of {sorted(allowed)}")
    return value


def parse_shape(reader: TraceReader, value: Any) -> tuple[int, ...]:
    """Decode ``"8,3,32,32"``; rank and dimensions are bounded."""
    raw = text(reader, value, "shape", 2048)
    if raw == "":
        return ()
    parts = raw.split(",")
    if len(parts) > MAX_RANK:
        raise reader.fail(f"is damaged: a shape has rank {len(parts)}")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise reader.fail(f"is damaged: bad shape {raw[:60]!r}") from None
    if any(d < 0 or d > MAX_DIM for d in dims):
        raise reader.fail(f"is damaged: bad shape {raw[:60]!r}")
    return dims


def parse_json(reader: TraceReader, value: Any, what: str, limit: int = MAX_TEXT) -> Any:
    """Parse a JSON text column (plain data only; depth is bounded by the length limit)."""
    raw = text(reader, value, what, limit)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise reader.fail(f"is damaged: {what} is not valid JSON") from exc


def json_ints(reader: TraceReader, value: Any, what: str) -> list[int]:
    """A JSON list of non-negative integers."""
    parsed = parse_json(reader, value, what)
    if not isinstance(parsed, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= _INT64 for v in parsed
    ):
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
    return list(parsed.items())


def parse_op_node(reader: TraceReader, node_id: str) -> int:
    """The seq of an ``op:{seq}`` node id."""
    try:
        seq = int(node_id[3:])
    except ValueError:
        raise reader.fail(f"is damaged: bad node id {node_id[:60]!r}") from None
    if seq < 0:
        raise reader.fail(f"is damaged: bad node id {node_id[:60]!r}")
    return seq


def summary_from_row(reader: TraceReader, row: tuple) -> TensorSummary:
    """Decode the summary columns of a ``tensors`` row (from ``shape`` on)."""
    shape, dtype, device, lo, hi, mean, std, nan_count, inf_count, initialized, has_value = row
    return TensorSummary(
        shape=parse_shape(reader, shape),
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


_SUMMARY_KEYS = ("shape", "dtype", "device", "min", "max", "mean", "std", "nan", "inf", "init")


def summary_from_json(reader: TraceReader, data: Any) -> TensorSummary:
    """Decode a summary stored as a JSON object (source and graph nodes)."""
    if not isinstance(data, dict):
        raise reader.fail("is damaged: a tensor summary is not an object")
    shape = data.get("shape", [])
    if not isinstance(shape, list):
        raise reader.fail("is damaged: a summary shape is not a list")
    row = (
        schema.encode_shape([integer(reader, d, "summary dimension", 0, MAX_DIM) for d in shape]),
        data.get("dtype", ""),
        data.get("device", ""),
        data.get("min"),
        data.get("max"),
        data.get("mean"),
        data.get("std"),
        data.get("nan", 0),
        data.get("inf", 0),
        int(bool(data.get("init", 1))),
        0,
    )
    return summary_from_row(reader, row)


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
