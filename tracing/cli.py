"""``opscope record`` and ``opscope info``: the Qt-free half of the command line.

``gui.cli`` owns the ``opscope`` entry point and forwards these two subcommands here, so
recording a script never loads Qt.

``opscope record`` runs a script the way ``python -m cProfile`` does: as ``__main__``, with
``sys.argv`` set to the script and its arguments, with the script's folder first on
``sys.path``, and it exits with the script's exit code.
"""

from __future__ import annotations

import argparse
import builtins
import importlib.machinery
import os
import runpy
import sys
import threading
import time
import traceback
import types
from collections.abc import Sequence
from pathlib import Path

from tracing.errors import RecordingError, TraceFileError, TraceWriteError
from tracing.info import printable
from tracing.options import TF_FUNCTION_MODES, ValueFilter

PROG = "opscope"
PROGRESS_AFTER_SECONDS = 2.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``record`` or ``info`` with ``argv`` (without the program name)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("record", "info"):
        print(f"{PROG}: error: expected 'record' or 'info'", file=sys.stderr)
        return 2
    if args[0] == "record":
        return record_command(args[1:])
    try:
        code = info_command(args[1:])
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:  # `opscope info run.opscope | head`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush stays quiet
        return 0


def _error(message: object) -> None:
    """``opscope: error: MESSAGE`` on stderr, as one printable line (paths may hold anything)."""
    print(f"{PROG}: error: {printable(message)}", file=sys.stderr)


# -- opscope info ---


def info_parser() -> argparse.ArgumentParser:
    """Arguments of ``opscope info``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} info", description="Print a summary of a trace file."
    )
    parser.add_argument("trace", help="the .opscope file")
    parser.add_argument("--top", type=int, default=10, help="op types to list (default 10)")
    parser.add_argument("--depth", type=int, default=4, help="module tree depth (default 4)")
    parser.add_argument(
        "--ops", type=int, default=0, metavar="N", help="also print the first N ops as a table"
    )
    return parser


def info_command(argv: Sequence[str]) -> int:
    """``opscope info TRACE``: exit 0, or 2 with one line on stderr for a bad file."""
    args = info_parser().parse_args(argv)
    from tracing.info import format_info, format_ops
    from tracing.trace import load

    try:
        with load(args.trace) as trace:
            print(format_info(trace, top=max(args.top, 0), depth=max(args.depth, 1)))
            if args.ops > 0:
                print()
                print(format_ops(trace, trace.ops[: args.ops]))
    except TraceFileError as exc:  # names the file, may quote the trace: one printable line
        _error(exc)
        return 2
    return 0


# -- opscope record ---

_OWN_FLAGS = {"--values": False, "-o": True, "--output": True}


def record_parser() -> argparse.ArgumentParser:
    """Arguments of ``opscope record`` (the script and its arguments come after them)."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} record",
        usage=f"{PROG} record [options] (script.py | -m module) [args ...] [-o run.opscope]",
        description=(
            "Run a Python script under the OpScope recorder, like `python -m cProfile`. "
            "OpScope's options go before the script, or after the script's arguments "
            "(only -o/--output and --values there). When -o is given before the script, "
            "everything after the script is passed to it unchanged."
        ),
    )
    parser.add_argument("-o", "--output", help="trace file to write (default: SCRIPT.opscope)")
    parser.add_argument("--values", action="store_true", help="store every op output's value")
    parser.add_argument(
        "--value-modules",
        nargs="+",
        default=(),
        metavar="GLOB",
        help="store values only for ops in these module paths (globs, e.g. 'encoder.*')",
    )
    parser.add_argument(
        "--value-op-types",
        nargs="+",
        default=(),
        metavar="GLOB",
        help="store values only for these op types (globs, e.g. 'torch.softmax')",
    )
    parser.add_argument(
        "--max-value-bytes",
        type=_byte_size,
        default=None,
        metavar="SIZE",
        help="budget for stored values, e.g. 256M or 2G",
    )
    parser.add_argument(
        "--tf-function-mode",
        choices=TF_FUNCTION_MODES,
        default="graph",
        help="graph: tf.functions run as graphs (default); debug: run them eagerly, op by op",
    )
    parser.add_argument("-m", dest="module", help="run a library module as a script")
    parser.add_argument("--quiet", action="store_true", help="no progress or summary on stderr")
    return parser


def _byte_size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    cleaned = text.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (cleaned[:-1], cleaned[-1]) if cleaned[-1:] in "KMGT" else (cleaned, "")
    try:
        value = float(number) * units[unit]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 256M or 2G)") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a size cannot be negative: {text!r}")
    return int(value)


def split_record_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split into (OpScope's options + script, the script's arguments).

    OpScope's options come before the script; ``-o``/``--output`` and ``--values`` may also
    come after the script's arguments, unless ``-o`` was already given before the script.
    """
    argv = list(argv)
    own: list[str] = []
    index = 0
    takes_value = {"-o", "--output", "-m", "--max-value-bytes", "--tf-function-mode"}
    multi = {"--value-modules", "--value-op-types"}
    while index < len(argv):
        token = argv[index]
        if token == "--":
            index += 1
            break
        if not token.startswith("-") or token == "-":
            own.append(token)  # the script
            index += 1
            break
        own.append(token)
        index += 1
        if token == "-m" and index < len(argv):
            own.append(argv[index])
            index += 1
            break
        if token in takes_value and index < len(argv):
            own.append(argv[index])
            index += 1
        elif token in multi:
            while (
                index < len(argv)
                and not argv[index].startswith("-")
                and not (argv[index].endswith(".py"))
            ):
                own.append(argv[index])
                index += 1
    rest = argv[index:]
    output_given = any(t in ("-o", "--output") or t.startswith("--output=") for t in own)
    if not output_given:
        trailing: list[str] = []
        while rest:
            if rest[-1] == "--values":
                trailing.insert(0, rest.pop())
            elif len(rest) >= 2 and rest[-2] in ("-o", "--output"):
                trailing[:0] = rest[-2:]
                del rest[-2:]
            elif rest[-1].startswith("--output="):
                trailing.insert(0, rest.pop())
            else:
                break
        own.extend(trailing)
    return own, rest


def record_command(argv: Sequence[str]) -> int:
    """``opscope record``: returns the script's exit code (2 for OpScope's own errors)."""
    own, script_args = split_record_args(argv)
    parser = record_parser()
    parser.add_argument("script", nargs="?", help="the Python script to run")
    args = parser.parse_args(own)
    if bool(args.script) == bool(args.module):
        parser.error("give exactly one of a script or -m module")
    if args.script:
        script = Path(args.script)
        if not script.is_file():
            _error(f"no such script: {script}")
            return 2
        output = Path(args.output or script.with_suffix(".opscope").name)
        display = str(script)
    else:
        output = Path(args.output or f"{args.module.rsplit('.', 1)[-1]}.opscope")
        display = f"-m {args.module}"
    values: bool | ValueFilter = bool(args.values)
    if args.value_modules or args.value_op_types:
        values = ValueFilter(modules=args.value_modules, op_types=args.value_op_types)
    from tracing.recorder import Recorder

    try:
        recorder = Recorder(
            output,
            values=values,
            tf_function_mode=args.tf_function_mode,
            max_value_bytes=args.max_value_bytes,
        )
    except (TypeError, ValueError) as exc:
        _error(exc)
        return 2
    progress = None if args.quiet else _Progress(recorder, output)
    started = time.monotonic()
    try:
        code = _run_under(recorder, args.script, args.module, script_args, progress)
    except (TraceWriteError, RecordingError) as exc:
        _error(exc)
        return 2
    if progress is not None:
        progress.stop()
        elapsed = time.monotonic() - started
        print(
            f"{PROG}: recorded {recorder.op_count:,} ops from {printable(display)} "
            f"in {elapsed:.1f} s → {printable(output)}",
            file=sys.stderr,
        )
    return code


def _run_under(
    recorder,
    script: str | None,
    module: str | None,
    script_args: list[str],
    progress: _Progress | None,
) -> int:
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    if script:
        path = os.path.abspath(script)
        sys.argv = [script, *script_args]
        sys.path.insert(0, os.path.dirname(path))
        with open(path, "rb") as handle:
            source = handle.read()
        try:
            code = compile(source, path, "exec")
        except SyntaxError:
            traceback.print_exc(limit=0)
            sys.argv, sys.path[:] = saved_argv, saved_path
            return 1
        main_module = _script_module(path)
    else:
        sys.argv = [module or "", *script_args]
        sys.path.insert(0, os.getcwd())
    exit_code = 0
    saved_main = sys.modules.get("__main__")
    try:
        with recorder:
            if progress is not None:
                progress.start()
            if script:
                # A real module in sys.modules, as for `python script.py`: pickle and
                # torch.save find the script's classes there, inspect finds its source.
                sys.modules["__main__"] = main_module
                exec(code, main_module.__dict__)
            else:
                recorder.add_internal_dir(runpy.__file__)
                runpy.run_module(module or "", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        exit_code = _exit_code(exc.code)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; the trace holds every op up to the interrupt", file=sys.stderr)
        exit_code = 130
    except (TraceWriteError, RecordingError):
        raise
    except BaseException:
        # Print the script's own traceback, as `python script.py` would, minus our frames.
        etype, value, tb = sys.exc_info()
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        traceback.print_exception(etype, value, tb)
        exit_code = 1
    finally:
        if progress is not None:
            progress.stop()
        sys.argv, sys.path[:] = saved_argv, saved_path
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
        else:
            sys.modules.pop("__main__", None)
    return exit_code


def _script_module(path: str) -> types.ModuleType:
    """A fresh ``__main__`` module with the attributes Python gives a script it runs."""
    module = types.ModuleType("__main__")
    module.__dict__.update(
        __file__=path,
        __builtins__=builtins,
        __package__=None,
        __spec__=None,
        __loader__=importlib.machinery.SourceFileLoader("__main__", path),
        __cached__=None,
    )
    return module


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


class _Progress:
    """Prints ``recording… N ops`` on stderr while a long recording runs."""

    def __init__(self, recorder, output: Path) -> None:
        self._recorder = recorder
        self._output = output
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._printed = False
        self._tty = sys.stderr.isatty()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="opscope-progress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        interval = 0.5 if self._tty else 10.0
        if self._stop.wait(PROGRESS_AFTER_SECONDS):
            return
        while not self._stop.is_set():
            elapsed = time.monotonic() - started
            text = f"{PROG}: recording… {self._recorder.op_count:,} ops, {elapsed:.0f} s"
            if self._tty:
                sys.stderr.write("\r" + text)
            else:
                sys.stderr.write(text + "\n")
            sys.stderr.flush()
            self._printed = True
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._printed and self._tty:
            sys.stderr.write("\n")
            self._printed = False


if __name__ == "__main__":
    sys.exit(main())
