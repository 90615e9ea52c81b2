"""A ``tf.function`` with a loop, a cond and a Keras model inside.

Default (graph) mode keeps the function a graph — bit-identical results — and records its graph
(loop body and branches included, each op at its source line):

    opscope record examples/tf_function_loop.py -o tf_loop.opscope

Debug mode runs the function eagerly so every op of every iteration can be stepped through:

    opscope record --tf-function-mode debug examples/tf_function_loop.py -o tf_loop_debug.opscope
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def build_cell() -> keras.Model:
    """A small recurrent cell: state, input → new state."""
    keras.utils.set_random_seed(3)
    state = keras.Input((16,), name="state")
    x = keras.Input((16,), name="x")
    mixed = keras.layers.Concatenate(name="mix")([state, x])
    hidden = keras.layers.Dense(16, activation="tanh", name="update")(mixed)
    return keras.Model([state, x], hidden, name="cell")


cell = build_cell()


@tf.function(jit_compile=False)
def unroll(inputs, steps):
    """Run the cell ``steps`` times, then squash or shift the result depending on its sign."""
    state = tf.zeros_like(inputs)
    i = tf.constant(0)
    while i < steps:
        state = cell([state, inputs]) * 0.9 + inputs * 0.1
        i += 1
    if tf.reduce_mean(state) > 0.0:  # noqa: SIM108 (AutoGraph turns this into a tf.cond)
        state = tf.math.sigmoid(state)
    else:
        state = state - tf.reduce_min(state)
    return tf.reduce_sum(state, axis=-1)


def main() -> None:
    inputs = tf.constant(np.random.default_rng(1).standard_normal((4, 16)), tf.float32)
    for steps in (3, 5):
        print(f"steps={steps}:", unroll(inputs, tf.constant(steps)).numpy().round(4))


if __name__ == "__main__":
    main()
