"""The PyTorch demo behind ``opscope demo``: a small training run with a hidden NaN, recorded.

``python -m tracing.torch_backend.demo OUT.opscope`` writes the model's source below to a
temporary file (``sentiment_demo.py``), runs it under ``tracing.record(OUT, values=True)`` and
exits 0. The program is ordinary user code — a token classifier with attention blocks, a
training loop and an optimizer — so the trace reads like a user's own run: ops point at its
lines, modules nest as in ``named_modules()``. Its bug: the hand-written ``TokenNorm`` divides by
the standard deviation without an epsilon, and padding tokens embed to all-zero vectors
(``padding_idx=0``), so the second batch, which has a short padded sentence, computes 0 / 0.
The NaN then spreads through attention into the loss. The source file is embedded in the trace,
so the viewer shows it on any machine; the temporary copy is removed afterwards.
"""

from __future__ import annotations

import os
import runpy
import sys
import tempfile
from pathlib import Path

SCRIPT_NAME = "sentiment_demo.py"

SOURCE = '''"""Train a tiny sentiment classifier on a few hand-made batches.

Something goes wrong in the second step: the loss turns into NaN. Step through the
recorded run with OpScope to find the first op that produced a NaN, and why.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

VOCAB, DIM, HEADS, CLASSES = 32, 16, 2, 2
PAD = 0


class TokenNorm(nn.Module):
    """Normalise every token vector to zero mean and unit spread."""

    def __init__(self, dim):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        spread = x.std(dim=-1, keepdim=True)
        return self.gain * (x - mean) / spread


class SelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, keep):
        batch, length, dim = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (t.view(batch, length, self.heads, -1).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(dim // self.heads)
        scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
        weights = scores.softmax(dim=-1)
        mixed = (weights @ v).transpose(1, 2).reshape(batch, length, dim)
        return self.out(mixed)


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = TokenNorm(dim)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = TokenNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x, keep):
        x = x + self.attn(self.norm1(x), keep)
        return x + self.mlp(self.norm2(x))


class SentimentClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM, padding_idx=PAD)
        self.blocks = nn.ModuleList([Block(DIM, HEADS) for _ in range(2)])
        self.head = nn.Linear(DIM, CLASSES)

    def forward(self, tokens):
        keep = tokens != PAD
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x, keep)
        pooled = (x * keep[..., None]).sum(dim=1) / keep.sum(dim=1, keepdim=True)
        return self.head(pooled)


def batches():
    full = torch.tensor([[5, 9, 3, 12, 7, 2], [8, 8, 14, 3, 21, 6], [4, 17, 11, 9, 2, 30]])
    padded = torch.tensor([[6, 13, 2, 19, 5, 10], [7, 3, 25, PAD, PAD, PAD], [9, 4, 4, 16, 1, 8]])
    yield full, torch.tensor([1, 0, 1])
    yield padded, torch.tensor([0, 1, 1])


def main():
    torch.manual_seed(0)
    model = SentimentClassifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step, (tokens, labels) in enumerate(batches(), start=1):
        logits = model(tokens)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print(f"step {step}: loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
'''


def record(out: str | os.PathLike[str]) -> Path:
    """Record the demo program into ``out`` (values on) and return the trace path."""
    import tracing

    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="opscope-demo-") as folder:
        script = Path(folder) / SCRIPT_NAME
        script.write_text(SOURCE, encoding="utf-8")
        import torch  # noqa: F401  (imported first, so the backend starts with the block)

        with tracing.record(out, values=True):
            runpy.run_path(str(script), run_name="__main__")
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m tracing.torch_backend.demo OUT.opscope``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m tracing.torch_backend.demo OUT.opscope", file=sys.stderr)
        return 2
    path = record(args[0])
    print(f"recorded the PyTorch demo into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
