"""PatchGAN discriminator with spectral normalisation (Isola et al. 2017; Miyato et al. 2018).

Paper names: D_Y judges stylized frames against paintings, D_X judges content reconstructions
against photos. Each output pixel scores one receptive-field patch (70x70 for three strided
layers), so the loss looks at texture and local colour, which is what a style is.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass(frozen=True)
class DiscriminatorConfig:
    width: int = 64
    layers: int = 3  # strided layers; 3 gives 70x70 patches
    scales: int = 1  # >1: the same PatchGAN also judges 2x, 4x... downscaled copies (multi-scale)
    in_channels: int = 3  # 9 for an interpolated frame judged with its two neighbours


class PatchDiscriminator(nn.Module):
    def __init__(self, width: int = 64, layers: int = 3, in_channels: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = [spectral_norm(nn.Conv2d(in_channels, width, 4, 2, 1)),
                                   nn.LeakyReLU(0.2, inplace=True)]
        channels = width
        for index in range(1, layers + 1):
            out = width * min(2**index, 8)
            stride = 2 if index < layers else 1
            blocks += [spectral_norm(nn.Conv2d(channels, out, 4, stride, 1)), nn.LeakyReLU(0.2, inplace=True)]
            channels = out
        blocks.append(spectral_norm(nn.Conv2d(channels, 1, 4, 1, 1)))
        self.net = nn.Sequential(*blocks)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image * 2 - 1)


class MultiScaleDiscriminator(nn.Module):
    """One PatchGAN per scale; returns the list of patch score maps."""

    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        self.config = config
        self.heads = nn.ModuleList(PatchDiscriminator(config.width, config.layers, config.in_channels)
                                   for _ in range(config.scales))

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        scores = []
        for index, head in enumerate(self.heads):
            if index:
                image = nn.functional.avg_pool2d(image, 2)
            scores.append(head(image))
        return scores
