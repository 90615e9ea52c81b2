"""The TF backend leaves nothing behind, works without TensorFlow, and runs under the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")

import keras
import tensorflow as tf
from tensorflow.python.eager import context, execute
from tensorflow.python.framework import op_callbacks

import tracing
from tests.subprocesses import assert_prints_ok
from tests.tf import programs

ROOT = Path(__file__).resolve().parents[2]


def _global_state():
    return (
        list(context.context().op_callbacks),
        execute.execute,
        keras.layers.Layer.__dict__["__call__"],
        tf.config.functions_run_eagerly(),
    )


class Boom(keras.layers.Layer):
    def call(self, x):
        raise ValueError("boom inside a layer")


@pytest.mark.parametrize("mode", ["graph", "debug"])
def test_recorder_leaves_no_callbacks_patches_or_settings_even_when_the_block_raises(
    mode, tmp_path
):
    model = programs.subclassed_model()
    before = _global_state()
    path = tmp_path / "raised.opscope"
    with pytest.raises(ValueError, match="boom"):
        with tracing.record(path, tf_function_mode=mode):
            model(programs.inputs())
            Boom(name="boom")(tf.ones((2, 3)))
    assert _global_state() == before
    trace = tracing.load(path)
    assert trace.meta.complete and "boom inside a layer" in trace.meta.error
    assert trace.ops and all(call.exit_order >= 0 for call in trace.module_calls)
    assert "boom" in {call.path for call in trace.module_calls}
    trace.lint()
    model(programs.inputs())  # the model still runs normally afterwards


def test_a_users_own_op_callback_survives_the_recording(tmp_path):
    seen = []

    def users_callback(op_type, inputs, attrs, outputs, op_name=None, graph=None):
        seen.append(op_type)

    op_callbacks.add_op_callback(users_callback)
    try:
        with tracing.record(tmp_path / "r.opscope"):
            tf.exp(tf.ones(2))
        assert context.context().op_callbacks == [users_callback]
        assert execute.execute is execute.execute_with_callbacks
        seen.clear()
        tf.exp(tf.ones(2))
        assert "Exp" in seen
    finally:
        op_callbacks.remove_op_callback(users_callback)
    assert execute.execute is execute.quick_execute


def test_recording_without_tensorflow_works_and_never_imports_it(tmp_path):
    code = (
        "import sys\n"
        "sys.modules['tensorflow'] = None  # as if TensorFlow were not installed\n"
        "import tracing\n"
        f"with tracing.record({str(tmp_path / 'n.opscope')!r}):\n"
        "    pass\n"
        f"trace = tracing.load({str(tmp_path / 'n.opscope')!r})\n"
        "assert len(trace.ops) == 0 and trace.meta.complete\n"
        "assert 'tracing.tf_backend' not in sys.modules and 'keras' not in sys.modules\n"
        "print('ok')\n"
    )
    assert_prints_ok(code, timeout=120)


def test_keras_imported_after_tensorflow_inside_the_block_gives_layer_modules(tmp_path):
    code = (
        "import tracing\n"
        f"with tracing.record({str(tmp_path / 'o.opscope')!r}):\n"
        "    import tensorflow as tf\n"
        "    import keras\n"
        "    layer = keras.layers.Dense(2, name='late_dense')\n"
        "    layer(tf.ones((1, 3)))\n"
        f"trace = tracing.load({str(tmp_path / 'o.opscope')!r})\n"
        "assert [c.path for c in trace.module_calls] == ['late_dense'], trace.module_calls\n"
        "assert 'MatMul' in trace.op_type_counts()\n"
        "assert keras.layers.Layer.__call__.__module__ == 'keras.src.layers.layer'\n"
        "assert keras.layers.Layer.__call__.__code__.co_filename.startswith(\n"
        "    keras.__file__.rsplit('/', 1)[0])\n"
        "print('ok')\n"
    )
    assert_prints_ok(code, cwd=tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "3"})


def test_opscope_record_runs_a_tensorflow_script(tmp_path):
    # the example imports keras first, which imports TensorFlow while Keras is half-initialised
    script = ROOT / "examples" / "tf_keras_nan.py"
    output = tmp_path / "nan.opscope"
    result = subprocess.run(
        [sys.executable, "-m", "tracing.cli", "record", str(script), "-o", str(output)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr
    assert "probabilities contain NaN: True" in result.stdout
    trace = tracing.load(output)
    assert trace.framework == "tensorflow"
    first = trace.first_nonfinite()
    assert first is not None and first.op_type == "Log1p"
    assert first.file == str(script) and first.module_path == "block_1/log_features"
    assert "log_features" in {call.path.rsplit("/", 1)[-1] for call in trace.module_calls}
