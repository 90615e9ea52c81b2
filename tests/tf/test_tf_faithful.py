"""Recording TensorFlow never changes what the program computes (bit for bit)."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")

import keras
import numpy as np
import tensorflow as tf

import tracing
from tests.tf import programs


def _record(path, fn, **options):
    with tracing.record(path, **options):
        return fn()


def _equal(a, b) -> bool:
    return np.array_equal(np.asarray(a), np.asarray(b))


@pytest.fixture(scope="module")
def batch():
    return programs.inputs()


@pytest.mark.parametrize(
    "build",
    [programs.functional_model, programs.sequential_model, programs.subclassed_model],
    ids=["functional", "sequential", "subclassed"],
)
@pytest.mark.parametrize("values", [False, True], ids=["summaries", "values"])
def test_tracing_does_not_change_keras_outputs(build, values, batch, tmp_path):
    model = build()
    expected = model(batch, training=False).numpy()
    got = _record(tmp_path / "r.opscope", lambda: model(batch, training=False), values=values)
    assert _equal(got, expected)
    assert len(tracing.load(tmp_path / "r.opscope").ops) > 0


def test_tracing_keeps_dropout_random_streams(batch, tmp_path):
    untraced, traced = programs.sequential_model(), programs.sequential_model()
    expected = [untraced(batch, training=True).numpy() for _ in range(2)]
    with tracing.record(tmp_path / "r.opscope"):
        got = [traced(batch, training=True).numpy() for _ in range(2)]
    assert not _equal(expected[0], expected[1])  # dropout really ran
    assert all(_equal(g, e) for g, e in zip(got, expected))


def test_tracing_does_not_change_a_layer_called_twice(batch, tmp_path):
    model = programs.subclassed_model()
    expected = model(batch).numpy()
    got = _record(tmp_path / "r.opscope", lambda: model(batch), tf_function_mode="debug")
    assert _equal(got, expected)
    trace = tracing.load(tmp_path / "r.opscope")
    assert [c.call_index for c in trace.module_calls if c.path == "shared"] == [1, 2]


@pytest.mark.parametrize("traced_inside", [False, True], ids=["cached", "traced-in-block"])
def test_tracing_does_not_change_a_function_with_loop_and_cond(traced_inside, batch, tmp_path):
    n = tf.constant(3)
    expected = programs.loop_and_cond(batch, n).numpy()
    fn = (
        tf.function(programs.loop_and_cond.python_function, jit_compile=False)
        if traced_inside
        else programs.loop_and_cond
    )
    got = _record(tmp_path / "r.opscope", lambda: fn(batch, n))
    assert _equal(got, expected)
    negative = _record(tmp_path / "neg.opscope", lambda: fn(-batch - 5.0, n))  # the else branch
    assert _equal(negative, programs.loop_and_cond(-batch - 5.0, n))


def test_tracing_does_not_change_a_keras_model_under_tf_function(batch, tmp_path):
    model = programs.functional_model()
    expected = programs.keras_in_function(model)(batch).numpy()
    forward = programs.keras_in_function(model)  # traced inside the recording
    got = _record(tmp_path / "r.opscope", lambda: [forward(batch) for _ in range(2)])
    assert _equal(got[0], expected) and _equal(got[1], expected)


def test_tracing_does_not_change_keras_fit_and_predict(tmp_path):
    rng = np.random.default_rng(0)
    features = rng.standard_normal((48, 16)).astype(np.float32)
    labels = rng.integers(0, 3, 48)

    def train(path=None):
        model = programs.functional_model()
        model.compile(
            optimizer=keras.optimizers.Adam(1e-2),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=False,
        )

        def run():
            model.fit(features, labels, batch_size=16, epochs=2, shuffle=False, verbose=0)
            return model.predict(features, batch_size=16, verbose=0)

        predictions = run() if path is None else _record(path, run)
        return [w.numpy() for w in model.weights], predictions

    weights, predictions = train()
    traced_weights, traced_predictions = train(tmp_path / "fit.opscope")
    assert _equal(traced_predictions, predictions)
    assert all(_equal(a, b) for a, b in zip(traced_weights, weights))
    trace = tracing.load(tmp_path / "fit.opscope")
    calls = [op for op in trace.ops if op.kind == "call"]
    assert calls and all(op.graph_id in {f.graph_id for f in trace.functions} for op in calls)
