"""Hand-built timelines for stepping tests: ops and module calls written as a small script."""

from __future__ import annotations

from dataclasses import dataclass, field

from gui.stepping import Timeline
from tracing.model import Frame, ModuleCall, Op, TensorSummary


@dataclass
class TimelineBuilder:
    """Write ``enter``/``op``/``exit`` in execution order, then ``build()`` a ``Timeline``.

    ``op(line)`` issues an op from ``file:line`` in the innermost open call; ``frames`` gives
    its caller chain (outer frames as ``(file, line)``), used by breakpoints on calling lines.
    """

    file: str = "model.py"
    ops: list[Op] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)
    open: list[int] = field(default_factory=list)
    stacks: dict[int, tuple[Frame, ...]] = field(default_factory=dict)

    def enter(self, path: str, type_name: str = "Module") -> int:
        call_id = len(self.calls)
        self.calls.append(
            dict(
                call_id=call_id,
                path=path,
                type_name=type_name,
                call_index=1 + sum(c["path"] == path for c in self.calls),
                parent_id=self.open[-1] if self.open else -1,
                depth=len(self.open),
                start_seq=len(self.ops),
                end_seq=None,
            )
        )
        self.open.append(call_id)
        return call_id

    def exit(self) -> None:
        self.calls[self.open.pop()]["end_seq"] = len(self.ops)

    def op(
        self,
        line: int,
        op_type: str = "torch.add",
        *,
        nan: bool = False,
        file: str | None = None,
        frames: tuple[tuple[str, int], ...] = (),
    ) -> int:
        seq = len(self.ops)
        call_id = self.open[-1] if self.open else -1
        call = self.calls[call_id] if call_id >= 0 else None
        file = self.file if file is None else file
        stack_id = -1
        if frames:
            stack_id = seq
            chain = [Frame(f, n, "forward") for f, n in frames] + [Frame(file, line, "forward")]
            self.stacks[stack_id] = tuple(chain)
        self.ops.append(
            Op(
                seq=seq,
                op_type=op_type,
                framework="torch",
                module_path=call["path"] if call else "",
                module_call=call["call_index"] if call else 0,
                call_id=call_id,
                file=file,
                line=line,
                stack_id=stack_id,
                outputs=(TensorSummary((2,), "float32", nan_count=int(nan)),),
            )
        )
        return seq

    def module_calls(self) -> list[ModuleCall]:
        n = len(self.ops)
        return [
            ModuleCall(
                **{**c, "end_seq": n if c["end_seq"] is None else c["end_seq"]},
                exit_order=-1 if c["end_seq"] is None else 0,
            )
            for c in self.calls
        ]

    def build(self) -> Timeline:
        return Timeline(self.ops, self.module_calls(), lambda op: self.stacks.get(op.stack_id, ()))
