"""A small convolutional image classifier: 3x3 conv + ReLU layers, one 2x2 max-pool, an MLP head."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn


@dataclass(frozen=True)
class CNNConfig:
    in_channels: int
    height: int
    width: int
    channels: tuple[int, ...]
    hidden: int
    num_classes: int

    def __post_init__(self) -> None:
        sizes = (self.in_channels, self.height, self.width, self.hidden, self.num_classes)
        if min(sizes) < 1 or not self.channels or min(self.channels) < 1:
            raise ValueError("sizes must be positive")
        if self.height % 2 or self.width % 2:
            raise ValueError("height and width must be even (one 2x2 pooling)")


class CNN(nn.Module):
    def __init__(self, config: CNNConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        previous = config.in_channels
        for width in config.channels:
            layers += [nn.Conv2d(previous, width, 3, padding=1), nn.ReLU()]
            previous = width
        layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        flat = previous * (config.height // 2) * (config.width // 2)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.num_classes),
        )

    def forward(self, images: Tensor) -> Tensor:
        """Logits [batch, classes] for images [batch, channels, height, width] scaled to [0, 1]."""
        return self.head(self.features(images))
