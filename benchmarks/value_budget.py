"""A long run recorded with a value budget: process memory, file size, and the NaN kept.

Run:  PYTHONPATH=. python benchmarks/value_budget.py [--total-gib 4] [--budget-mib 256]
      [--tensor-mib 4]

The program (PyTorch, CPU, built from code) runs a loop of elementwise ops on tensors of
``--tensor-mib`` MiB until its op outputs add up to ``--total-gib`` GiB (4 GiB of 4 MiB
tensors: 1,024 ops). Two thirds of the way through, one op produces NaNs (``log`` of a
tensor with negative entries) and the loop goes on with finite values. It runs twice, each in
its own Python process:

* ``untraced``: the loop alone (the baseline for memory and time);
* ``budget``: the loop inside ``tracing.record(path, values=True, max_value_bytes=budget)``.

Printed: the peak resident memory of each process (``ru_maxrss``), the time, the trace file's
size once closed, and what the trace kept: every op's summary, the first NaN op with its value
and the values of its inputs, the number of values still stored and their bytes. Targets from
issue 7: a run producing 4 GB of outputs with a 256 MiB budget stays under about 1.2 GB of
process memory and a 400 MB file, and keeps the NaN.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 1 << 20
TARGET_RSS_BYTES = 1.2e9
TARGET_FILE_BYTES = 400e6


def _program(total_bytes: int, tensor_bytes: int) -> tuple[int, int]:
    """Run the loop; returns (ops run, each with an output of ``tensor_bytes``; the NaN op)."""
    import torch

    torch.manual_seed(0)
    n = tensor_bytes // 4
    steps = max(3, total_bytes // tensor_bytes)
    nan_at = (2 * steps) // 3
    x = torch.rand(n)  # op 0
    done = 1
    injected = False
    while done < steps:
        if done >= nan_at and not injected:
            injected = True
            bad = torch.log(x - 0.5)  # two ops; negative entries -> NaN
            done += 2
            x = torch.nan_to_num(bad, nan=0.25).clamp(0.0, 1.0)  # continue with finite values
            done += 2
            nan_at = done - 3  # the seq of the NaN op (log), as the trace numbers it
            continue
        x = x * 0.999 + 0.0005
        done += 2
    return done, nan_at


def _child(mode: str, path: str, total_bytes: int, tensor_bytes: int, budget: int) -> None:
    import torch  # noqa: F401  (imported before the clock starts in both modes)

    start = time.perf_counter()
    if mode == "budget":
        sys.path.insert(0, str(ROOT))
        import tracing

        with tracing.record(path, values=True, max_value_bytes=budget):
            ops, nan_at = _program(total_bytes, tensor_bytes)
    else:
        ops, nan_at = _program(total_bytes, tensor_bytes)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_rss": peak, "ops": ops, "nan_at": nan_at}))


def _run_child(mode: str, path: str, args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--path",
        path,
        "--total-gib",
        str(args.total_gib),
        "--tensor-mib",
        str(args.tensor_mib),
        "--budget-mib",
        str(args.budget_mib),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"{mode} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _inspect(path: str) -> dict:
    """What the closed trace kept (read with ``tracing.load``)."""
    sys.path.insert(0, str(ROOT))
    import tracing
    from tracing import payloads

    trace = tracing.load(path)
    first = trace.first_nonfinite()
    stored = 0
    stored_bytes = 0
    for op in trace.ops:
        for out in op.outputs:
            if out.has_value:
                stored += 1
                stored_bytes += payloads.payload_bytes(out.dtype, out.shape) or 0
    result = {
        "ops": len(trace.ops),
        "nan_seq": None if first is None else first.seq,
        "nan_op": None
        if first is None
        else f"{first.op_type} at {Path(first.file).name}:{first.line}",
        "nan_value_kept": False,
        "nan_inputs_kept": False,
        "values_stored": stored,
        "stored_bytes": stored_bytes,
    }
    if first is not None:
        value = trace.value(first.seq, 0)
        result["nan_value_kept"] = bool(value is not None and (value != value).any())
        producers = [
            trace.ops[int(ref.source.split(":")[1])].outputs[ref.out_index]
            for ref in first.inputs
            if ref.source.startswith("op:")
        ]
        result["nan_inputs_kept"] = bool(producers) and all(p.has_value for p in producers)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-gib", type=float, default=4.0, help="op outputs in all (GiB)")
    parser.add_argument("--tensor-mib", type=float, default=4.0, help="size of each output (MiB)")
    parser.add_argument("--budget-mib", type=float, default=256.0, help="max_value_bytes (MiB)")
    parser.add_argument("--child", choices=["untraced", "budget"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    total = int(args.total_gib * (1 << 30))
    tensor = int(args.tensor_mib * MIB)
    budget = int(args.budget_mib * MIB)
    if args.child:
        _child(args.child, args.path, total, tensor, budget)
        return

    with tempfile.TemporaryDirectory(prefix="opscope-budget-") as tmp:
        path = os.path.join(tmp, "long.opscope")
        print(
            f"loop of {tensor / MIB:g} MiB outputs, {total / (1 << 30):g} GiB in all, "
            f"budget {budget / MIB:g} MiB (max_value_bytes={budget})",
            flush=True,
        )
        base = _run_child("untraced", path, args)
        run = _run_child("budget", path, args)
        file_bytes = os.path.getsize(path)
        kept = _inspect(path)

    print(f"\n{'run':<10} {'time':>9} {'peak RSS':>10}")
    print(f"{'untraced':<10} {base['seconds']:>8.1f}s {base['peak_rss'] / 1e6:>8.0f} MB")
    print(f"{'budget':<10} {run['seconds']:>8.1f}s {run['peak_rss'] / 1e6:>8.0f} MB")
    print(
        f"\ntime ratio {run['seconds'] / base['seconds']:.1f}x; "
        f"extra memory {(run['peak_rss'] - base['peak_rss']) / 1e6:.0f} MB"
    )
    print(f"trace file {file_bytes / 1e6:.0f} MB (closed)")
    print(
        f"ops recorded {kept['ops']} (program ran {run['ops']}), values stored "
        f"{kept['values_stored']} ({kept['stored_bytes'] / MIB:.0f} MiB)"
    )
    print(
        f"first NaN: seq {kept['nan_seq']} ({kept['nan_op']}); its value kept: "
        f"{kept['nan_value_kept']}; its inputs' values kept: {kept['nan_inputs_kept']}"
    )
    checks = {
        f"peak RSS ≤ {TARGET_RSS_BYTES / 1e9:.1f} GB": run["peak_rss"] <= TARGET_RSS_BYTES,
        f"file ≤ {TARGET_FILE_BYTES / 1e6:.0f} MB": file_bytes <= TARGET_FILE_BYTES,
        "every op summarised": kept["ops"] == run["ops"],
        "first NaN found at the op that made it": kept["nan_seq"] == run["nan_at"],
        "its value and its inputs' values kept": kept["nan_value_kept"] and kept["nan_inputs_kept"],
    }
    print()
    for name, ok in checks.items():
        print(f"{'met ' if ok else 'MISSED'} {name}")


if __name__ == "__main__":
    main()
