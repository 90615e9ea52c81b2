"""Recording options: which ops keep their values, and the options record() accepts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class ValueFilter:
    """Chooses which ops keep their output values, by module path and/or op type.

    Patterns are shell-style globs (``encoder.layers.*``, ``*linear*``). An op matches a module
    pattern when its module path, or any enclosing module path, matches. With both lists given,
    an op is kept when it matches either. ``ValueFilter()`` with no patterns keeps nothing.

    >>> record("run.opscope", values=ValueFilter(modules=["decoder*"], op_types=["torch.softmax"]))
    """

    modules: tuple[str, ...] = ()
    op_types: tuple[str, ...] = ()

    def __init__(self, modules: Iterable[str] = (), op_types: Iterable[str] = ()) -> None:
        for name, patterns in (("modules", modules), ("op_types", op_types)):
            if isinstance(patterns, str):
                patterns = (patterns,)
            patterns = tuple(patterns)
            if not all(isinstance(p, str) and p for p in patterns):
                raise TypeError(f"ValueFilter {name} must be non-empty strings, got {patterns!r}")
            object.__setattr__(self, name, patterns)

    def matches(self, op_type: str, module_path: str) -> bool:
        """True when an op of ``op_type`` running in ``module_path`` keeps its values."""
        if any(fnmatchcase(op_type, p) for p in self.op_types):
            return True
        if not self.modules or not module_path:
            return False
        for separator in (".", "/"):
            if separator in module_path:
                break
        parts = module_path.split(separator)
        prefixes = [separator.join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatchcase(prefix, p) for prefix in prefixes for p in self.modules)

    def describe(self) -> str:
        """Human-readable form for the trace's metadata."""
        parts = [f"modules={list(self.modules)}"] if self.modules else []
        if self.op_types:
            parts.append(f"op_types={list(self.op_types)}")
        return "ValueFilter(" + ", ".join(parts) + ")"


TF_FUNCTION_MODES = ("graph", "debug")
"""``graph``: tf.functions run as graphs (bit-identical results), their inner graph is recorded
as structure. ``debug``: tf.functions run eagerly so every inner op is a timeline step."""
