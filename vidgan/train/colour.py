"""Palette term: the output's Lab colour distribution against the paintings' whole collection.

The Gram style term matches texture statistics and lets the palette drift (van Gogh's yellow and
blue pushed past the collection's own, further from it than the photos were); this term is what
``vidgan eval style`` reports as the Lab colour distance (:mod:`vidgan.eval.colour`), made
differentiable: a sliced Wasserstein-1 distance between the batch's Lab pixels and a bank of the
paintings' Lab pixels, on fixed directions so a resumed run computes exactly the same term.
"""

from __future__ import annotations

import torch

__all__ = ["ColourBank", "rgb_to_lab"]

# sRGB (D65) to CIE XYZ, the matrix OpenCV's COLOR_RGB2Lab uses, rows scaled by the white point
# so that white maps to (1, 1, 1) before the Lab non-linearity.
_RGB_TO_XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                            [0.212671, 0.715160, 0.072169],
                            [0.019334, 0.119193, 0.950227]], dtype=torch.float64)
_WHITE = torch.tensor([0.950456, 1.0, 1.088754], dtype=torch.float64)
_EPSILON = 0.008856
_KAPPA = 903.3


def rgb_to_lab(image: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) sRGB in [0, 1] to CIE Lab (L 0..100; a, b about -128..127), as OpenCV on floats."""
    rgb = image.clamp(0.0, 1.0)
    linear = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055).clamp_min(1e-8) ** 2.4, rgb / 12.92)
    matrix = (_RGB_TO_XYZ / _WHITE[:, None]).to(image)
    xyz = torch.einsum("ij,njhw->nihw", matrix, linear)
    f = torch.where(xyz > _EPSILON, xyz.clamp_min(1e-8) ** (1.0 / 3.0), (_KAPPA * xyz + 16.0) / 116.0)
    lightness = torch.where(xyz[:, 1] > _EPSILON, 116.0 * f[:, 1] - 16.0, _KAPPA * xyz[:, 1])
    return torch.stack((lightness, 500.0 * (f[:, 0] - f[:, 1]), 200.0 * (f[:, 1] - f[:, 2])), dim=1)


def _directions(count: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(count, 3, generator=generator, dtype=torch.float64)
    return (directions / directions.norm(dim=1, keepdim=True)).float()


class ColourBank:
    """The paintings' Lab pixels projected on fixed directions, kept as ``quantiles`` sorted values.

    ``distance`` projects every pixel of a batch the same way and compares the two sorted
    projections at the same quantiles: the mean over directions of the 1-D Wasserstein-1 distance,
    in Lab units (so its value reads like the eval's colour distance).
    """

    def __init__(self, crops: torch.Tensor, *, directions: int = 64, quantiles: int = 2048, seed: int = 0) -> None:
        if len(crops) == 0:
            raise ValueError("a colour bank needs at least one painting crop")
        self.directions = _directions(directions, seed)
        self.quantiles = quantiles
        with torch.no_grad():
            pixels = rgb_to_lab(crops.float()).permute(1, 0, 2, 3).reshape(3, -1)
            self.sorted = self._sorted_quantiles(pixels)

    def _sorted_quantiles(self, pixels: torch.Tensor) -> torch.Tensor:
        projected = self.directions.to(pixels) @ pixels  # (D, P)
        ordered = projected.sort(dim=1).values
        count = ordered.shape[1]
        positions = ((torch.arange(self.quantiles, device=pixels.device) + 0.5) * count / self.quantiles).long()
        return ordered[:, positions.clamp_max(count - 1)]

    def distance(self, image: torch.Tensor) -> torch.Tensor:
        """Sliced W1 between the Lab pixels of ``image`` (N, 3, H, W, RGB in [0, 1]) and the bank's."""
        pixels = rgb_to_lab(image.float()).permute(1, 0, 2, 3).reshape(3, -1)
        return (self._sorted_quantiles(pixels) - self.sorted.to(pixels)).abs().mean()

    def to(self, device: torch.device | str) -> ColourBank:
        self.directions = self.directions.to(device)
        self.sorted = self.sorted.to(device)
        return self
