"""A bag-of-tokens text classifier: mean of token embeddings, then a one-hidden-layer MLP.

Word order is ignored, which is enough for topic or sentiment of short texts and trains in
about a second on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn


@dataclass(frozen=True)
class BowConfig:
    vocab_size: int
    embed_dim: int
    hidden: int
    num_labels: int

    def __post_init__(self) -> None:
        if min(self.vocab_size, self.embed_dim, self.hidden, self.num_labels) < 1:
            raise ValueError("sizes must be positive")


class BagOfTokens(nn.Module):
    def __init__(self, config: BowConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.EmbeddingBag(config.vocab_size, config.embed_dim, mode="mean")
        self.head = nn.Sequential(
            nn.Linear(config.embed_dim, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.num_labels),
        )

    def forward(self, tokens: Tensor, offsets: Tensor) -> Tensor:
        """Logits [bags, labels] for flat ``tokens`` split into bags starting at ``offsets``."""
        return self.head(self.embedding(tokens, offsets))
