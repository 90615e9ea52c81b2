"""Run a small transformer encoder for inference, as a serving loop would.

In eval mode under torch.no_grad() PyTorch runs a fused kernel per encoder layer. OpScope keeps
that fast path (results are bit-identical to an unrecorded run) and shows each fused kernel as
one opaque op inside its layer.

Record it:  opscope record examples/transformer_inference.py -o encoder.opscope
"""

import torch
from torch import nn


class TextEncoder(nn.Module):
    def __init__(self, vocab=100, dim=32, heads=4, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.pool = nn.Linear(dim, dim)

    def forward(self, tokens):
        hidden = self.encoder(self.embed(tokens))
        return torch.tanh(self.pool(hidden[:, 0]))


def main():
    torch.manual_seed(0)
    model = TextEncoder().eval()
    with torch.no_grad():
        for request in range(3):
            tokens = torch.randint(0, 100, (2, 12))
            vectors = model(tokens)
            print(f"request {request}: norms {vectors.norm(dim=-1).tolist()}")


if __name__ == "__main__":
    main()
