"""Perceptual terms on the frozen VGG19 (:mod:`vidgan.models.lossnet`): brush strokes, not colour shifts.

Style (Gatys et al. 2016; Johnson et al. 2016): squared Frobenius distance between Gram matrices
of relu1_1 .. relu3_1, each Gram divided by C x H x W (Johnson's normalisation, so the term does
not grow with the crop). relu3_1 sees only 24 px, so the network also runs on the image at 1/2
and 1/4 of its size: each halving doubles the stroke size the statistics describe. Content
(Johnson et al. 2016): mean squared difference of one layer's features (relu2_2 by default)
between the output and the input photo.

The paintings' side is a :class:`GramBank` computed once from many painting crops: on this CPU a
VGG pass over a step's own painting crops at three scales costs about a third of the generator
step, and four crops per step are a noisy target where the bank's mean is a steady one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from vidgan.models.lossnet import LAYERS, VGGFeatures

__all__ = ["GramBank", "content_loss", "feature_distance", "gram", "image_pyramid", "loss_net_record", "style_loss"]

#: Layer names a content term may use, in the network's order (the index into its outputs).
CONTENT_LAYERS = {name: index for index, name in enumerate(LAYERS)}


def gram(features: torch.Tensor) -> torch.Tensor:
    """(N, C, C) Gram matrices over C x H x W (Johnson et al. 2016), in float32."""
    n, c, h, w = features.shape
    flat = features.float().reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def image_pyramid(image: torch.Tensor, scales: Sequence[float]) -> list[torch.Tensor]:
    """``image`` at each scale (antialiased bilinear; 1 keeps it as is), smallest side at least 8 px."""
    levels = []
    for scale in scales:
        if scale == 1:
            levels.append(image)
            continue
        size = [max(8, round(side * scale)) for side in image.shape[-2:]]
        levels.append(F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True))
    return levels


def pyramid_grams(net: VGGFeatures, image: torch.Tensor, scales: Sequence[float]) -> list[list[torch.Tensor]]:
    """Gram matrices per scale and layer: ``[scale][layer] -> (N, C, C)``."""
    return [[gram(f) for f in net(level)] for level in image_pyramid(image, scales)]


def style_loss(grams: list[list[torch.Tensor]], targets: list[list[torch.Tensor]]) -> torch.Tensor:
    """Sum over layers of the squared Frobenius Gram distance, mean over images and scales."""
    total = grams[0][0].new_zeros(())
    for level, target in zip(grams, targets, strict=True):
        for g, t in zip(level, target, strict=True):
            total = total + ((g - t) ** 2).sum(dim=(1, 2)).mean()
    return total / len(grams)


def content_loss(output_features: torch.Tensor, photo_features: torch.Tensor) -> torch.Tensor:
    """Johnson et al.'s feature reconstruction: mean squared feature difference (over C x H x W)."""
    return F.mse_loss(output_features.float(), photo_features.float())


#: The layers :func:`feature_distance` compares: edges, textures and small shapes.
FEATURE_LAYERS = ("relu1_2", "relu2_2", "relu3_1")


def feature_distance(net: VGGFeatures, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean L1 between the VGG features of ``output`` and ``target`` at :data:`FEATURE_LAYERS` (the
    perceptual term of interpolation training; the target's side carries no gradient)."""
    with torch.no_grad():
        wanted = net(target.float())
    got = net(output.float())
    indices = [CONTENT_LAYERS[name] for name in FEATURE_LAYERS]
    return sum(((got[i] - wanted[i]).abs().mean() for i in indices), output.new_zeros(())) / len(indices)


class GramBank:
    """The paintings' mean Gram matrix per scale and layer, computed once from many crops.

    Crops go through the network a few at a time (no gradients), so a bank of hundreds of crops
    costs one forward pass each and no memory beyond a chunk.
    """

    def __init__(self, net: VGGFeatures, crops: torch.Tensor, scales: Sequence[float], chunk: int = 8) -> None:
        self.scales = tuple(scales)
        sums: list[list[torch.Tensor]] | None = None
        with torch.no_grad():
            for start in range(0, len(crops), chunk):
                grams = pyramid_grams(net, crops[start:start + chunk].float(), self.scales)
                part = [[g.sum(dim=0) for g in level] for level in grams]
                sums = part if sums is None else [[s + p for s, p in zip(a, b, strict=True)]
                                                  for a, b in zip(sums, part, strict=True)]
        if sums is None:
            raise ValueError("a Gram bank needs at least one painting crop")
        self.targets = [[(s / len(crops))[None] for s in level] for level in sums]

    def distance(self, net: VGGFeatures, image: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The style term of ``image``, and its full-scale features (for the content term)."""
        levels = image_pyramid(image, self.scales)
        features = [net(level) for level in levels]
        grams = [[gram(f) for f in level] for level in features]
        full = features[self.scales.index(1)] if 1 in self.scales else net(image)
        return style_loss(grams, self.targets), full

    def to(self, device: torch.device | str) -> GramBank:
        self.targets = [[t.to(device) for t in level] for level in self.targets]
        return self


def loss_net_record(path: Path) -> dict[str, Any]:
    """What a model card says about the loss network it was trained with (it is never shipped)."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return {"file": Path(path).name, "sha256": digest, "use": "training time only (not shipped)"}
