"""A Keras 3 model whose forward pass hides a NaN: record it and find the line.

    opscope record examples/tf_keras_nan.py -o tf_keras_nan.opscope --values
    opscope view tf_keras_nan.opscope      # then "Run to first NaN/Inf"

The ``LogFeatures`` layer takes the log of its input; the dense layer in front of it makes some
of those inputs negative, so the log produces NaN, which then spreads through the head.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


class LogFeatures(keras.layers.Layer):
    """log(1 + x): fine for x > -1, NaN below (the bug this example hides)."""

    def call(self, x):
        return tf.math.log1p(x)  # NaN once x < -1


class Block(keras.layers.Layer):
    """Dense → GELU → LogFeatures, with a residual connection."""

    def __init__(self, width: int, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(width, activation="gelu", name="dense")
        self.log = LogFeatures(name="log_features")
        self.scale = keras.layers.Dense(width, name="scale")

    def call(self, x):
        h = self.dense(x)
        h = self.scale(h) * 3.0  # pushes some features below -1
        return x + self.log(h)


def build_model() -> keras.Model:
    """A functional model: stem → two blocks → classifier."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input((32,), name="features")
    h = keras.layers.Dense(32, activation="relu", name="stem")(inputs)
    h = Block(32, name="block_1")(h)
    h = Block(32, name="block_2")(h)
    outputs = keras.layers.Dense(4, activation="softmax", name="classifier")(h)
    return keras.Model(inputs, outputs, name="nan_demo")


def main() -> None:
    model = build_model()
    batch = tf.constant(np.random.default_rng(0).standard_normal((8, 32)), tf.float32)
    probabilities = model(batch)
    print("probabilities contain NaN:", bool(tf.reduce_any(tf.math.is_nan(probabilities))))


if __name__ == "__main__":
    main()
