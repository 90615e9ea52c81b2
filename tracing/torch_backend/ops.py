"""What a torch function is: its name in the user's vocabulary, or a metadata read to ignore.

``TorchFunctionMode`` sees every overridable call, including reads that compute nothing
(``x.dim()``, ``x.shape``, ``repr(x)``) and grad-mode switches. ``describe`` turns a function into
an ``OpInfo`` (name, argument names, flags) or ``None`` for calls that are not ops. Answers are
cached per function object, so the hot path is one dict lookup.

Names come from ``torch.overrides.resolve_name`` where it knows a public one; otherwise from the
public modules (``PUBLIC_MODULES``) that hold the function, so ``torch.sparse.mm`` is not
``torch._C._sparse._sparse_mm`` and ``torch._foreach_norm`` is not
``torch._VariableFunctionsClass._foreach_norm``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import get_testing_overrides, resolve_name

PROPERTY_OPS = frozenset({"T", "mT", "H", "mH", "real", "imag"})
"""Tensor properties whose read computes a tensor (a view); other property reads are metadata."""

METADATA_METHODS = frozenset(
    {
        "dim",
        "ndimension",
        "size",
        "stride",
        "numel",
        "nelement",
        "element_size",
        "storage_offset",
        "data_ptr",
        "untyped_storage",
        "storage",
        "_typed_storage",
        "get_device",
        "has_names",
        "__repr__",
        "__str__",
        "__format__",
        "__len__",
        "__hash__",
        "__dir__",
        "__sizeof__",
        "__reduce_ex__",
        "__getstate__",
        "__setstate__",
        "__deepcopy__",
        "__array__",
        "__array_wrap__",
        "__array_priority__",
        "requires_grad_",
        "retain_grad",
        "register_hook",
        "register_post_accumulate_grad_hook",
        "_is_view",
        "_version",
        "dim_order",
    }
)
"""Tensor methods that read metadata or change autograd bookkeeping: never recorded."""

METADATA_FUNCTIONS = frozenset(
    {
        "torch.numel",
        "torch.result_type",
        "torch.can_cast",
        "torch.promote_types",
        "torch.get_default_dtype",
        "torch.is_same_size",
        "torch.typename",
        "torch.device",
    }
)

BOOKKEEPING = frozenset(
    {
        "_has_compatible_shallow_copy_type",
        "_record_function_enter",
        "_record_function_enter_new",
        "_record_function_exit",
        "_nnpack_available",
        "_use_cudnn_ctc_loss",
        "_use_miopen_ctc_loss",
        "_use_cudnn_rnn_flatten_weight",
        "_debug_has_internal_overlap",
        "_is_zerotensor",
        "_is_functional_tensor",
        "_is_functional_tensor_base",
        "_cufft_get_plan_cache_size",
        "_cufft_get_plan_cache_max_size",
        "_cufft_set_plan_cache_max_size",
        "_cufft_clear_plan_cache",
    }
)
"""Functions that query metadata or drive the profiler (``model.half()``'s storage-type check,
``record_function`` around ``optimizer.step()``): never ops. Matched on any segment of the name
(``profiler._record_function_exit._RecordFunction`` is an overload of ``_record_function_exit``)."""

PUBLIC_MODULES = (
    "torch",
    "torch.nn.functional",
    "torch.sparse",
    "torch.linalg",
    "torch.fft",
    "torch.special",
    "torch.nested",
)
"""Where the user finds torch functions, in order of preference for a function found twice."""

UNINITIALIZED_FACTORIES = frozenset(
    {
        "torch.empty",
        "torch.empty_like",
        "torch.empty_strided",
        "torch.empty_permuted",
        "Tensor.new_empty",
        "Tensor.new_empty_strided",
    }
)
"""Ops whose outputs hold uninitialised memory: their garbage never counts as NaN."""

FULL_WRITES = frozenset(
    {
        "Tensor.fill_",
        "Tensor.zero_",
        "Tensor.copy_",
        "Tensor.normal_",
        "Tensor.uniform_",
        "Tensor.random_",
        "Tensor.bernoulli_",
        "Tensor.exponential_",
        "Tensor.geometric_",
        "Tensor.log_normal_",
        "Tensor.cauchy_",
        "Tensor.set_",
    }
    | {
        f"torch.nn.init.{name}"
        for name in (
            "uniform_",
            "normal_",
            "trunc_normal_",
            "constant_",
            "ones_",
            "zeros_",
            "eye_",
            "dirac_",
            "xavier_uniform_",
            "xavier_normal_",
            "kaiming_uniform_",
            "kaiming_normal_",
            "orthogonal_",
            "sparse_",
        )
    }
)
"""In-place ops that overwrite every element without reading it (they initialise memory)."""


@dataclass(frozen=True, slots=True)
class OpInfo:
    """How to record calls of one torch function."""

    name: str
    """``torch.nn.functional.linear``, ``Tensor.add_``, ``torch.cat``."""
    params: tuple[str, ...]
    """Positional parameter names (``input``, ``other``), for naming input slots."""
    defaults: tuple[tuple[str, object], ...] = ()
    """Scalar parameter defaults: arguments equal to them are not shown as attributes."""
    uninitialized: bool = False
    """Outputs are uninitialised memory (``torch.empty`` and friends)."""
    full_write: bool = False
    """Writes every element of its target without reading it."""
    value_read: bool = False
    """Returns a Python value read from a tensor (``item``, ``tolist``, ``__bool__``)."""
    rearranges: bool = False
    """Returns its input's elements rearranged (a reshape or transpose): same statistics."""


VALUE_READS = frozenset(
    {
        "Tensor.item",
        "Tensor.tolist",
        "Tensor.__bool__",
        "Tensor.__float__",
        "Tensor.__int__",
        "Tensor.__index__",
        "Tensor.__complex__",
        "Tensor.numpy",
    }
)

REARRANGEMENTS = frozenset(
    {
        f"Tensor.{name}"
        for name in (
            "view",
            "reshape",
            "view_as",
            "reshape_as",
            "transpose",
            "permute",
            "t",
            "T",
            "mT",
            "flatten",
            "unflatten",
            "squeeze",
            "unsqueeze",
            "contiguous",
            "swapaxes",
            "movedim",
            "detach",
        )
    }
    | {f"torch.{name}" for name in ("reshape", "transpose", "permute", "flatten", "squeeze")}
    | {"torch.unsqueeze", "torch.t", "torch.movedim", "torch.swapaxes"}
)
"""Ops whose output holds exactly its input's elements (when the element counts match)."""

described: dict[Any, OpInfo | None] = {}
"""``describe``'s answers so far (callers on the hot path may look up here first)."""
_cache = described


def describe(func: Callable[..., Any]) -> OpInfo | None:
    """The ``OpInfo`` of ``func``, or None when calling it is not an op (a metadata read)."""
    try:
        return _cache[func]
    except KeyError:
        pass
    except TypeError:  # unhashable callable: classify without caching
        return _describe(func)
    info = _cache[func] = _describe(func)
    return info


def op_name(func: Callable[..., Any]) -> str:
    """The user-facing name of a torch function (``torch.Tensor.add_`` → ``Tensor.add_``).

    A public module path the user could write: ``torch.sparse.mm``, ``torch.einsum``,
    ``torch._foreach_norm`` (a name under ``torch`` when no name without underscores exists).
    """
    try:
        name = resolve_name(func)
    except Exception:
        name = None
    if not name or _is_private(name) or name.startswith("torch.functional."):
        name = _public_name(func) or name
    if not name:
        module = getattr(func, "__module__", None) or ""
        qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
        name = f"{module}.{qualname}" if module and qualname else repr(func)
    if name.startswith("torch.Tensor."):
        name = name[len("torch.") :]
    elif name.startswith("torch._C._TensorBase.") or name.startswith("torch._C.TensorBase."):
        name = "Tensor." + name.rsplit(".", 1)[-1]
    elif name.startswith("torch._VariableFunctionsClass."):  # torch.* functions' own qualname
        name = "torch." + name.rsplit(".", 1)[-1]
    return name


def _is_private(name: str) -> bool:
    """True for names with an underscore segment, other than ``torch.Tensor`` methods."""
    return not name.startswith("torch.Tensor.") and any(
        part.startswith("_") for part in name.split(".")
    )


def _public_name(func: Callable[..., Any]) -> str | None:
    """``func``'s name in ``PUBLIC_MODULES``, or None when they do not hold it."""
    try:
        return _scan_public_modules().get(func)
    except Exception:  # unhashable, or an ``__eq__`` that does not answer a bool
        return None


@functools.cache
def _scan_public_modules() -> dict[Any, str]:
    """Every function in ``PUBLIC_MODULES`` under its best name: first one without a leading
    underscore, then the earliest module, then the function's own ``__name__`` over an alias."""
    best: dict[Any, tuple[tuple[bool, int, bool], str]] = {}
    for rank, module_name in enumerate(PUBLIC_MODULES):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for attribute, value in list(vars(module).items()):
            if attribute.startswith("__") or isinstance(value, (type, types.ModuleType)):
                continue
            if not callable(value):
                continue
            key = (
                attribute.startswith("_"),
                rank,
                attribute != getattr(value, "__name__", attribute),
            )
            try:
                known = best.get(value)
                if known is None or key < known[0]:
                    best[value] = (key, f"{module_name}.{attribute}")
            except Exception:  # unhashable or oddly comparable: not a function the mode sees
                continue
    return {func: name for func, (_, name) in best.items()}


def _describe(func: Callable[..., Any]) -> OpInfo | None:
    name = op_name(func)
    if name.endswith(".__get__"):
        attribute = name[: -len(".__get__")].rsplit(".", 1)[-1]
        if attribute not in PROPERTY_OPS:
            return None
        return OpInfo(name[: -len(".__get__")], ("self",))
    if name.endswith((".__set__", ".__delete__")):
        return None
    head, _, last = name.rpartition(".")
    if head == "Tensor" and (last in METADATA_METHODS or last.startswith("is_")):
        return None
    if name in METADATA_FUNCTIONS or (head == "torch" and last.startswith("is_")):
        return None
    if head.startswith("torch._C") and last.startswith("_"):
        return None  # grad-mode switches and other private bookkeeping without a public name
    if any(part in BOOKKEEPING for part in name.split(".")):
        return None
    params, defaults = _signature(func, head == "Tensor")
    return OpInfo(
        name,
        params,
        defaults,
        uninitialized=name in UNINITIALIZED_FACTORIES,
        full_write=name in FULL_WRITES,
        value_read=name in VALUE_READS,
        rearranges=name in REARRANGEMENTS,
    )


def _signature(
    func: Callable[..., Any], is_method: bool
) -> tuple[tuple[str, ...], tuple[tuple[str, object], ...]]:
    target = get_testing_overrides().get(func, func)
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return (("self",) if is_method else ()), ()
    names = tuple(
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )
    if is_method and names and names[0] == "input":
        names = ("self", *names[1:])
    defaults = tuple(
        (p.name, p.default)
        for p in parameters
        if p.default is not inspect.Parameter.empty
        and isinstance(p.default, (bool, int, float, str, type(None)))
    )
    return names, defaults


def is_tensor_type(cls: type) -> bool:
    """True for ``torch.Tensor`` and ``nn.Parameter`` (tensors without their own dispatch)."""
    return cls is torch.Tensor or cls is torch.nn.Parameter
