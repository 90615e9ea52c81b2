"""TensorFlow recording overhead: traced over untraced, both measured in this run.

1. Keras eager: 20 × Dense(64, gelu) at batch 4, one forward call per step. Target ≤ 2x.
2. The same model under ``tf.function`` in OpScope's default graph mode. Target ≤ 1.2x.
3. For comparison, TensorFlow Debugger V2 (``enable_dump_debug_info``, FULL_HEALTH) on the same
   function, and OpScope's debug mode (the function runs eagerly, every inner op recorded)
   against the same untraced graph run.

Rounds interleave the untraced and traced measurements so that load changes on a shared machine
hit both. Rounds last about 1.5 s, several of the trace writer's 0.25 s commits, so its
background thread's work is part of the traced time. Printed: the median of per-round wall-time
ratios (what the verdict uses), the same for the process's CPU time, and the fastest traced
round over the fastest untraced one, which other load disturbs least. Run it on an otherwise
idle machine: on a loaded 2-core box the recorder's per-op Python work slows down far more than
TensorFlow's kernels.

    PYTHONPATH=. python benchmarks/tf_overhead.py [--rounds 7] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np
import tensorflow as tf

import tracing

EAGER_TARGET = 2.0
FUNCTION_TARGET = 1.2


def build_model(layers: int = 20, width: int = 64) -> keras.Model:
    """20 × Dense(64, gelu): the model the TF issue names."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((width,))
    h = inputs
    for i in range(layers):
        h = keras.layers.Dense(width, activation="gelu", name=f"dense_{i}")(h)
    return keras.Model(inputs, h, name="mlp")


class Timing(NamedTuple):
    """Seconds per call: wall clock, and CPU time of the whole process (all threads)."""

    wall: float
    cpu: float


class Comparison(NamedTuple):
    """Medians over rounds: untraced and traced timings, and the per-round ratios."""

    base: Timing
    traced: Timing
    wall_ratio: float
    cpu_ratio: float
    best_ratio: float
    """Fastest traced round over fastest untraced round (least disturbed by other load)."""


def timed(step: Callable[[], object], calls: int) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        step()
    return Timing((time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls)


def calls_per_round(step: Callable[[], object], seconds: float) -> int:
    """How many calls fill ``seconds`` (rounds span several of the writer's 0.25 s commits)."""
    for _ in range(3):
        step()
    once = timed(step, 3).wall
    return max(3, round(seconds / once))


def traced_timing(step: Callable[[], object], calls: int, path: str, **options) -> Timing:
    with tracing.record(path, **options):
        step()  # the first traced call declares sources and walks function graphs
        return timed(step, calls)


def summarize(base: list[Timing], traced: list[Timing]) -> Comparison:
    def median(timings: list[Timing]) -> Timing:
        return Timing(*(statistics.median(values) for values in zip(*timings)))

    return Comparison(
        median(base),
        median(traced),
        statistics.median(t.wall / b.wall for b, t in zip(base, traced)),
        statistics.median(t.cpu / b.cpu for b, t in zip(base, traced)),
        min(t.wall for t in traced) / min(b.wall for b in base),
    )


def compare(
    name: str, step: Callable[[], object], seconds: float, rounds: int, folder: str, **options
) -> Comparison:
    """Untraced and traced rounds of about ``seconds`` each, interleaved."""
    calls = calls_per_round(step, seconds)
    once = traced_timing(step, 1, os.path.join(folder, f"{name}-calibrate.opscope"), **options)
    calls = max(3, min(calls, round(seconds / once.wall)))  # debug mode is far slower
    base, traced = [], []
    for index in range(rounds):
        base.append(timed(step, calls))
        path = os.path.join(folder, f"{name}{index}.opscope")
        traced.append(traced_timing(step, calls, path, **options))
    return summarize(base, traced)


def compare_tfdbg(
    model: keras.Model, batch: tf.Tensor, seconds: float, rounds: int, folder: str
) -> Comparison:
    """The same function under tfdbg v2 FULL_HEALTH dumping (instrumented when traced)."""
    baseline = tf.function(model)
    calls = calls_per_round(lambda: baseline(batch), seconds)
    base, dumped = [], []
    for index in range(rounds):
        base.append(timed(lambda: baseline(batch), calls))
        tf.debugging.experimental.enable_dump_debug_info(
            os.path.join(folder, f"tfdbg{index}"), tensor_debug_mode="FULL_HEALTH"
        )
        try:
            instrumented = tf.function(model)
            for _ in range(3):
                instrumented(batch)
            dumped.append(timed(lambda f=instrumented: f(batch), calls))
        finally:
            tf.debugging.experimental.disable_dump_debug_info()
    return summarize(base, dumped)


def report(label: str, result: Comparison, target: float | None) -> str:
    verdict = ""
    if target is not None:
        verdict = f"   target ≤ {target:.1f}x: {'met' if result.wall_ratio <= target else 'MISSED'}"
    return (
        f"{label:<48} untraced {result.base.wall * 1e3:8.3f} ms  "
        f"traced {result.traced.wall * 1e3:8.3f} ms  ratio {result.wall_ratio:5.2f}x  "
        f"(CPU {result.cpu_ratio:5.2f}x, fastest rounds {result.best_ratio:5.2f}x){verdict}"
    )


def print_now(text: str) -> None:
    print(text, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--seconds", type=float, default=1.5, help="length of a round (1.5)")
    parser.add_argument("--quick", action="store_true", help="short rounds, for a smoke run")
    args = parser.parse_args()
    seconds = 0.3 if args.quick else args.seconds
    model = build_model()
    batch = tf.constant(np.random.default_rng(0).standard_normal((4, 64)), tf.float32)
    function = tf.function(model)
    print_now(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs, "
        f"{args.rounds} rounds, load average {os.getloadavg()[0]:.1f} at start"
    )
    with tempfile.TemporaryDirectory() as folder:
        eager = compare("eager", lambda: model(batch), seconds, args.rounds, folder)
        print_now(report("Keras eager 20×Dense(64, gelu), batch 4", eager, EAGER_TARGET))
        graph = compare("graph", lambda: function(batch), seconds, args.rounds, folder)
        print_now(report("tf.function, OpScope graph mode (default)", graph, FUNCTION_TARGET))
        dump = compare_tfdbg(model, batch, seconds, args.rounds, folder)
        print_now(report("tf.function, tfdbg v2 dump (FULL_HEALTH)", dump, None))
        debug = compare(
            "debug",
            lambda: function(batch),
            seconds,
            args.rounds,
            folder,
            tf_function_mode="debug",
        )
        print_now(report("tf.function, OpScope debug mode (runs eagerly)", debug, None))
    print_now(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
