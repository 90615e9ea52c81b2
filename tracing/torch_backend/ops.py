"""What a torch function is: its name in the user's vocabulary, or a metadata read to ignore.

``TorchFunctionMode`` sees every overridable call, including reads that compute nothing
(``x.dim()``, ``x.shape``, ``repr(x)``) and grad-mode switches. ``describe`` turns a function into
an ``OpInfo`` (name, argument names, flags) or ``None`` for calls that are not ops. Answers are
cached per function object, so the hot path is one dict lookup.
"""

from __future__ import annotations

import inspect
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
    """The user-facing name of a torch function (``torch.Tensor.add_`` → ``Tensor.add_``)."""
    try:
        name = resolve_name(func)
    except Exception:
        name = None
    if not name:
        module = getattr(func, "__module__", None) or ""
        qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
        name = f"{module}.{qualname}" if module and qualname else repr(func)
    if name.startswith("torch.Tensor."):
        name = name[len("torch.") :]
    elif name.startswith("torch._C._TensorBase.") or name.startswith("torch._C.TensorBase."):
        name = "Tensor." + name.rsplit(".", 1)[-1]
    return name


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
        return None  # grad-mode switches and other private bookkeeping
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
