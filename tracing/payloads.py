"""Tensor payloads: raw little-endian bytes plus a dtype name, decoded into viewable numpy arrays.

Dtype names are framework-neutral (``float32``, ``bfloat16``, ``int64``, ``bool``). numpy has no
bfloat16 or float8, so those come back as float32 (exactly: every such value is a float32 value).
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_NUMPY_NAMES = {
    "float64": "<f8",
    "float32": "<f4",
    "float16": "<f2",
    "int64": "<i8",
    "int32": "<i4",
    "int16": "<i2",
    "int8": "i1",
    "uint64": "<u8",
    "uint32": "<u4",
    "uint16": "<u2",
    "uint8": "u1",
    "bool": "?",
    "complex128": "<c16",
    "complex64": "<c8",
}
_WIDENED = {"bfloat16": 2, "float8_e4m3fn": 1, "float8_e5m2": 1}
ALIASES = {
    "half": "float16",
    "float": "float32",
    "double": "float64",
    "long": "int64",
    "int": "int32",
}


def normalize_dtype(name: str) -> str:
    """``torch.float32`` / ``tf.float32`` / ``float32`` → ``float32``."""
    short = name.rsplit(".", 1)[-1].removeprefix("<dtype: '").removesuffix("'>")
    return ALIASES.get(short, short)


def itemsize(dtype: str) -> int | None:
    """Bytes per element of a storable dtype, or None when the dtype cannot be stored."""
    if dtype in _WIDENED:
        return _WIDENED[dtype]
    code = _NUMPY_NAMES.get(dtype)
    if code is None:
        return None
    import numpy as np

    return np.dtype(code).itemsize


def payload_bytes(dtype: str, shape: tuple[int, ...]) -> int | None:
    """Exact payload size for ``shape`` and ``dtype``, or None when not storable."""
    size = itemsize(dtype)
    return None if size is None else size * math.prod(shape)


def decode(payload: bytes, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Turn a payload into a read-only numpy array a viewer can display."""
    import numpy as np

    if dtype == "bfloat16":
        raw = np.frombuffer(payload, dtype="<u2").astype(np.uint32) << 16
        array = raw.view(np.float32)
    elif dtype in ("float8_e4m3fn", "float8_e5m2"):
        array = _float8_table(dtype)[np.frombuffer(payload, dtype=np.uint8)]
    else:
        array = np.frombuffer(payload, dtype=np.dtype(_NUMPY_NAMES[dtype]))
    array = array.reshape(shape)
    array.flags.writeable = False
    return array


def encode(array: np.ndarray) -> bytes:
    """Little-endian bytes of a numpy array (a copy, safe from later in-place writes)."""
    import numpy as np

    contiguous = np.ascontiguousarray(array)
    if contiguous.dtype.byteorder == ">":
        contiguous = contiguous.astype(contiguous.dtype.newbyteorder("<"))
    return contiguous.tobytes()


@cache
def _float8_table(dtype: str) -> np.ndarray:
    import numpy as np

    exp_bits, man_bits, bias = (4, 3, 7) if dtype == "float8_e4m3fn" else (5, 2, 15)
    values = np.empty(256, dtype=np.float32)
    for byte in range(256):
        sign = -1.0 if byte & 0x80 else 1.0
        exponent = (byte >> man_bits) & ((1 << exp_bits) - 1)
        mantissa = byte & ((1 << man_bits) - 1)
        top = (1 << exp_bits) - 1
        if dtype == "float8_e4m3fn" and exponent == top and mantissa == (1 << man_bits) - 1:
            value = math.nan
        elif dtype == "float8_e5m2" and exponent == top:
            value = math.inf if mantissa == 0 else math.nan
        elif exponent == 0:
            value = mantissa / (1 << man_bits) * 2.0 ** (1 - bias)
        else:
            value = (1 + mantissa / (1 << man_bits)) * 2.0 ** (exponent - bias)
        values[byte] = sign * value
    return values
