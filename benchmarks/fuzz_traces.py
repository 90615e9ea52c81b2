"""Fuzz the trace reader: thousands of damaged, foreign and hostile files through ``tracing.load``.

Every case is a numbered file built by ``tests.fuzz.cases.make_case`` (SQL-level edits of valid
traces, byte-level damage, WAL leftovers, foreign formats renamed ``.opscope``, FIFOs, folders,
symlink loops...). Worker processes open each file the way the viewer does
(``tests.fuzz.exercise``) under a watchdog; the parent kills a worker whose file takes longer than
``--hard-timeout`` and counts it as a hang. A case fails when it raises anything but
``TraceFileError`` naming the file, takes longer than ``--slow`` seconds, grows the worker's peak
memory by more than the file's size plus a margin, crashes or hangs the worker, or changes the
file. Failing inputs are copied to ``--out`` for triage; any case is rebuilt with ``--replay N``.

    PYTHONPATH=. python benchmarks/fuzz_traces.py --count 10000
    PYTHONPATH=. python benchmarks/fuzz_traces.py --replay 1234
    PYTHONPATH=. python benchmarks/fuzz_traces.py --load-speed --baseline 48e5a63
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import queue
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MEMORY_MARGIN = 64 << 20
"""Peak-RSS growth allowed per file on top of the file's own size (the graph, numpy, caches)."""


# -- worker ------------------------------------------------------------------------------------


def _files_size(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        try:
            candidate = Path(f"{path}{suffix}")
            if candidate.is_file():
                total += candidate.stat().st_size
        except (OSError, ValueError):
            pass
    return total


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _rss_kib(field: str) -> int:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def viewer_available() -> bool:
    """True when the viewer (``gui``, PySide6) can be imported here."""
    try:
        import gui.main_window  # noqa: F401
    except ImportError:
        return False
    return True


def _run_case(
    number: int, seeds: dict, work: Path, base: int, probe=None, slow: float = 2.0
) -> dict:
    from tests.fuzz.cases import make_case
    from tests.fuzz.exercise import exercise, exercise_unprivileged

    folder = work / f"c{number}"
    _remove(folder)
    try:
        case = make_case(number, seeds, folder, base)
    except Exception as exc:
        return {
            "case": number,
            "family": "?",
            "label": "",
            "kind": "generator_error",
            "detail": repr(exc)[:300],
            "error": "",
            "elapsed": 0.0,
            "growth": 0,
            "size": 0,
            "folder": str(folder),
        }
    size = _files_size(case.path)
    measured = _reset_peak_rss()
    rss_before = _rss_kib("VmRSS")
    start = time.perf_counter()
    viewer_kind, viewer_elapsed = "", 0.0
    if case.label.startswith("special: unreadable"):
        outcome = exercise_unprivileged(case.path) or exercise(case.path)
        elapsed = time.perf_counter() - start
    else:
        outcome = exercise(case.path)
        elapsed = time.perf_counter() - start
        if elapsed > slow and not outcome.failed:  # a busy machine, or the file? Time it again.
            again = time.perf_counter()
            exercise(case.path)
            elapsed = min(elapsed, time.perf_counter() - again)
        if probe is not None and not outcome.failed:
            for _ in range(2):
                again = time.perf_counter()
                seen = probe.open(case.path)
                viewer_elapsed = time.perf_counter() - again
                if viewer_elapsed <= slow or seen.failed:
                    break
            viewer_kind = seen.kind
            if seen.failed:
                outcome.kind, outcome.detail = seen.kind, seen.detail
    growth = (_rss_kib("VmHWM") - rss_before) * 1024 if measured else 0
    return {
        "case": number,
        "family": case.family,
        "label": case.label,
        "kind": outcome.kind,
        "detail": outcome.detail,
        "error": outcome.errors[0] if outcome.errors else "",
        "elapsed": elapsed,
        "viewer": viewer_kind,
        "viewer_elapsed": viewer_elapsed,
        "growth": growth,
        "size": size,
        "folder": str(folder),
    }


def _remove(folder: Path) -> None:
    for sub in [folder, *folder.rglob("*")] if folder.exists() else []:
        if sub.is_dir() and not sub.is_symlink():
            sub.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


def worker(seeds_dir: Path, work: Path, base: int, viewer: bool, slow: float) -> None:
    """Read case numbers from stdin, answer one JSON line per case on stdout."""
    from tests.fuzz.exercise import exercise
    from tests.fuzz.seeds import SEED_NAMES

    probe = None
    if viewer:
        from tests.fuzz.viewer import ViewerProbe

        probe = ViewerProbe()
    seeds = {name: seeds_dir / f"seed-{name}.opscope" for name in SEED_NAMES}
    work.mkdir(parents=True, exist_ok=True)
    for seed in seeds.values():  # warm up: imports and caches must not count against case 0
        exercise(seed)
        if probe is not None:
            probe.open(seed)
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write to the answer channel
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        number = int(line)
        result = _run_case(number, seeds, work, base, probe, slow)
        if result["kind"] in ("rejected", "loaded", "loaded_with_errors", "generator_error"):
            _remove(Path(result["folder"]))
        out.write(json.dumps(result) + "\n")
        out.flush()


# -- parent ------------------------------------------------------------------------------------


class Worker:
    """One worker process with a watchdog on each case."""

    def __init__(self, args: argparse.Namespace, seeds_dir: Path, index: int) -> None:
        self.args = args
        self.seeds_dir = seeds_dir
        self.work = Path(args.work) / f"w{index}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                "--seeds",
                str(self.seeds_dir),
                "--work",
                str(self.work),
                "--base",
                str(self.args.base),
                "--slow",
                str(self.args.slow),
                *(["--viewer"] if self.args.viewer else []),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log(),
            env=env,
            text=True,
            bufsize=1,
        )

    def _log(self):
        self.work.mkdir(parents=True, exist_ok=True)
        return open(self.work / "worker.log", "a")

    def run(self, number: int) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
            assert self.proc and self.proc.stdout
            # imports and warm-up (the viewer's window) must not count against the first case
            ready, _, _ = select.select([self.proc.stdout], [], [], 300)
            if not ready or self.proc.stdout.readline().strip() != "ready":
                return self._dead(number, "crash", "worker did not start", time.perf_counter())
        assert self.proc and self.proc.stdin and self.proc.stdout
        start = time.perf_counter()
        try:
            self.proc.stdin.write(f"{number}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return self._dead(number, "crash", "worker died before the case", start)
        ready, _, _ = select.select([self.proc.stdout], [], [], self.args.hard_timeout)
        if not ready:
            return self._dead(number, "hang", f"no answer in {self.args.hard_timeout:.0f} s", start)
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            return self._dead(number, "crash", f"worker exited with {code}", start)
        return json.loads(line)

    def _dead(self, number: int, kind: str, detail: str, start: float) -> dict:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        return {
            "case": number,
            "family": "?",
            "label": "",
            "kind": kind,
            "detail": detail,
            "error": "",
            "elapsed": time.perf_counter() - start,
            "growth": 0,
            "size": 0,
            "folder": str(self.work / f"c{number}"),
        }

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()  # type: ignore[union-attr]
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _judge(result: dict, args: argparse.Namespace) -> str:
    """The final outcome: the worker's, or slow / memory when limits were broken."""
    kind = result["kind"]
    if kind in ("rejected", "loaded", "loaded_with_errors"):
        if result["elapsed"] > args.slow:
            return "slow"
        if result.get("viewer_elapsed", 0.0) > args.slow:
            return "viewer_slow"
        if result["growth"] > MEMORY_MARGIN + 4 * result["size"]:
            return "memory"
    return kind


def _reason(message: str) -> str:
    """A rejection message with the path and numbers taken out, for counting."""
    text = message.split(": ", 1)[-1]
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\d+", "N", text)
    return text[:90]


def _save_failure(result: dict, args: argparse.Namespace, seeds_dir: Path, kind: str) -> str:
    from tests.fuzz.cases import make_case
    from tests.fuzz.seeds import SEED_NAMES

    out = Path(args.out) / f"case-{result['case']}-{kind}"
    _remove(out)
    seeds = {name: seeds_dir / f"seed-{name}.opscope" for name in SEED_NAMES}
    try:
        case = make_case(result["case"], seeds, out, args.base)  # rebuilt: the worker may be dead
        label = f"{case.family}: {case.label}"
    except Exception as exc:
        label = f"could not rebuild: {exc!r}"
    (out / "README.txt").write_text(
        f"case {result['case']} ({label})\noutcome: {kind}\n"
        f"detail: {result['detail']}\nelapsed: {result['elapsed']:.2f} s\n"
        f"replay: PYTHONPATH=. python benchmarks/fuzz_traces.py --replay {result['case']} "
        f"--base {args.base}\n"
    )
    return str(out)


def fuzz(args: argparse.Namespace) -> int:
    from tests.fuzz.seeds import write_seeds

    Path(args.work).mkdir(parents=True, exist_ok=True)
    seeds_dir = Path(args.work) / "seeds"
    write_seeds(seeds_dir)
    cases: queue.Queue[int] = queue.Queue()
    for number in range(args.start, args.start + args.count):
        cases.put(number)
    results: list[dict] = []
    lock = threading.Lock()
    started = time.perf_counter()

    def drive(index: int) -> None:
        w = Worker(args, seeds_dir, index)
        try:
            while True:
                try:
                    number = cases.get_nowait()
                except queue.Empty:
                    return
                result = w.run(number)
                with lock:
                    results.append(result)
                    done = len(results)
                if done % 1000 == 0:
                    rate = done / (time.perf_counter() - started)
                    print(f"  {done}/{args.count} files ({rate:.0f}/s)", file=sys.stderr)
        finally:
            w.stop()

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started

    outcomes = collections.Counter()
    by_family: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    reasons = collections.Counter()
    failures = []
    for result in sorted(results, key=lambda r: r["case"]):
        kind = _judge(result, args)
        outcomes[kind] += 1
        by_family[result["family"]][kind] += 1
        if result["error"]:
            reasons[_reason(result["error"])] += 1
        if kind == "generator_error":
            print(f"  (case {result['case']} could not be built: {result['detail']})")
        elif kind not in ("rejected", "loaded", "loaded_with_errors"):
            failures.append((result, kind, _save_failure(result, args, seeds_dir, kind)))

    viewer = collections.Counter(r.get("viewer") or "not opened" for r in results)
    slowest = max(results, key=lambda r: r["elapsed"])
    slowest_viewer = max(results, key=lambda r: r.get("viewer_elapsed", 0.0))
    biggest = max(results, key=lambda r: r["growth"])
    print(f"fuzzed {len(results)} files in {wall:.0f} s with {args.workers} workers")
    print("outcomes:")
    for kind, count in outcomes.most_common():
        print(f"  {kind:20s} {count:6d}")
    if args.viewer:
        print("in the viewer's window (files that passed tracing.load and every Trace call):")
        print("  " + ", ".join(f"{k} {v}" for k, v in viewer.most_common()))
    print("by family:")
    for family, counter in sorted(by_family.items()):
        print(f"  {family:10s} " + ", ".join(f"{k} {v}" for k, v in counter.most_common()))
    print(
        f"slowest file: case {slowest['case']} {slowest['elapsed'] * 1000:.0f} ms "
        f"({slowest['label'][:80]})"
    )
    if args.viewer:
        print(
            f"slowest in the viewer: case {slowest_viewer['case']} "
            f"{slowest_viewer.get('viewer_elapsed', 0.0) * 1000:.0f} ms "
            f"({slowest_viewer['label'][:80]})"
        )
    print(
        f"largest peak-memory growth: case {biggest['case']} {biggest['growth'] / 2**20:.1f} MiB "
        f"for {biggest['size'] / 1024:.0f} KiB of files"
    )
    print("most common errors:")
    for reason, count in reasons.most_common(args.reasons):
        print(f"  {count:6d}  {reason}")
    if failures:
        print(f"FAILURES ({len(failures)}), inputs saved under {args.out}:")
        for result, kind, saved in failures[:50]:
            print(
                f"  case {result['case']} {kind}: {result['detail'][:160]}  "
                f"[{result['label'][:100]}] -> {saved}"
            )
        return 1
    print("no failures")
    return 0


def replay(args: argparse.Namespace) -> int:
    """Rebuild case ``--replay`` and open it in this process, printing what happened."""
    from tests.fuzz.cases import make_case
    from tests.fuzz.exercise import exercise
    from tests.fuzz.seeds import write_seeds

    seeds = write_seeds(Path(args.work) / "seeds")
    folder = Path(args.work) / f"replay-{args.replay}"
    _remove(folder)
    case = make_case(args.replay, seeds, folder, args.base)
    print(f"case {case.number} ({case.family}): {case.label}\nfile: {case.path}")
    start = time.perf_counter()
    outcome = exercise(case.path)
    print(f"outcome: {outcome.kind} in {time.perf_counter() - start:.3f} s {outcome.detail}")
    for message in outcome.errors:
        print(f"  error: {message[:300]}")
    return 1 if outcome.failed else 0


_TIMER = """
import statistics, sys, time
sys.path.insert(0, sys.argv[1])
import tracing
for path in sys.argv[3:]:
    cpu, wall = [], []
    for _ in range(int(sys.argv[2])):
        c, w = time.process_time(), time.perf_counter()
        tracing.load(path).close()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    print(min(cpu), statistics.median(cpu), min(wall))
"""


def load_speed(args: argparse.Namespace) -> int:
    """Time ``tracing.load`` of a 600-block synthetic trace here and at ``--baseline``."""
    from tracing.synthetic import write_synthetic_trace

    work = Path(args.work) / "load-speed"
    _remove(work)
    baseline = work / "baseline"
    baseline.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", args.baseline, "tracing"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
    traces = []
    for values in (False, True):
        path = work / f"blocks600-values-{values}.opscope"
        write_synthetic_trace(path, blocks=600, values=values)
        traces.append(path)
    best: dict[str, list[list[float]]] = {"baseline": [], "current": []}
    for _ in range(args.rounds):  # alternate, so both see the same machine load
        for name, tree in (("baseline", baseline), ("current", ROOT)):
            done = subprocess.run(
                [sys.executable, "-c", _TIMER, str(tree), str(args.repeats), *map(str, traces)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            best[name].append([float(line.split()[0]) for line in done.stdout.splitlines()])
    print(f"tracing.load, write_synthetic_trace(blocks=600): {args.baseline} vs this tree")
    print("CPU seconds, best of all runs")
    for index, path in enumerate(traces):
        old = min(run[index] for run in best["baseline"])
        new = min(run[index] for run in best["current"])
        print(f"  {path.name:32s} baseline {old * 1000:6.0f} ms  now {new * 1000:6.0f} ms  "
              f"ratio {new / old:.2f}")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="number of files (default 10000)")
    parser.add_argument("--start", type=int, default=0, help="first case number")
    parser.add_argument("--base", type=int, default=0, help="schedule seed")
    parser.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument(
        "--slow", type=float, default=2.0, help="seconds before a file counts as a hang"
    )
    parser.add_argument(
        "--hard-timeout", type=float, default=10.0, help="seconds before a worker is killed"
    )
    parser.add_argument(
        "--out", default="/tmp/opscope-fuzz-failures", help="where failing inputs go"
    )
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "opscope-fuzz-work"))
    parser.add_argument("--reasons", type=int, default=25, help="how many error kinds to list")
    parser.add_argument("--replay", type=int, help="rebuild and open one case in this process")
    parser.add_argument(
        "--load-speed", action="store_true", help="time tracing.load here and at --baseline"
    )
    parser.add_argument("--baseline", default="48e5a63", help="git revision for --load-speed")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (--load-speed)")
    parser.add_argument("--repeats", type=int, default=5, help="loads per round (--load-speed)")
    parser.add_argument(
        "--viewer",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also open every file in the viewer's window, offscreen (default: when gui imports)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seeds", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(Path(args.seeds), Path(args.work), args.base, bool(args.viewer), args.slow)
        return 0
    if args.viewer is None:
        args.viewer = viewer_available()
    if args.replay is not None:
        return replay(args)
    if args.load_speed:
        return load_speed(args)
    return fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
