"""Summaries and value payloads of torch tensors, computed at op time.

Callers run these with torch-function handling disabled and grad mode off, so nothing here is
recorded or reaches autograd. Statistics are taken over the finite elements; NaN and Inf are
counted only when the min or max is not finite (one cheap check on the common path).

Speed (measured on the 2-core CI machine): per-call overhead dominates small tensors, so tensors
up to ``SMALL_NUMEL`` elements on the CPU go through numpy on a zero-copy view (min, max, sum and
a dot product, ~6 µs); larger ones and every non-CPU tensor use torch reductions (``aminmax``,
``sum`` and a dot product for the sum of squares, each vectorised; ``var_mean`` is 20x slower on
the CPU). When the one-pass variance would lose precision (a mean much larger than the spread,
or values so large that squares overflow) it is recomputed from the centred values in a second
pass.
"""

from __future__ import annotations

import ctypes
import math
import sys

import numpy as np
import torch

from tracing.batch_summaries import PendingSummary
from tracing.model import TensorSummary
from tracing.payloads import itemsize

DEFER_NUMEL = 4095
"""CPU float tensors up to this many elements can be summarised later from a copy
(``pending_summary``)."""

SMALL_NUMEL = 16384
"""CPU tensors up to this many elements are summarised with numpy, larger ones with torch."""

_CANCELLATION = 1e-2
"""Recompute the variance in two passes when var < this × mean²: the one-pass formula
(E[x²] - mean², float32 dot product) would lose more than ~1e-3 of it."""

_SAFE_MAGNITUDE = 1e15
"""Below this magnitude, float32 squares and sums of up to ``SMALL_NUMEL`` values stay finite."""

_FLOATS = frozenset({torch.float32, torch.float64, torch.float16, torch.bfloat16})
_HALVES = frozenset({torch.float16, torch.bfloat16})
_NUMPY_FLOATS = frozenset({torch.float32, torch.float64, torch.float16})
_INTS = frozenset(
    {torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8}
    | {getattr(torch, name) for name in ("uint16", "uint32", "uint64") if hasattr(torch, name)}
)
_COMPLEX = frozenset({torch.complex64, torch.complex128, torch.complex32})
_RAW_VIEWS = {
    "bfloat16": torch.int16,
    "float8_e4m3fn": torch.uint8,
    "float8_e5m2": torch.uint8,
}

_NUMPY_DTYPES: dict[torch.dtype, type] = {
    torch.float32: np.float32,
    torch.float64: np.float64,
    torch.float16: np.float16,
    torch.int8: np.int8,
    torch.int16: np.int16,
    torch.int32: np.int32,
    torch.int64: np.int64,
    torch.uint8: np.uint8,
    torch.bool: np.bool_,
    torch.complex64: np.complex64,
    torch.complex128: np.complex128,
    **{
        getattr(torch, name): getattr(np, name)
        for name in ("uint16", "uint32", "uint64")
        if hasattr(torch, name)
    },
}
"""Element types that ``host_bytes`` / ``host_copy`` read, and their numpy equivalents."""

_BIG_ENDIAN = sys.byteorder == "big"
_string_at = ctypes.string_at
_frombuffer = np.frombuffer
_min = np.minimum.reduce
_max = np.maximum.reduce
_add = np.add.reduce
_dot = np.dot
_f64 = np.float64
_isfinite = math.isfinite
_sqrt = math.sqrt

dtype_names: dict[torch.dtype, str] = {}
"""``dtype_name``'s answers so far (hot loops look up here first)."""
_dtype_names = dtype_names

Stats = tuple[float | None, float | None, float | None, float | None, int, int]
"""``(min, max, mean, std, nan_count, inf_count)``."""

_NO_STATS: Stats = (None, None, None, None, 0, 0)


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` → ``float32``."""
    name = _dtype_names.get(dtype)
    if name is None:
        name = _dtype_names[dtype] = str(dtype).removeprefix("torch.")
    return name


def shape_of(t: torch.Tensor) -> tuple[int, ...]:
    """The shape as plain ints (``()`` when the layout has none or a dimension is not a number:
    nested tensors, the ragged dimension of a jagged one)."""
    try:
        if t.is_nested:
            return ()
        shape = tuple(t.shape)
    except Exception:
        return ()
    for dim in shape:
        if type(dim) is not int:
            return ()
    return shape


def device_of(t: torch.Tensor) -> str:
    """``cpu``, ``cuda:0``, ``meta``..."""
    if t.is_cpu:
        return "cpu"
    try:
        return str(t.device)
    except Exception:
        return "unknown"


def summarize(
    t: torch.Tensor, *, initialized: bool = True, has_value: bool = False
) -> TensorSummary:
    """Summary of ``t`` now. Never raises: statistics that cannot be computed are None."""
    shape = shape_of(t)
    dtype = dtype_name(t.dtype)
    device = device_of(t)
    if not initialized:
        return TensorSummary(shape, dtype, device, initialized=False, has_value=has_value)
    try:
        lo, hi, mean, std, nan_count, inf_count = tensor_stats(t)
    except Exception:
        lo = hi = mean = std = None
        nan_count = inf_count = 0
    return TensorSummary(
        shape, dtype, device, lo, hi, mean, std, nan_count, inf_count, True, has_value
    )


def pending_summary(t: torch.Tensor) -> PendingSummary | None:
    """A copy of a small float CPU tensor's elements to summarise later with many others
    (``tracing.batch_summaries``), or None when ``t`` must be summarised now."""
    dtype = t.dtype
    if dtype not in _NUMPY_FLOATS or not t.is_cpu or t.is_nested:
        return None
    n = t.numel()
    if n == 0 or n > DEFER_NUMEL:
        return None
    try:
        data = host_copy(t)
    except Exception:  # sparse layout, tensors without storage...: summarise now
        return None
    if data is None:
        return None
    return (data, tuple(t.shape), _dtype_names.get(dtype) or dtype_name(dtype), "cpu")


def host_bytes(t: torch.Tensor) -> bytes | None:
    """A copy of a CPU tensor's elements as bytes (C order, the machine's byte order), or None
    for tensors without memory of their own (fake, functional, wrapper subclasses).

    Never ``Tensor.numpy()`` on the program's tensors: it marks their storage as never
    resizable again, so a later ``resize_`` (or an ``out=`` into a too-small buffer) would fail
    in the program, even after the recording. The bytes are read straight from the tensor's
    memory instead (``ctypes.string_at``, one copy), after ``contiguous()`` / resolving a
    negative or conjugate bit where needed (those make a private copy first).
    """
    if t.layout is not torch.strided or not t.is_cpu:
        return None  # (sparse, mkldnn...: their memory is not numel × itemsize bytes)
    if t.is_neg() or t.is_conj():
        t = t.resolve_neg().resolve_conj()
    if not t.is_contiguous():
        t = t.contiguous()
    n = t.numel()
    if n == 0:
        return b""
    ptr = t.data_ptr()
    if not ptr:
        return None
    return _string_at(ptr, n * t.element_size())


def host_copy(t: torch.Tensor) -> np.ndarray | None:
    """A private, read-only, flat numpy copy of a CPU tensor's elements (see ``host_bytes``),
    or None when its element type has no numpy equivalent or it has no memory of its own."""
    np_dtype = _NUMPY_DTYPES.get(t.dtype)
    if np_dtype is None:
        return None
    data = host_bytes(t)
    if data is None:
        return None
    return _frombuffer(data, dtype=np_dtype)


def tensor_stats(t: torch.Tensor) -> Stats:
    """``(min, max, mean, std, nan_count, inf_count)`` over the finite elements of ``t``."""
    if t.layout is not torch.strided or t.is_meta or t.is_quantized or t.is_nested:
        return _NO_STATS
    n = t.numel()
    if n == 0:
        return _NO_STATS
    dtype = t.dtype
    if t.is_neg() or t.is_conj():
        t = t.resolve_neg().resolve_conj()
    if dtype in _FLOATS:
        if t.is_cpu and n <= SMALL_NUMEL:
            if dtype not in _NUMPY_FLOATS:
                t = t.float()
            a = host_copy(t)
            if a is None:
                return _NO_STATS
            return _numpy_float_stats(a, t)
        return _torch_float_stats(t, n)
    if dtype is torch.bool:
        trues = int(torch.count_nonzero(t))
        p = trues / n
        return (float(trues == n), float(trues > 0), p, _sqrt(p * (1.0 - p)), 0, 0)
    if dtype in _INTS:
        if t.is_cpu:
            a = host_copy(t)
            if a is None:
                return _NO_STATS
            lo, hi = int(_min(a)), int(_max(a))
            b = a.astype(_f64)
        else:
            lo_t, hi_t = torch.aminmax(t)
            lo, hi = int(lo_t.item()), int(hi_t.item())
            b = t.double().cpu().numpy().reshape(-1)
        mean = float(_add(b)) / n
        return (float(lo), float(hi), mean, _std_from(b, mean, n), 0, 0)
    if dtype in _COMPLEX:
        return tensor_stats(t.abs())
    try:
        widened = t.float()
    except Exception:
        return _NO_STATS
    return tensor_stats(widened)


def _numpy_float_stats(a: np.ndarray, t: torch.Tensor) -> Stats:
    lo = float(_min(a))
    hi = float(_max(a))
    if not (_isfinite(lo) and _isfinite(hi)):
        return _nonfinite_stats(t)
    n = a.size
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    if max(-lo, hi) < _SAFE_MAGNITUDE:  # squares and sums cannot overflow (numpy would warn)
        mean = float(_add(a)) / n
        var = float(_dot(a, a)) / n - mean * mean
        if var >= _CANCELLATION * mean * mean:
            return (lo, hi, mean, _sqrt(var) if var > 0.0 else 0.0, 0, 0)
    with np.errstate(all="ignore"):  # two passes in float64
        b = a.astype(_f64)
        mean = float(_add(b)) / n
        d = b - mean
        var = float(_dot(d, d)) / n
    return (lo, hi, _finite_or_none(mean), _finite_or_none(_sqrt(var)), 0, 0)


def _torch_float_stats(t: torch.Tensor, n: int) -> Stats:
    lo_t, hi_t = torch.aminmax(t)
    lo = lo_t.item()
    hi = hi_t.item()
    if not (_isfinite(lo) and _isfinite(hi)):
        return _nonfinite_stats(t)
    if t.dtype in _HALVES:
        t = t.float()
    flat = t.reshape(-1)  # a view when contiguous
    mean = flat.sum().item() / n
    var = torch.dot(flat, flat).item() / n - mean * mean
    if not _isfinite(var) or var < _CANCELLATION * mean * mean:
        if not _isfinite(mean) or not _isfinite(var):
            flat = flat.double()  # float32 sums overflowed
            mean = flat.sum().item() / n
        centred = flat - mean  # two passes when the one-pass variance would lose precision
        var = torch.dot(centred, centred).item() / n
    return (lo, hi, mean, _sqrt(var) if var > 0.0 else 0.0, 0, 0)


def _nonfinite_stats(t: torch.Tensor) -> Stats:
    finite = torch.isfinite(t)
    finite_count = int(torch.count_nonzero(finite))
    nan_count = int(torch.count_nonzero(torch.isnan(t)))
    inf_count = t.numel() - finite_count - nan_count
    if finite_count == 0:
        return (None, None, None, None, nan_count, inf_count)
    values = t[finite].double()
    lo_t, hi_t = torch.aminmax(values)
    var_t, mean_t = torch.var_mean(values, correction=0)
    return (
        lo_t.item(),
        hi_t.item(),
        _finite_or_none(mean_t.item()),
        _finite_or_none(math.sqrt(max(var_t.item(), 0.0))),
        nan_count,
        inf_count,
    )


def _std_from(b: np.ndarray, mean: float, n: int) -> float:
    d = b - mean
    return _sqrt(float(_dot(d, d)) / n)


def _finite_or_none(value: float) -> float | None:
    return value if _isfinite(value) else None


def payload(t: torch.Tensor) -> bytes | None:
    """``t``'s elements as little-endian bytes in C order, or None when they cannot be stored.

    bfloat16 and float8 are stored as their raw bits under their own dtype name (see
    ``tracing.payloads``). The bytes are a copy: later in-place writes do not change them.
    """
    name = dtype_name(t.dtype)
    if itemsize(name) is None or t.layout is not torch.strided or t.is_meta or t.is_nested:
        return None
    try:
        x = t.detach()
        if x.is_neg() or x.is_conj():
            x = x.resolve_neg().resolve_conj()
        if not x.is_cpu:
            x = x.cpu()
        raw = _RAW_VIEWS.get(name)
        if raw is not None:
            x = x.view(raw)
        if x.dtype not in _NUMPY_DTYPES:
            return None
        data = host_bytes(x)
        if data is None:
            return None
        if _BIG_ENDIAN:  # payloads are little-endian
            return _frombuffer(data, dtype=_NUMPY_DTYPES[x.dtype]).byteswap().tobytes()
        return data
    except Exception:
        return None
