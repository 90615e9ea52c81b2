"""Shared helpers: recording a function, bitwise comparison of program state, and what the
backend leaves installed."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.nn.modules import module as module_mod

import tracing


def record_linted(
    path: Path, fn: Callable[[], Any], *, quiet: bool = False, **options: Any
) -> tracing.Trace:
    """Record ``fn()`` into ``path`` (``options`` go to ``tracing.record``), load the trace and
    check its internal consistency; ``quiet`` hides the program's own warnings."""
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
        with tracing.record(path, **options):
            fn()
    trace = tracing.load(path)
    trace.lint()
    return trace


def ops_of(trace: tracing.Trace, op_type: str) -> list[tracing.Op]:
    """The ops of one type, in order."""
    return [op for op in trace.ops if op.op_type == op_type]


def assert_same(a: Any, b: Any, where: str = "result") -> None:
    """``a`` and ``b`` are identical: same structure, same tensor bits, dtypes, strides, flags."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), f"{where}: {type(b)} is not a tensor"
        assert a.dtype == b.dtype and a.shape == b.shape, (
            f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        )
        assert a.requires_grad == b.requires_grad, f"{where}: requires_grad differs"
        assert a.stride() == b.stride(), f"{where}: strides {a.stride()} vs {b.stride()}"
        assert a.is_inference() == b.is_inference(), f"{where}: inference flag differs"
        x, y = a.detach(), b.detach()
        if x.is_floating_point() or x.is_complex():
            torch.testing.assert_close(x, y, rtol=0, atol=0, equal_nan=True, msg=where)
        else:
            assert torch.equal(x, y), f"{where}: values differ"
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), f"{where}: structure differs"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{where}: keys differ"
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_same_module_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    """Parameters, buffers, grads, requires_grad and training flags are bitwise identical."""
    assert_same(dict(a.state_dict()), dict(b.state_dict()), "state_dict")
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert p.requires_grad == q.requires_grad, f"{name}: requires_grad differs"
        assert (p.grad is None) == (q.grad is None), f"{name}: grad presence differs"
        if p.grad is not None:
            assert_same(p.grad, q.grad, f"{name}.grad")
    assert [m.training for m in a.modules()] == [m.training for m in b.modules()]


def installed_state() -> tuple:
    """Everything a recording could leave behind: hooks, the module-call wrapper, mode stacks."""
    from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

    return (
        tuple(module_mod._global_forward_pre_hooks),
        tuple(module_mod._global_forward_hooks),
        tuple(module_mod._global_forward_hooks_always_called),
        torch.nn.Module.__call__,
        torch._C._len_torch_function_stack(),
        len(_get_current_dispatch_mode_stack()),
        torch._C._is_torch_function_enabled(),
        torch.is_grad_enabled(),
    )
