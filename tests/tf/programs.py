"""TensorFlow programs the TF backend tests record (imported after ``importorskip``).

Lines the tests look for carry a ``# mark: name`` comment; ``line_of(name)`` finds them, so the
tests never hard-code line numbers.
"""

from __future__ import annotations

import functools
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

FILE = str(Path(__file__).resolve())


@functools.cache
def line_of(mark: str) -> int:
    """The line carrying ``# mark: {mark}`` in this file."""
    for number, text in enumerate(Path(FILE).read_text().splitlines(), start=1):
        if text.rstrip().endswith(f"# mark: {mark}"):
            return number
    raise KeyError(mark)


def inputs(shape: tuple[int, ...] = (4, 16), seed: int = 0) -> tf.Tensor:
    """A fixed random input batch."""
    return tf.constant(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def functional_model() -> keras.Model:
    """Conv-free functional model with a branch and a merge."""
    keras.utils.set_random_seed(1)
    x = keras.Input((16,), name="features")
    a = keras.layers.Dense(32, activation="gelu", name="conv_a")(x)
    b = keras.layers.Dense(32, activation="tanh", name="conv_b")(x)
    merged = keras.layers.Add(name="merge")([a, b])
    normed = keras.layers.LayerNormalization(name="norm")(merged)
    out = keras.layers.Dense(3, name="head")(normed)
    return keras.Model(x, out, name="functional_net")


def sequential_model() -> keras.Model:
    """A plain stack of Dense layers."""
    keras.utils.set_random_seed(2)
    return keras.Sequential(
        [
            keras.Input((16,)),
            keras.layers.Dense(24, activation="relu", name="seq_dense_1"),
            keras.layers.Dropout(0.5, name="seq_drop"),
            keras.layers.Dense(8, activation="softmax", name="seq_dense_2"),
        ],
        name="seq_net",
    )


class Encoder(keras.layers.Layer):
    """A block with its own sublayers (gives the nested path ``encoder/dense_1``)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense_1 = keras.layers.Dense(12, name="dense_1")
        self.dense_2 = keras.layers.Dense(12, name="dense_2")

    def call(self, x):
        h = self.dense_1(x)  # mark: encoder_dense_1
        h = tf.nn.relu(h)  # mark: encoder_relu
        return self.dense_2(h) + x[:, :12]  # mark: encoder_residual


class SubclassedNet(keras.Model):
    """A subclassed model with a nested block and a layer called twice."""

    def __init__(self):
        super().__init__(name="subclassed_net")
        self.encoder = Encoder(name="encoder")
        self.shared = keras.layers.Dense(12, name="shared")
        self.head = keras.layers.Dense(2, name="head_sub")

    def call(self, x):
        h = self.encoder(x)  # mark: call_encoder
        h = self.shared(h)  # mark: shared_first
        h = self.shared(tf.math.sin(h))  # mark: shared_second
        return self.head(h)  # mark: call_head


def subclassed_model() -> SubclassedNet:
    """A built ``SubclassedNet`` with fixed weights."""
    keras.utils.set_random_seed(3)
    model = SubclassedNet()
    model(inputs())
    return model


@tf.function(jit_compile=False)
def loop_and_cond(x, n):
    """A tf.function with a data-dependent loop and a cond (AutoGraph converts both)."""
    i = tf.constant(0)
    y = x
    while i < n:
        y = tf.tanh(y) * 1.5  # mark: loop_body
        i += 1
    if tf.reduce_sum(y) > 0.0:  # noqa: SIM108  # mark: cond_test
        y = y + 1.0  # mark: cond_true
    else:
        y = y - 1.0  # mark: cond_false
    return tf.reduce_mean(y * y, axis=-1)  # mark: fn_return


def keras_in_function(model: keras.Model):
    """A Keras model under ``tf.function`` with ``jit_compile`` off."""

    @tf.function(jit_compile=False)
    def forward(x):
        return tf.nn.softmax(model(x, training=False))  # mark: keras_in_function

    return forward


def eager_with_nan(x):
    """Eager code whose third op produces NaN (log of a negative number)."""
    y = x * 2.0  # mark: nan_before
    z = y - 100.0  # mark: nan_shift
    w = tf.math.log(z)  # mark: nan_op
    return tf.reduce_sum(w)  # mark: nan_after
