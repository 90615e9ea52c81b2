"""Open a trace file the way the viewer does and classify what happened.

``exercise(path)`` loads the file and then makes every call a viewer makes on a ``Trace``
(ops, graph, timeline events, values, call stacks, source text, first NaN, module chains, lint,
the text table). The guarantee under test: the only exception is ``TraceFileError`` naming the
file (plus the documented ``KeyError``/``LookupError`` of ``Trace.value``), the file is never
modified, and nothing is created beside a finished trace.
"""

from __future__ import annotations

import hashlib
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import tracing
from tracing import TraceFileError


@dataclass
class Outcome:
    """What opening one file did."""

    kind: str
    """``rejected`` (load raised TraceFileError), ``loaded`` (every call worked),
    ``loaded_with_errors`` (load worked, a later call raised TraceFileError) or a failure:
    ``wrong_exception``, ``unnamed_error``, ``file_changed``, ``bad_value``."""
    detail: str = ""
    errors: list[str] = field(default_factory=list)
    """Messages of the TraceFileErrors raised."""

    @property
    def failed(self) -> bool:
        """True when the outcome breaks the guarantee."""
        return self.kind not in ("rejected", "loaded", "loaded_with_errors")


FAILURES = ("wrong_exception", "unnamed_error", "file_changed", "bad_value")


def _fingerprint(path: Path) -> tuple:
    try:
        if not path.is_file():
            return ()
        stat = path.stat()
        digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
        return (stat.st_size, stat.st_mtime_ns, digest)
    except (OSError, ValueError):
        return ()


def _companions(path: Path) -> set[str]:
    try:
        return {s for s in ("-wal", "-shm", "-journal") if os.path.lexists(f"{path}{s}")}
    except (OSError, ValueError):
        return set()


def exercise(path: str | os.PathLike[str], *, name_in_message: str | None = None) -> Outcome:
    """Load ``path`` and make every viewer call; see the module docstring."""
    path = Path(path)
    expected_name = name_in_message if name_in_message is not None else str(path)
    before = _fingerprint(path)
    companions_before = _companions(path)
    errors: list[str] = []

    def check_message(exc: TraceFileError) -> Outcome | None:
        message = str(exc)
        errors.append(message)
        if expected_name not in message:
            return Outcome("unnamed_error", message[:300], errors)
        return None

    try:
        trace = tracing.load(path)
    except TraceFileError as exc:
        bad = check_message(exc)
        return bad or _after(path, before, companions_before, Outcome("rejected", "", errors))
    except Exception as exc:
        return Outcome("wrong_exception", _describe(exc, "load"), errors)

    with trace:
        for name, call in _viewer_calls(trace):
            try:
                problem = call()
            except TraceFileError as exc:
                bad = check_message(exc)
                if bad:
                    return bad
                continue
            except Exception as exc:
                return Outcome("wrong_exception", _describe(exc, name), errors)
            if problem:
                return Outcome("bad_value", f"{name}: {problem}", errors)
    kind = "loaded_with_errors" if errors else "loaded"
    return _after(path, before, companions_before, Outcome(kind, "", errors))


def _after(path: Path, before: tuple, companions_before: set[str], outcome: Outcome) -> Outcome:
    if before and _fingerprint(path) != before:
        return Outcome("file_changed", "the trace file was modified by reading it", outcome.errors)
    created = _companions(path) - companions_before
    if created and not companions_before:
        return Outcome("file_changed", f"reading created {sorted(created)}", outcome.errors)
    return outcome


def _describe(exc: BaseException, where: str) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    at = f" at {Path(last.filename).name}:{last.lineno}" if last else ""
    return f"{where}: {type(exc).__name__}: {str(exc)[:200]}{at}"


def _viewer_calls(trace: tracing.Trace):
    """``(name, callable)`` pairs; a callable returns a problem string or None."""
    ops = trace.ops

    def basics():
        _ = len(trace), repr(trace), trace.framework
        _ = trace.meta.option("values"), trace.meta.version("python")
        for index, op in enumerate(ops):
            if op.seq != index:
                return f"op {index} has seq {op.seq}"
            _ = op.location, op.nonfinite, op.node_id
            _ = [out.numel for out in op.outputs]
        return None

    def graph():
        import networkx as nx

        g = trace.graph
        if not isinstance(g, nx.MultiDiGraph):
            return "graph is not a MultiDiGraph"
        for op in ops:
            if g.nodes[op.node_id].get("seq") != op.seq:
                return f"graph node of op {op.seq} has the wrong seq"
        return None

    def events():
        for event in trace.events:
            if event.kind == "op" and not 0 <= event.ref < len(ops):
                return f"event names op {event.ref}"
            if event.kind != "op" and trace.call(event.ref) is None:
                return f"event names module call {event.ref}"
        return None

    def first_nonfinite():
        op = trace.first_nonfinite()
        if op is not None and not op.nonfinite:
            return "first_nonfinite returned a finite op"
        return None

    def chains():
        for op in ops:
            chain = trace.call_chain(op)
            if len(chain) > len(trace.module_calls):
                return "call chain longer than the number of calls"
        return None

    def stacks():
        for stack_id in sorted({op.stack_id for op in ops})[:500]:
            trace.stack(stack_id)
        for op in ops[:50]:
            trace.stack(op)
        return None

    def sources():
        files = {op.file for op in ops[:2000]}
        files.update(trace.source_files())
        for file in sorted(files)[:200]:
            text = trace.source(file)
            if text is not None and not isinstance(text, str):
                return f"source of {file!r} is not text"
        return None

    def values():
        import numpy as np

        checked = 0
        for op in ops:
            for index, out in enumerate(op.outputs):
                if checked >= 400:
                    return None
                checked += 1
                if not out.has_value:
                    try:
                        trace.value(op.seq, index)
                    except LookupError:
                        continue
                    return f"value of op {op.seq} output {index} returned without being stored"
                try:
                    array = trace.value(op.seq, index)
                except TraceFileError:
                    raise
                except LookupError as exc:
                    return f"value of op {op.seq} output {index} raised {exc!r} though has_value"
                if not isinstance(array, np.ndarray) or tuple(array.shape) != out.shape:
                    return f"value of op {op.seq} output {index} has the wrong shape"
                if array.flags.writeable:
                    return f"value of op {op.seq} output {index} is writeable"
        for seq, index in ((len(ops), 0), (-1, 0), (0, 10_000)):
            try:
                trace.value(seq, index)
            except KeyError:
                continue
            except LookupError:
                if 0 <= seq < len(ops):
                    continue
                return f"value({seq}, {index}) raised LookupError instead of KeyError"
            return f"value({seq}, {index}) returned something"
        return None

    def lint():
        trace.lint()
        return None

    def table():
        text = trace.format_table()
        if not isinstance(text, str):
            return "format_table did not return text"
        try:  # a viewer must be able to show and print every string (no lone surrogates)
            text.encode("utf-8")
            for key, value in (*trace.meta.versions, *trace.meta.options):
                (key + value).encode("utf-8")
            "".join(trace.meta.argv).encode("utf-8")
            for op in ops[:2000]:
                for key, value in op.attrs:
                    (key + value).encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"text that cannot be shown: {exc}"
        trace.op_type_counts()
        if ops:
            trace.ops_at(ops[0].file, ops[0].line)
        return None

    return [
        ("basics", basics),
        ("graph", graph),
        ("events", events),
        ("first_nonfinite", first_nonfinite),
        ("call_chain", chains),
        ("stack", stacks),
        ("source", sources),
        ("value", values),
        ("lint", lint),
        ("format_table", table),
    ]


def exercise_unprivileged(path: str | os.PathLike[str]) -> Outcome | None:
    """``exercise`` without the power to read every file, for the permission-denied case.

    Root reads files whatever their mode, so under root this runs ``exercise`` in a subprocess
    whose file-access capabilities are dropped with ``setpriv``. Returns None when that is not
    possible (root without ``setpriv``).
    """
    import json
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0:
        return exercise(path)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search"
    root = Path(__file__).resolve().parent.parent.parent
    code = (
        "import json, sys; from tests.fuzz.exercise import exercise; "
        "o = exercise(sys.argv[1]); print(json.dumps([o.kind, o.detail, o.errors]))"
    )
    done = subprocess.run(
        [
            setpriv,
            f"--bounding-set={caps}",
            f"--inh-caps={caps}",
            sys.executable,
            "-c",
            code,
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    if done.returncode != 0:
        return Outcome("wrong_exception", f"subprocess failed: {done.stderr[-300:]}")
    kind, detail, errors = json.loads(done.stdout.strip().splitlines()[-1])
    return Outcome(kind, detail, errors)
