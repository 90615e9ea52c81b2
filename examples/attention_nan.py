"""A retrieval scorer whose loss becomes NaN: log of a softmax that underflows.

The scorer sharpens its attention with a small temperature and then takes the log of the
softmax by hand. For one query the scores are far apart, the softmax underflows to exactly 0,
log(0) is -inf, and -inf * 0 in the weighted loss is NaN.

Record it:  opscope record examples/attention_nan.py -o nan.opscope --values
Then:       opscope info nan.opscope   (shows the first NaN/Inf op and its line)
"""

import torch
from torch import nn


class Scorer(nn.Module):
    def __init__(self, dim=8, temperature=0.01):
        super().__init__()
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.temperature = temperature

    def forward(self, queries, documents):
        q = self.query(queries)
        k = self.key(documents)
        scores = q @ k.t() / self.temperature
        probabilities = torch.softmax(scores, dim=-1)
        return torch.log(probabilities)


def main():
    torch.manual_seed(0)
    scorer = Scorer()
    queries = torch.randn(4, 8)
    documents = torch.randn(6, 8)
    relevance = torch.zeros(4, 6)
    relevance[torch.arange(4), torch.tensor([0, 2, 3, 5])] = 1.0
    log_probs = scorer(queries, documents)
    loss = -(relevance * log_probs).sum() / relevance.sum()
    loss.backward()
    print(f"loss: {loss.item()}")


if __name__ == "__main__":
    main()
