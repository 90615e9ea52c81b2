"""``opscope export run.opscope -o graph.svg|graph.png``: the graph export command.

``add_arguments(parser)`` and ``run(args) -> int`` are wired into ``opscope`` by ``gui.cli``;
``python -m gui.graph.cli_export`` runs the same command alone. Errors are one line on stderr
and a non-zero exit; progress goes to stderr for big graphs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

BIG_EXPORT_OPS = 2000
"""Traces with more ops than this show progress on stderr."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the export options to ``parser``."""
    parser.add_argument("trace", help="the .opscope trace file")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file: graph.svg (text stays text) or graph.png",
    )
    parser.add_argument(
        "--depth",
        default="auto",
        help="module levels to open: a number (0 = all closed), 'all', or 'auto' (default: "
        "open levels while the picture stays readable)",
    )
    parser.add_argument(
        "--module", default=None, help="export only this module's subgraph (e.g. encoder.layers.0)"
    )
    parser.add_argument("--style", choices=("light", "dark"), default="light", help="colours")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--scale", type=float, default=None, help="PNG pixels per layout pixel (2)")
    size.add_argument("--dpi", type=float, default=None, help="PNG resolution (96 dpi = scale 1)")
    parser.add_argument(
        "--unfold", action="store_true", help="draw repeated blocks one by one, not folded as ×N"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def _parse_depth(text: str) -> int | str | None:
    value = str(text).strip().lower()
    if value == "auto":
        return "auto"
    if value in ("all", "full", "-1"):
        return None
    try:
        depth = int(value)
    except ValueError:
        raise ValueError(f"bad --depth {text!r}: use a number, 'all' or 'auto'") from None
    if depth < 0:
        raise ValueError(f"bad --depth {text!r}: use 0 or more, 'all' or 'auto'")
    return depth


class _StderrProgress:
    """``progress(stage, fraction)`` printing a percentage line to stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = ""
        self.tty = sys.stderr.isatty()
        self.start = time.perf_counter()

    def __call__(self, stage: str, fraction: float) -> None:
        if not self.enabled:
            return
        text = f"exporting: {stage} {round(fraction * 100):3d}%"
        if text == self.last:
            return
        self.last = text
        if self.tty:
            sys.stderr.write("\r" + text)
        elif fraction in (0.0, 1.0) or round(fraction * 100) % 25 == 0:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self.tty:
            sys.stderr.write("\n")


def run(args: argparse.Namespace) -> int:
    """Run the export; 0 on success, 1 on a bad file or option, with one line on stderr."""
    from gui.graph.export import ExportError, ExportOptions, check_output_path, ensure_gui_app

    def fail(message: str) -> int:
        print(f"opscope export: error: {message}", file=sys.stderr)
        return 1

    try:
        depth = _parse_depth(args.depth)
        out = check_output_path(args.output)
    except (ValueError, ExportError) as error:
        return fail(str(error))
    scale = 2.0 if args.scale is None else args.scale
    if args.scale is not None and not 0.1 <= args.scale <= 32:
        return fail(f"bad --scale {args.scale:g}: use a value between 0.1 and 32")
    if args.dpi is not None and not 10 <= args.dpi <= 3072:
        return fail(f"bad --dpi {args.dpi:g}: use a value between 10 and 3072")

    import tracing

    if not os.path.exists(args.trace):
        return fail(f"{args.trace}: no such file")
    try:
        trace = tracing.load(args.trace)
    except tracing.TraceFileError as error:
        return fail(str(error))
    try:
        ensure_gui_app()
        from gui.graph.export import export_graph
        from gui.graph.model import GraphModel
        from gui.graph.qt_fonts import QtMeasure
        from gui.graph.style import style_named

        measure = QtMeasure()
        style = style_named(args.style, measure.family)
        progress = _StderrProgress(not args.quiet and len(trace.ops) > BIG_EXPORT_OPS)
        model = GraphModel(trace, style, measure, budget=None)
        options = ExportOptions(
            path=out,
            depth=depth,
            module=args.module,
            style=args.style,
            scale=scale,
            dpi=args.dpi,
            unfold=args.unfold,
        )
        written = export_graph(model, options, progress)
        progress.done()
    except ExportError as error:
        return fail(str(error))
    finally:
        trace.close()
    if not args.quiet:
        print(f"wrote {written}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="opscope export", description="Export a trace's op graph as SVG or PNG."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
