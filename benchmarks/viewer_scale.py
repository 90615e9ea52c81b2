"""How the graph viewer scales: 3-op baseline against ~1k, ~10k and ~50k-op traces.

For each size, in a fresh process (so each peak memory and first frame is its own):
  * load        ``tracing.load`` of the trace file
  * first frame load + GraphPanel built, laid out and painted (offscreen), from the same start
  * expand      opening a closed block never opened before: request → new layout painted
  * step        ``session.go_to`` until the graph panel has repainted what changed (median
                over the ops of one open block, and the first op of the next blocks)
  * repaint     one full repaint of the graph viewport (what a scroll costs)
  * follow      stepping into the next block with Follow on (its layout runs on a thread)
  * layout      igraph Sugiyama vs Graphviz ``dot -Tplain`` on the same flat op graph (``dot``
                skipped when not installed, or when it passes its time limit)
  * memory      peak resident memory of the process
  * window      the whole debugger window as ``opscope view`` opens it, in its own process:
                time until the window is on screen (before the trace is read), until the trace
                is shown with every panel settled and painted (its first frame), and the
                longest pause of the UI thread's event loop meanwhile
Targets (issue 6): 10k first frame ≤ 3-op first frame + 3 s (graph panel and whole window),
expand ≤ 150 ms, step ≤ 16 ms, 50k memory ≤ 1.5 GB. Ratios are against the 3-op trace measured
in the same run.

    PYTHONPATH=. python benchmarks/viewer_scale.py [--sizes 60,600,3000] [--dot-timeout 120]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OPS_PER_BLOCK = 16
TARGET_FIRST_FRAME_EXTRA_S = 3.0
TARGET_EXPAND_MS = 150.0
TARGET_STEP_MS = 16.0
TARGET_MEMORY_MB = 1536.0


# -- traces ---


def make_traces(workdir: Path, sizes: list[int]) -> dict[str, Path]:
    """The baseline 3-op trace and synthetic traces of ``blocks`` blocks (cached on disk)."""
    from tests.graph.builders import tiny_trace
    from tracing.synthetic import write_synthetic_trace

    traces = {"3 ops": workdir / "tiny.opscope"}
    if not traces["3 ops"].exists():
        tiny_trace(traces["3 ops"])
    for blocks in sizes:
        path = workdir / f"synthetic-{blocks}.opscope"
        if not path.exists():
            write_synthetic_trace(path, blocks=blocks)
        traces[f"{blocks} blocks"] = path
    return traces


# -- one size, in a child process ---


def _pump(app, until, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not until():
        app.processEvents()
        if time.perf_counter() > deadline:
            raise TimeoutError("the graph panel did not finish its layout")
        time.sleep(0.0005)


def measure_one(path: Path, dot_timeout: float) -> dict:
    """All measurements for one trace (runs in its own process)."""
    import resource

    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication

    import tracing
    from gui.graph.panel import GraphPanel

    app = QApplication.instance() or QApplication([])

    class Session(QObject):
        sig_trace_loaded = Signal()
        sig_current_op_changed = Signal(int)

        def __init__(self) -> None:
            super().__init__()
            self.trace = None
            self.index = 0

        @property
        def current(self):
            return self.trace.ops[self.index] if self.trace and self.trace.ops else None

        def go_to(self, seq: int) -> None:
            self.index = seq
            self.sig_current_op_changed.emit(seq)

    session = Session()
    panel = GraphPanel(session)
    panel.resize(1200, 900)
    panel.show()
    app.processEvents()

    def idle() -> bool:
        return panel.model is not None and not panel.is_busy()

    def paint() -> None:
        panel.view.viewport().repaint()

    result: dict = {}
    cpu0 = time.process_time()
    start = time.perf_counter()
    trace = tracing.load(path)
    result["load_s"] = time.perf_counter() - start
    result["load_cpu_s"] = time.process_time() - cpu0
    session.trace = trace
    session.sig_trace_loaded.emit()
    _pump(app, idle)
    paint()
    result["first_frame_s"] = time.perf_counter() - start
    result["first_frame_cpu_s"] = time.process_time() - cpu0
    result["ops"] = len(trace.ops)
    result["visible_nodes"] = len(panel.scene.items_by_id)

    model = panel.model
    h = model.hierarchy
    runs = h.runs.get("root", [])
    blocks = list(runs[0]) if runs else []

    # expand: closed blocks never opened before
    expand_ms = []
    if len(blocks) >= 3:
        panel.follow_button.setChecked(False)
        picks = sorted({blocks[i] for i in (1, len(blocks) // 3, len(blocks) // 2, -2)})
        for block in picks:
            model.expansion.unfolded.add(block)
            panel._request_layout()
            _pump(app, idle)
            paint()
            t = time.perf_counter()
            panel.expand(block)
            _pump(app, idle)
            paint()
            expand_ms.append((time.perf_counter() - t) * 1000)
            panel.collapse(block)
            _pump(app, idle)
        attn = next(c for c in h.children(picks[0]) if h.nodes[c].label == "attn")
        panel.expand(picks[0])
        _pump(app, idle)
        t = time.perf_counter()
        panel.expand(attn)
        _pump(app, idle)
        paint()
        result["expand_nested_ms"] = (time.perf_counter() - t) * 1000
        series = next((i for i in panel.scene.items_by_id if i.startswith("series:")), None)
        if series is not None:
            members = len(model.visible.series[series].members)
            t = time.perf_counter()
            panel.expand(series)
            _pump(app, idle)
            paint()
            result["unfold_series_ms"] = (time.perf_counter() - t) * 1000
            result["unfold_series_blocks"] = members
        panel.collapse_all()
        _pump(app, idle)
    result["expand_ms"] = expand_ms

    # steps inside one open block, and into the next blocks with Follow on
    panel.follow_button.setChecked(True)
    _pump(app, idle)
    step_ms = []
    follow_ms = []
    if blocks:
        middle = blocks[len(blocks) // 2]
        first = h.nodes[middle].seq
        session.go_to(first)
        _pump(app, idle)
        paint()
        for seq in range(first + 1, h.nodes[middle].last_seq + 1):
            t = time.perf_counter()
            session.go_to(seq)
            app.processEvents()
            step_ms.append((time.perf_counter() - t) * 1000)
            _pump(app, idle)
        for block in blocks[len(blocks) // 2 + 1 : len(blocks) // 2 + 6]:
            t = time.perf_counter()
            session.go_to(h.nodes[block].seq)
            app.processEvents()
            step_ms.append((time.perf_counter() - t) * 1000)
            _pump(app, idle)
            app.processEvents()
            follow_ms.append((time.perf_counter() - t) * 1000)
    else:
        for seq in range(len(trace.ops)):
            t = time.perf_counter()
            session.go_to(seq)
            app.processEvents()
            step_ms.append((time.perf_counter() - t) * 1000)
            _pump(app, idle)
    repaints = []
    for _ in range(10):
        t = time.perf_counter()
        paint()
        repaints.append((time.perf_counter() - t) * 1000)
    result["repaint_ms"] = statistics.median(repaints)
    result["step_ms"] = step_ms
    result["follow_ms"] = follow_ms
    result.update(layout_engines(trace, dot_timeout))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def measure_window(path: Path) -> dict:
    """The debugger window opening ``path`` as ``opscope view`` does (runs in its own process).

    Times count from the moment the window is created: until it is on screen (empty, with a
    busy bar), until the trace is shown with every panel settled and painted (the first frame
    of the trace), and the longest gap between two runs of the event loop meanwhile (how long
    the window could not react to input).
    """
    import tempfile

    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

    from gui.app import create_app
    from gui.main_window import MainWindow

    app = create_app(offscreen=True)
    scratch = tempfile.mkdtemp()
    settings = QSettings(str(Path(scratch) / "s.ini"), QSettings.Format.IniFormat)
    gaps: list[float] = []
    clock = QElapsedTimer()
    ticker = QTimer(interval=5)

    def tick() -> None:
        gaps.append(clock.restart() / 1000)

    ticker.timeout.connect(tick)
    start = time.perf_counter()
    window = MainWindow(settings=settings)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    window.repaint()
    shown = time.perf_counter() - start
    clock.start()
    ticker.start()
    window.open_trace(path, background=True)
    quiet = 0
    deadline = time.perf_counter() + 120
    while quiet < 3 and time.perf_counter() < deadline:
        app.processEvents()
        quiet = 0 if window.is_busy() else quiet + 1
        time.sleep(0.001)
    window.repaint()
    first_frame = time.perf_counter() - start
    ticker.stop()
    ops = len(window.session.trace.ops) if window.session.trace else 0
    window.close()
    return {
        "window_shown_s": shown,
        "window_first_frame_s": first_frame,
        "window_longest_stall_s": max(gaps, default=0.0),
        "window_ops": ops,
    }


def flat_graph(trace) -> tuple[int, list[tuple[int, int]], list[str]]:
    """The op graph without parameters: vertices = ops and inputs, edges = tensors."""
    from gui.graph.hierarchy import ANNOTATION_SOURCES
    from gui.graph.labels import short_op_name

    kinds = {s.node_id: s.kind for s in trace.source_nodes}
    index: dict[str, int] = {}
    labels: list[str] = []
    for source in trace.source_nodes:
        if source.kind not in ANNOTATION_SOURCES:
            index[source.node_id] = len(labels)
            labels.append(source.name)
    for op in trace.ops:
        index[op.node_id] = len(labels)
        labels.append(short_op_name(op.op_type))
    edges = []
    for op in trace.ops:
        for ref in op.inputs:
            if kinds.get(ref.source) in ANNOTATION_SOURCES or ref.source not in index:
                continue
            edges.append((index[ref.source], index[op.node_id]))
    return len(labels), edges, labels


def layout_engines(trace, dot_timeout: float) -> dict:
    """igraph vs Graphviz ``dot`` on the same flat graph."""
    import igraph

    n, edges, labels = flat_graph(trace)
    out: dict = {"flat_nodes": n, "flat_edges": len(edges)}
    t = time.perf_counter()
    igraph.Graph(n=n, edges=edges, directed=True).layout_sugiyama()
    out["igraph_s"] = time.perf_counter() - t
    dot = shutil.which("dot")
    if dot is None:
        out["dot_s"] = None
        out["dot_note"] = "dot not installed"
        return out
    lines = ["digraph G {", "node [shape=box];"]
    lines += [f'n{i} [label="{label}"];' for i, label in enumerate(labels)]
    lines += [f"n{a} -> n{b};" for a, b in edges]
    lines.append("}")
    text = "\n".join(lines)
    t = time.perf_counter()
    try:
        subprocess.run(
            [dot, "-Tplain"], input=text, capture_output=True, text=True, timeout=dot_timeout
        )
        out["dot_s"] = time.perf_counter() - t
    except subprocess.TimeoutExpired:
        out["dot_s"] = None
        out["dot_note"] = f"> {dot_timeout:g} s (stopped)"
    return out


# -- the report ---


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(results: dict[str, dict]) -> None:
    base = results["3 ops"]
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end "
        "(wall times stretch when other processes compete for the cores; CPU times less so)"
    )
    header = (
        f"{'trace':>12} {'ops':>7} {'load s':>7} {'1st frame s':>11} {'vs 3-op':>8} "
        f"{'expand ms':>15} {'step ms':>14} {'follow ms':>10} {'igraph s':>9} {'dot s':>12} "
        f"{'peak MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        expand = (
            f"{_median(r['expand_ms']):6.0f} (max {max(r['expand_ms']):4.0f})"
            if r["expand_ms"]
            else "-"
        )
        step = f"{_median(r['step_ms']):5.1f} (p95 {_p95(r['step_ms']):4.1f})"
        follow = f"{_median(r['follow_ms']):.0f}" if r["follow_ms"] else "-"
        dot = f"{r['dot_s']:.2f}" if r.get("dot_s") is not None else r.get("dot_note", "-")
        print(
            f"{name:>12} {r['ops']:>7} {r['load_s']:7.2f} {r['first_frame_s']:11.2f} "
            f"{r['first_frame_s'] - base['first_frame_s']:+8.2f} {expand:>15} {step:>14} "
            f"{follow:>10} {r['igraph_s']:9.3f} {dot:>12} {r['peak_rss_mb']:8.0f}"
        )
    print()
    for name, r in results.items():
        extra = []
        if "expand_nested_ms" in r:
            extra.append(f"open a nested group {r['expand_nested_ms']:.0f} ms")
        if "unfold_series_ms" in r:
            extra.append(
                f"unfold the ×{r['unfold_series_blocks']} series {r['unfold_series_ms']:.0f} ms"
            )
        extra.append(
            f"CPU: load {r['load_cpu_s']:.2f} s, first frame {r['first_frame_cpu_s']:.2f} s "
            f"(graph panel {r['first_frame_cpu_s'] - r['load_cpu_s']:.2f} s)"
        )
        extra.append(f"full viewport repaint {r['repaint_ms']:.1f} ms")
        extra.append(f"{r['visible_nodes']} nodes in the first view")
        print(f"{name:>12}: " + "; ".join(extra))
    print()
    print("the whole window (opscope view): shown at once, trace read in a worker thread")
    print(f"{'trace':>12} {'shown s':>8} {'first frame s':>14} {'vs 3-op':>8} {'UI stall s':>11}")
    for name, r in results.items():
        print(
            f"{name:>12} {r['window_shown_s']:8.2f} {r['window_first_frame_s']:14.2f} "
            f"{r['window_first_frame_s'] - base['window_first_frame_s']:+8.2f} "
            f"{r['window_longest_stall_s']:11.2f}"
        )
    print()
    checks = []
    ten_k = _closest(results, 10_000)
    if ten_k:
        extra = results[ten_k]["first_frame_s"] - base["first_frame_s"]
        checks.append((f"first frame {ten_k} - 3 ops", extra, TARGET_FIRST_FRAME_EXTRA_S, "s"))
        extra = results[ten_k]["window_first_frame_s"] - base["window_first_frame_s"]
        checks.append(
            (f"window first frame {ten_k} - 3 ops", extra, TARGET_FIRST_FRAME_EXTRA_S, "s")
        )
    expands = [v for r in results.values() for v in r["expand_ms"]]
    if expands:
        checks.append(
            ("expand a group (median, all sizes)", _median(expands), TARGET_EXPAND_MS, "ms")
        )
    steps = [v for r in results.values() for v in r["step_ms"]]
    checks.append(("step latency (median, all sizes)", _median(steps), TARGET_STEP_MS, "ms"))
    fifty_k = _closest(results, 50_000)
    if fifty_k:
        checks.append(
            (f"peak memory {fifty_k}", results[fifty_k]["peak_rss_mb"], TARGET_MEMORY_MB, "MB")
        )
    for label, value, target, unit in checks:
        verdict = "ok" if value <= target else "MISSED"
        print(
            f"{label:>40}: {value:8.2f} {unit} (target ≤ {target:g} {unit}, "
            f"{value / target:5.2f}× of it) {verdict}"
        )


def _closest(results: dict[str, dict], ops: int) -> str | None:
    candidates = [
        (abs(r["ops"] - ops) / ops, name) for name, r in results.items() if name != "3 ops"
    ]
    close = [c for c in candidates if c[0] < 0.25]
    return min(close)[1] if close else None


def _child(argv: list[str], env: dict[str, str]) -> dict | None:
    """Run this script with ``argv`` in a fresh process; its JSON result (None on failure)."""
    done = subprocess.run(
        [sys.executable, __file__, *argv], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="60,600,3000", help="blocks per trace (16 ops each)")
    parser.add_argument("--workdir", default=None, help="where the traces are kept")
    parser.add_argument("--dot-timeout", type=float, default=120.0)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--window", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(Path(args.one), args.dot_timeout)))
        return 0
    if args.window:
        print(json.dumps(measure_window(Path(args.window))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    workdir = Path(args.workdir or Path(tempfile.gettempdir()) / "opscope-viewer-bench")
    workdir.mkdir(parents=True, exist_ok=True)
    traces = make_traces(workdir, sizes)
    results = {}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name, path in traces.items():
        print(f"measuring {name} ({path.name})…", file=sys.stderr, flush=True)
        one = _child(["--one", str(path), "--dot-timeout", str(args.dot_timeout)], env)
        window = _child(["--window", str(path)], env)
        if one is None or window is None:
            return 1
        results[name] = {**one, **window}
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
