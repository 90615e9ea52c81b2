"""How much slower a PyTorch forward runs while OpScope records it.

Run:  PYTHONPATH=. python benchmarks/tracing_overhead.py [--repeats 7] [--threads N]

Models (built from code, CPU, float32, eval mode under ``torch.no_grad()``):

* ``cnn``: an 8-block residual CNN (stem conv, 8 × [conv-BN-ReLU-conv-BN + skip, ReLU], mean pool,
  linear head; 32 channels) on an 8×3×32×32 batch — about 70 recorded ops per forward.
* ``mlp``: 20 × (Linear 64 → GELU) at batch 4 — 40 recorded ops per forward, each only a few
  microseconds long, so this is the worst case for per-op overhead.

How the time is taken. Every number is wall-clock time per forward, and the trace is always
written *and closed* (the writer thread's work counts):

* ``traced``: one ``tracing.record(path, values=False)`` block runs ``N`` forwards; the time of the
  whole block — opening the file, recording, closing it — divided by ``N`` (amortised). ``N`` is
  chosen so a block lasts about a second.
* ``untraced``: the same ``N`` forwards without recording.
* ``values=True``: as ``traced``, storing every op output in the file.
* ``single``: one forward in its own ``record`` block, including opening and closing the file,
  against one untraced forward (the cost a user sees for a one-off recording).

Traced and untraced runs alternate (``--repeats`` rounds) and the fastest round of each is kept,
which filters out noise from other processes on a shared machine; ratios are taken between
numbers measured in the same run. TorchLens (``torchlens.trace``; run after OpScope's rounds,
because it wraps torch functions for good) and torchview (``draw_graph(save_graph=False)``) run
on the same models when they are importable; they are not dependencies of OpScope (install them
into a scratch folder, e.g. ``pip install --target /tmp/peers torchlens torchview`` and run with
``PYTHONPATH=.:/tmp/peers``).

Targets from issue 3: ≤ 1.3x on the CNN, ≤ 3x on the MLP (``values=False``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tracing

TARGETS = {"cnn": 1.3, "mlp": 3.0}


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + x)


class ResidualCNN(nn.Module):
    def __init__(self, channels: int = 32, blocks: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 3, padding=1)
        self.blocks = nn.Sequential(*[ResidualBlock(channels) for _ in range(blocks)])
        self.head = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(F.relu(self.stem(x)))
        return self.head(x.mean(dim=(2, 3)))


def mlp(width: int = 64, depth: int = 20) -> nn.Module:
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.GELU()]
    return nn.Sequential(*layers)


def models() -> dict[str, tuple[nn.Module, torch.Tensor]]:
    torch.manual_seed(0)
    return {
        "cnn": (ResidualCNN().eval(), torch.randn(8, 3, 32, 32)),
        "mlp": (mlp().eval(), torch.randn(4, 64)),
    }


def _clock(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(model: nn.Module, x: torch.Tensor, path: Path, repeats: int) -> dict[str, float | int]:
    """Seconds per forward: untraced, traced, values=True, and single-forward variants."""

    def forwards(n: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(n):
                model(x)

        return run

    def recorded(n: int, values: bool) -> Callable[[], None]:
        def run() -> None:
            with tracing.record(path, values=values):
                for _ in range(n):
                    model(x)

        return run

    with torch.no_grad():
        for _ in range(3):
            model(x)
        one = _clock(forwards(5)) / 5
        n = max(3, min(2000, int(1.0 / max(one, 1e-6))))
        recorded(3, False)()
        best = {"untraced": 1e9, "traced": 1e9, "values": 1e9, "single": 1e9, "one": 1e9}
        for _ in range(repeats):
            best["untraced"] = min(best["untraced"], _clock(forwards(n)) / n)
            best["traced"] = min(best["traced"], _clock(recorded(n, False)) / n)
            best["values"] = min(
                best["values"], _clock(recorded(max(3, n // 4), True)) / max(3, n // 4)
            )
            best["one"] = min(best["one"], _clock(forwards(1)))
            best["single"] = min(best["single"], _clock(recorded(1, False)))
    return {**best, "n": n, "ops": len(tracing.load(path).ops)}


def peers(model: nn.Module, x: torch.Tensor, repeats: int) -> dict[str, float | str]:
    """Seconds per forward for TorchLens and torchview, or why they did not run."""
    results: dict[str, float | str] = {}
    try:
        import torchlens

        log = getattr(torchlens, "trace", None) or torchlens.log_forward_pass
        results["torchlens"] = min(
            _clock(lambda: log(model, x)) for _ in range(max(1, repeats // 2))
        )
    except ImportError:
        results["torchlens"] = "not installed"
    except Exception as exc:  # a peer failing on a model is a result too
        results["torchlens"] = f"failed: {type(exc).__name__}"
    try:
        from torchview import draw_graph

        results["torchview"] = min(
            _clock(lambda: draw_graph(model, input_data=x, save_graph=False))
            for _ in range(max(1, repeats // 2))
        )
    except ImportError:
        results["torchview"] = "not installed"
    except Exception as exc:
        results["torchview"] = f"failed: {type(exc).__name__}"
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="alternating rounds per model")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--models", nargs="*", default=["cnn", "mlp"], choices=["cnn", "mlp"])
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}"
    )
    header = (
        f"{'model':5} {'ops':>4} {'untraced':>10} {'traced':>10} {'ratio':>6} {'target':>6} "
        f"{'values=True':>11} {'single fwd':>10} {'torchlens':>14} {'torchview':>14}"
    )
    print(header)
    print("-" * len(header))
    ours = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.opscope"
        for name, (model, x) in models().items():
            if name in args.models:
                ours[name] = (measure(model, x, path, args.repeats), model, x)
    # TorchLens wraps torch functions for good once it has run: time it after OpScope.
    for name, (m, model, x) in ours.items():
        base = m["untraced"]
        with torch.no_grad():
            others = peers(model, x, args.repeats)

        def ratio(value: float | str, base: float = base) -> str:
            return f"{value / base:.1f}x" if isinstance(value, float) else str(value)

        print(
            f"{name:5} {m['ops']:>4} {base * 1e3:>8.3f}ms {m['traced'] * 1e3:>8.3f}ms "
            f"{m['traced'] / base:>5.2f}x {TARGETS[name]:>5.1f}x "
            f"{m['values'] / base:>10.2f}x {m['single'] / m['one']:>9.1f}x "
            f"{ratio(others['torchlens']):>14} {ratio(others['torchview']):>14}"
        )
    print(
        "ratio = traced / untraced time per forward (many forwards in one record block, file\n"
        "written and closed); values=True stores every output; single fwd = one forward in its\n"
        "own record block including opening and closing the file, against one untraced forward."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
