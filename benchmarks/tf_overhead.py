"""TensorFlow recording overhead: traced over untraced, both measured in this run.

1. Keras eager: 20 × Dense(64, gelu) at batch 4, one forward call per step. Target ≤ 2x.
2. The same model under ``tf.function`` in OpScope's default graph mode. Target ≤ 1.2x.
3. For comparison, TensorFlow Debugger V2 (``enable_dump_debug_info``, FULL_HEALTH) on the same
   function, and OpScope's debug mode (the function runs eagerly, every inner op recorded)
   against the same untraced graph run.

Rounds interleave the untraced and traced measurements so that load changes on a shared machine
hit both; each printed ratio is the median over rounds. A traced round includes draining the
trace writer (its background thread's work is part of the cost).

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


def seconds_per_call(step: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - start) / calls


def traced_seconds_per_call(step: Callable[[], object], calls: int, path: str, **options) -> float:
    with tracing.record(path, **options) as recorder:
        step()  # the first traced call declares sources and walks function graphs
        start = time.perf_counter()
        for _ in range(calls):
            step()
        assert recorder.writer is not None
        recorder.writer.flush()
        elapsed = time.perf_counter() - start
    return elapsed / calls


def compare(
    name: str, step: Callable[[], object], calls: int, rounds: int, folder: str, **options
) -> tuple[float, float, float]:
    """Median untraced and traced seconds per call, and the median per-round ratio."""
    for _ in range(3):
        step()
    base, traced, ratios = [], [], []
    for index in range(rounds):
        b = seconds_per_call(step, calls)
        path = os.path.join(folder, f"{name}{index}.opscope")
        t = traced_seconds_per_call(step, calls, path, **options)
        base.append(b)
        traced.append(t)
        ratios.append(t / b)
    return statistics.median(base), statistics.median(traced), statistics.median(ratios)


def compare_tfdbg(
    model: keras.Model, batch: tf.Tensor, calls: int, rounds: int, folder: str
) -> tuple[float, float, float]:
    """The same function under tfdbg v2 FULL_HEALTH dumping (instrumented when traced)."""
    baseline = tf.function(model)
    for _ in range(3):
        baseline(batch)
    base, dumped, ratios = [], [], []
    for index in range(rounds):
        b = seconds_per_call(lambda: baseline(batch), calls)
        tf.debugging.experimental.enable_dump_debug_info(
            os.path.join(folder, f"tfdbg{index}"), tensor_debug_mode="FULL_HEALTH"
        )
        try:
            instrumented = tf.function(model)
            for _ in range(3):
                instrumented(batch)
            d = seconds_per_call(lambda f=instrumented: f(batch), calls)
        finally:
            tf.debugging.experimental.disable_dump_debug_info()
        base.append(b)
        dumped.append(d)
        ratios.append(d / b)
    return statistics.median(base), statistics.median(dumped), statistics.median(ratios)


def report(label: str, base: float, traced: float, ratio: float, target: float | None) -> str:
    verdict = ""
    if target is not None:
        verdict = f"  target ≤ {target:.1f}x: {'met' if ratio <= target else 'MISSED'}"
    return (
        f"{label:<44} untraced {base * 1e3:8.3f} ms   traced {traced * 1e3:8.3f} ms   "
        f"ratio {ratio:5.2f}x{verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--quick", action="store_true", help="fewer calls, for a smoke run")
    args = parser.parse_args()
    eager_calls, function_calls = (3, 50) if args.quick else (10, 300)
    model = build_model()
    batch = tf.constant(np.random.default_rng(0).standard_normal((4, 64)), tf.float32)
    function = tf.function(model)
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs, "
        f"{args.rounds} rounds"
    )
    with tempfile.TemporaryDirectory() as folder:
        eager = compare("eager", lambda: model(batch), eager_calls, args.rounds, folder)
        print(report("Keras eager 20×Dense(64, gelu), batch 4", *eager, EAGER_TARGET))
        graph = compare("graph", lambda: function(batch), function_calls, args.rounds, folder)
        print(report("tf.function, OpScope graph mode (default)", *graph, FUNCTION_TARGET))
        dump = compare_tfdbg(model, batch, function_calls, args.rounds, folder)
        print(report("tf.function, tfdbg v2 dump (FULL_HEALTH)", *dump, None))
        debug = compare(
            "debug",
            lambda: function(batch),
            eager_calls,
            args.rounds,
            folder,
            tf_function_mode="debug",
        )
        print(report("tf.function, OpScope debug mode (runs eagerly)", *debug, None))


if __name__ == "__main__":
    main()
