"""Median time from a debugger key press to every panel updated and painted.

Runs the real window offscreen on a synthetic transformer trace of about 1,000 ops with values
recorded, presses the real keys (F11, F10, Shift+F11, F5, Shift+F10) and times each press until
all panels show the new op, every plot is redrawn and the window has repainted.

Three ways of pressing: one command after another with every plot drawn at once (the headline:
the full work of a single press, with warm caches); presses spaced like a person's, 0.15 s apart
(on a busy machine other processes run in the pauses and cool the caches); and F11 held down,
where the inspector redraws its plots once the cursor rests. Times are wall clock and the UI
thread's CPU time (wall includes waiting for the CPU when the machine is shared). The baseline,
measured in the same run on the same window, is a key press bound to nothing.

    PYTHONPATH=. python benchmarks/step_latency.py [--blocks 62] [--presses 100]

Target: median ≤ 16 ms (one frame at 60 Hz).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gui import coalesce
from gui.app import create_app, wait_until_settled
from gui.main_window import MainWindow
from tracing.synthetic import write_synthetic_trace

TARGET_MS = 16.0


def reference_workload_ms(repeats: int = 15) -> float:
    """Median UI-thread CPU time of a fixed pure-Python loop: how fast this machine is now.

    On an idle recent desktop CPU with CPython 3.11 it takes roughly 10 ms; divide a latency by
    this figure to compare runs on different or differently loaded machines.
    """
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        sum(i * i for i in range(200_000))
        times.append(time.thread_time() - start)
    return statistics.median(times) * 1000


PANELS = ("timeline", "source", "inspector", "call_stack")


def panels_at(window: MainWindow, seq: int) -> bool:
    """True when every panel shows ``seq`` and none works in the background."""
    if window.is_busy():
        return False
    for name in PANELS:
        if getattr(window.panels[name], "shown_seq", seq) != seq:
            return False
    graph = window.panels.get("graph")
    return graph is None or graph.shown_seq == seq


SPACING_S = 0.15


def press(
    window: MainWindow,
    app,
    key: Qt.Key,
    modifier=Qt.KeyboardModifier.NoModifier,
    *,
    mode: str = "isolated",
) -> tuple[float, float]:
    """(wall, UI-thread CPU) seconds from the key press to all panels updated and repainted.

    ``mode``: ``isolated`` (at once, nothing deferred), ``spaced`` (after a 0.15 s pause) or
    ``held`` (at once; plots deferred by the inspector are not waited for).
    """
    held = mode == "held"
    coalesce.RAPID_STEP_S = 0.1 if held else 0.0
    if mode == "spaced":
        deadline = time.perf_counter() + SPACING_S
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.005)
    wall, cpu = time.perf_counter(), time.thread_time()
    QTest.keyClick(window, key, modifier)
    app.processEvents()  # deliver repaints (and anything deferred)
    while not held and not panels_at(window, window.session.index):
        app.processEvents()
    return time.perf_counter() - wall, time.thread_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=62, help="transformer blocks (16 ops each)")
    parser.add_argument("--presses", type=int, default=100, help="presses per command")
    args = parser.parse_args()

    app = create_app(offscreen=True)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bench.opscope"
        write_synthetic_trace(path, blocks=args.blocks, nan_block=args.blocks // 2, values=True)
        from PySide6.QtCore import QSettings

        settings = QSettings(str(Path(scratch) / "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        window.resize(1600, 1000)
        window.show()
        window.activateWindow()
        assert window.open_trace(path)
        wait_until_settled(window)
        session = window.session
        ops = session.op_count
        print(f"trace: {ops} ops, {len(session.trace.module_calls)} module calls, values recorded")
        print(f"graph panel: {'yes' if window.graph is not None else 'not in this build'}")

        shift = Qt.KeyboardModifier.ShiftModifier
        results: dict[str, list[tuple[float, float]]] = {}

        def run(
            name: str,
            key: Qt.Key,
            modifier=Qt.KeyboardModifier.NoModifier,
            n=args.presses,
            mode="isolated",
        ):
            times = []
            for _ in range(n):
                if session.target(_COMMANDS[name]) is None:
                    session.restart()
                    app.processEvents()
                times.append(press(window, app, key, modifier, mode=mode))
            results[name] = times

        for _ in range(20):  # warm up caches (documents, highlighter, plots)
            press(window, app, Qt.Key.Key_F11)
        session.restart()
        run("baseline (unbound key)", Qt.Key.Key_F12)
        run("step into F11", Qt.Key.Key_F11)
        run("step over F10", Qt.Key.Key_F10)
        run("step out Shift+F11", Qt.Key.Key_F11, shift)
        session.go_to(ops - 1)
        run("step back Shift+F10", Qt.Key.Key_F10, shift)
        session.set_op_type_breakpoint("torch.softmax")
        session.restart()
        run("continue F5 (op-type breakpoint)", Qt.Key.Key_F5, n=min(args.presses, args.blocks))
        session.set_op_type_breakpoint("torch.softmax", False)
        session.restart()
        run(SPACED, Qt.Key.Key_F11, mode="spaced")
        session.restart()
        run(HELD, Qt.Key.Key_F11, mode="held")
        wait_until_settled(window)
        window.close()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    reference = reference_workload_ms()
    base = results.pop("baseline (unbound key)")
    base_wall = statistics.median(t[0] for t in base) * 1000
    base_cpu = statistics.median(t[1] for t in base) * 1000
    print(
        f"\nmachine load average: {load:.1f} on {os.cpu_count()} cores (wall times include waiting)"
    )
    print(f"baseline, unbound key press: wall {base_wall:.2f} ms, UI-thread CPU {base_cpu:.2f} ms")
    print(
        f"reference workload (a fixed Python loop, roughly 10 ms on an idle desktop): "
        f"{reference:.1f} ms"
    )
    header = (
        f"{'command':34s} {'wall med':>9s} {'wall p90':>9s} {'CPU med':>9s} {'CPU p10':>9s} "
        f"{'CPU/target':>10s}"
    )
    print(header)
    walls: list[float] = []
    cpus: list[float] = []
    for name, times in results.items():
        wall = [t[0] * 1000 for t in times]
        cpu = [t[1] * 1000 for t in times]
        if name not in (HELD, SPACED):
            walls += wall
            cpus += cpu
        p90 = sorted(wall)[int(0.9 * (len(wall) - 1))]
        p10 = sorted(cpu)[int(0.1 * (len(cpu) - 1))]
        print(
            f"{name:34s} {statistics.median(wall):7.2f}ms {p90:7.2f}ms "
            f"{statistics.median(cpu):7.2f}ms {p10:7.2f}ms "
            f"{statistics.median(cpu) / TARGET_MS:9.2f}x"
        )
    wall_median, cpu_median = statistics.median(walls), statistics.median(cpus)
    print(
        f"\nmedian single press (the five commands above) -> all panels updated and painted: "
        f"wall {wall_median:.2f} ms "
        f"({wall_median / TARGET_MS:.2f}x the {TARGET_MS:.0f} ms target), UI-thread CPU "
        f"{cpu_median:.2f} ms ({cpu_median / TARGET_MS:.2f}x the target; "
        f"{cpu_median / max(base_cpu, 1e-3):.0f}x the unbound-key baseline, "
        f"{cpu_median / reference:.2f}x the reference workload)"
    )
    return 0


HELD = "F11 held down (plots deferred)"
SPACED = "F11 pressed every 0.15 s"

_COMMANDS = {
    HELD: "step",
    SPACED: "step",
    "baseline (unbound key)": "step",
    "step into F11": "step",
    "step over F10": "step_over",
    "step out Shift+F11": "step_out",
    "step back Shift+F10": "step_back",
    "continue F5 (op-type breakpoint)": "continue",
}


if __name__ == "__main__":
    sys.exit(main())
