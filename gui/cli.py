"""The ``opscope`` command: demo, view, export, and record/info (delegated to tracing.cli).

Importing this module imports no Qt, so ``opscope record`` and ``opscope info`` stay light;
the window is imported only by the commands that open it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path

import tracing
from tracing.errors import TraceFileError
from tracing.reader import TraceReader

GRAPH_EXPORT_MODULE = "gui.graph.cli_export"
TRACING_CLI_MODULE = "tracing.cli"
DELEGATED = ("record", "info")


def main(argv: list[str] | None = None) -> int:
    """Run ``opscope`` with ``argv`` (default: the process arguments); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in DELEGATED:
            return _run_tracing_cli(args)
        if args and args[0] == "export":
            return _run_export(args[1:])
        options = build_parser().parse_args(args)
        if options.command is None:
            build_parser().print_help()
            return 0
        return options.handler(options)
    except SystemExit as exc:  # argparse's own errors and --help
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``opscope`` (record, info and export are listed for --help)."""
    parser = argparse.ArgumentParser(
        prog="opscope",
        description="Record PyTorch/TensorFlow runs op by op and step through them.",
    )
    parser.add_argument("--version", action="version", version=f"opscope {tracing.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="record a built-in example with a hidden NaN and open it"
    )
    demo.add_argument(
        "--shipped",
        action="store_true",
        help="open the demo trace shipped with OpScope instead of recording it with PyTorch",
    )
    _add_view_options(demo)
    demo.set_defaults(handler=_demo)

    view = commands.add_parser("view", help="open a trace in the debugger window")
    view.add_argument("path", nargs="?", type=Path, help="the .opscope trace to open")
    _add_view_options(view)
    view.set_defaults(handler=_view)

    commands.add_parser("export", help="save a trace's graph as SVG or PNG", add_help=False)
    commands.add_parser("record", help="run a Python script and record its ops", add_help=False)
    commands.add_parser("info", help="print a summary of a trace", add_help=False)
    return parser


def _add_view_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="render the window offscreen, save it to this image file and exit",
    )
    parser.add_argument(
        "--goto",
        metavar="first-nonfinite|SEQ",
        help="start at the first op with a NaN/Inf output, or at op SEQ",
    )
    parser.add_argument(
        "--size", default="1600x1000", metavar="WxH", help="window size (default 1600x1000)"
    )
    parser.add_argument(
        "--theme", choices=("system", "light", "dark"), help="colour theme (default: system)"
    )


def _fail(message: str, code: int = 1) -> int:
    print(f"opscope: error: {message}", file=sys.stderr)
    return code


def _demo(options: argparse.Namespace) -> int:
    from gui.demo import demo_trace

    if not options.shipped:
        print("opscope: recording the demo model…", file=sys.stderr)
    path, note = demo_trace(record=not options.shipped)
    print(f"opscope: {note}", file=sys.stderr)
    options.path = path
    return _view(options)


def _view(options: argparse.Namespace) -> int:
    size = _parse_size(options.size)
    if size is None:
        return _fail(f"--size must look like 1600x1000, not {options.size!r}", 2)
    if options.path is not None:
        problem = check_trace_file(options.path)
        if problem is not None:
            return _fail(problem)
    goto = _parse_goto(options.goto, options.path)
    if isinstance(goto, str) and goto.startswith("error:"):
        return _fail(goto[len("error: ") :], 2)
    screenshot = options.screenshot
    if screenshot is not None:
        folder = screenshot.expanduser().resolve().parent
        if not folder.is_dir():
            return _fail(f"cannot write the screenshot: {folder} is not a folder")
        if screenshot.suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp", ".webp"):
            return _fail("the screenshot must be a .png, .jpg, .bmp or .webp file", 2)
    from gui.app import run_viewer

    return run_viewer(
        options.path, screenshot=screenshot, goto=goto, size=size, theme=options.theme
    )


def check_trace_file(path: Path) -> str | None:
    """Why ``path`` cannot be opened as a trace, found quickly (None when it looks like one).

    Only the file's header, schema and meta are read, so a bad path fails at once on the
    command line; the ops are read later, in the window's worker thread (a big trace takes
    seconds).
    """
    try:
        TraceReader(path).close()
    except TraceFileError as exc:
        return str(exc)
    return None


def _parse_size(text: str) -> tuple[int, int] | None:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        return None
    if not (200 <= width <= 10_000 and 200 <= height <= 10_000):
        return None
    return width, height


def _parse_goto(text: str | None, path: Path | None) -> str | int | None:
    """``first-nonfinite`` or an op number (checked against the trace once it is read)."""
    if text is None:
        return None
    if path is None:
        return "error: --goto needs a trace to open"
    if text == "first-nonfinite":
        return text
    try:
        seq = int(text)
    except ValueError:
        return f"error: --goto takes first-nonfinite or an op number, not {text!r}"
    if seq < 0:
        return f"error: --goto {seq}: op numbers start at 0"
    return seq


def _run_tracing_cli(argv: list[str]) -> int:
    if importlib.util.find_spec(TRACING_CLI_MODULE) is None:
        return _fail(
            f"'opscope {argv[0]}' is not available in this build (no {TRACING_CLI_MODULE})"
        )
    module = importlib.import_module(TRACING_CLI_MODULE)
    return int(module.main(argv) or 0)


def _run_export(argv: list[str]) -> int:
    try:
        available = importlib.util.find_spec(GRAPH_EXPORT_MODULE) is not None
    except ModuleNotFoundError:
        available = False
    if not available:
        return _fail("'opscope export' is not available in this build (no graph exporter)")
    module = importlib.import_module(GRAPH_EXPORT_MODULE)
    parser = argparse.ArgumentParser(
        prog="opscope export", description="Save a trace's graph as SVG or PNG."
    )
    module.add_arguments(parser)
    return int(module.run(parser.parse_args(argv)) or 0)


if __name__ == "__main__":
    sys.exit(main())
