"""A zoo of small models built from code, each with a step function that exercises it.

Every entry is ``(build, step)``: ``build()`` makes the model (called under a fixed seed), and
``step(model)`` runs one forward (and, for training entries, a backward and optimizer step) and
returns whatever tensors the program would look at. The faithfulness tests run each step traced
and untraced from identical states and compare everything bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class ConvBlock(nn.Module):
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


class SmallCNN(nn.Module):
    def __init__(self, channels: int = 8, blocks: int = 2) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 3, padding=1)
        self.blocks = nn.Sequential(*[ConvBlock(channels) for _ in range(blocks)])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(channels, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(F.relu(self.stem(x)))
        return self.head(self.pool(x).flatten(1))


def cnn_train_step(model: nn.Module) -> Any:
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(4, 3, 8, 8)
    target = torch.randint(0, 5, (4,))
    loss = F.cross_entropy(model(x), target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss, model(x)


def cnn_eval_step(model: nn.Module) -> Any:
    model.eval()
    with torch.no_grad():
        return model(torch.randn(4, 3, 8, 8))


def transformer() -> nn.Module:
    layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


def transformer_eval_step(model: nn.Module) -> Any:
    model.eval()
    x = torch.randn(3, 6, 32)
    mask = torch.zeros(3, 6, dtype=torch.bool)
    mask[1, 4:] = True
    with torch.no_grad():
        return model(x), model(x, src_key_padding_mask=mask)


def transformer_train_step(model: nn.Module) -> Any:
    model.train()
    out = model(torch.randn(3, 6, 32))
    loss = out.pow(2).mean()
    loss.backward()
    return out, loss


class Tagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 12, num_layers=2, dropout=0.3, batch_first=True)
        self.drop = nn.Dropout(0.2)
        self.out = nn.Linear(12, 4)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.lstm(self.embed(tokens))
        return self.out(self.drop(hidden))


def lstm_step(model: nn.Module) -> Any:
    model.train()
    tokens = torch.randint(0, 20, (3, 7))
    logits = model(tokens)
    loss = F.cross_entropy(logits.reshape(-1, 4), torch.randint(0, 4, (21,)))
    loss.backward()
    return logits, loss


class InPlaceTricks(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.register_buffer("counter", torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x).clone()
        y.view(-1)[2:5].mul_(2)
        y[:, 0] = y[:, 1] + 1
        y.t()[1].add_(0.5)
        z = y.transpose(0, 1).contiguous()
        z.relu_()
        y.data.add_(0.25)
        self.counter += 1
        torch.add(y, 1, out=z.view(y.shape))
        return y.sum() + z.mean()


def inplace_step(model: nn.Module) -> Any:
    with torch.no_grad():
        return model(torch.randn(3, 6)), model.counter.clone()


class Refiner(nn.Module):
    """Applies one block until the output's norm falls below a threshold (data dependent)."""

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Linear(4, 4), nn.Tanh())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, int]:
        steps = 0
        while x.norm() > 0.5 and steps < 10:
            x = self.block(x) * 0.5
            steps += 1
        return x, steps


def refiner_step(model: nn.Module) -> Any:
    return model(torch.randn(2, 4) * 4)


def factories_step(model: nn.Module) -> Any:
    a = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    b = torch.zeros(3, 4).add_(torch.ones(3, 4) * 2)
    c = torch.empty(3, 4).fill_(0.5)
    d = torch.randn(3, 4)
    e = torch.full((3, 4), 7.0)
    f = torch.eye(4)[:3]
    g = torch.linspace(0, 1, 12).view(3, 4)
    h = torch.rand(3, 4).bernoulli()
    return model(a + b + c + d + e + f + g + h)


def masking_step(model: nn.Module) -> Any:
    x = torch.randn(5, 4)
    y = model(x)
    mask = y > 0
    picked = y[mask]
    y2 = y.masked_fill(~mask, -1.0)
    y2[y2 < -0.5] = 0.0
    return picked, y2, torch.where(mask, y, x), mask.sum()


def autocast_step(model: nn.Module) -> Any:
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randn(4, 3, 8, 8))
        loss = out.float().pow(2).mean()
    loss.backward()
    return out, loss


def inference_mode_step(model: nn.Module) -> Any:
    model.eval()
    with torch.inference_mode():
        x = torch.randn(4, 3, 8, 8)
        out = model(x)
        out.mul_(2)
        return out.clone(), out.sum()


def channels_last_step(model: nn.Module) -> Any:
    model.train()
    model.to(memory_format=torch.channels_last)
    x = torch.randn(4, 3, 8, 8).to(memory_format=torch.channels_last)
    out = model(x)
    out.sum().backward()
    return out


class WithScripted(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pre = nn.Linear(5, 5)
        self.core = torch.jit.script(nn.Sequential(nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.core(torch.sigmoid(self.pre(x))).softmax(-1)


def scripted_step(model: nn.Module) -> Any:
    out = model(torch.randn(4, 5))
    out.sum().backward()
    return out


class Compiled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pre = nn.Linear(6, 6)
        self.core = torch.compile(nn.Sequential(nn.Linear(6, 6), nn.GELU(), nn.Linear(6, 2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.core(torch.tanh(self.pre(x))).log_softmax(-1)


def compiled_step(model: nn.Module) -> Any:
    with torch.no_grad():
        return model(torch.randn(4, 6))


class _Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return 2 * a * grad


def advanced_autograd_step(model: nn.Module) -> Any:
    """vmap, torch.func.grad, autograd.grad, checkpointing, a custom Function, clipping, Adam."""
    from torch.utils.checkpoint import checkpoint

    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x = torch.randn(5, 4)
    w = torch.randn(4, 3)

    def score(weight: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return (v @ weight).sin().sum()

    mapped = torch.vmap(lambda v: score(w, v))(x)
    func_grad = torch.func.grad(score)(w, x)
    total = model(x).sum()
    first_grad = torch.autograd.grad(total, list(model.parameters()))[0]
    loss = checkpoint(model, x, use_reentrant=False).pow(2).mean()
    loss = loss + _Square.apply(x).mean()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    opt.step()
    return mapped, func_grad, first_grad, loss


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 4))


ZOO: dict[str, tuple[Callable[[], nn.Module], Callable[[nn.Module], Any]]] = {
    "cnn_batchnorm_train": (SmallCNN, cnn_train_step),
    "cnn_batchnorm_eval": (SmallCNN, cnn_eval_step),
    "transformer_eval_fast_path": (transformer, transformer_eval_step),
    "transformer_train": (transformer, transformer_train_step),
    "lstm_dropout_backward": (Tagger, lstm_step),
    "inplace_and_views": (InPlaceTricks, inplace_step),
    "data_dependent_loop": (Refiner, refiner_step),
    "factory_tensors": (mlp, factories_step),
    "boolean_masking": (mlp, masking_step),
    "autocast_bfloat16": (SmallCNN, autocast_step),
    "inference_mode": (SmallCNN, inference_mode_step),
    "channels_last": (SmallCNN, channels_last_step),
    "jit_script_submodule": (WithScripted, scripted_step),
    "advanced_autograd": (mlp, advanced_autograd_step),
}


class CompiledFunction(nn.Module):
    """Calls a ``torch.compile``d function (not a module), compiled afresh for each run."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(32, 32)
        torch._dynamo.reset()

        def block(h: torch.Tensor) -> torch.Tensor:
            h = nn.functional.layer_norm(h, (32,))
            return torch.softmax(h * 3.7, -1).cumsum(-1) + torch.sin(h).sum(-1, keepdim=True)

        self.block = torch.compile(block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(self.proj(x)) * 2


SLOW_ZOO = {
    "torch_compile_module": (Compiled, compiled_step),
    "torch_compile_function": (CompiledFunction, lambda model: model(torch.randn(16, 32))),
}
"""Entries that compile code (tens of seconds on a 2-core machine)."""
