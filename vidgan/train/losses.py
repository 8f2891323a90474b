"""Losses of recurrent CycleGAN training, and the patch-statistics style term.

Adversarial objectives by name (LSGAN, the CycleGAN default; hinge; WGAN-GP), and the temporal
term: the masked difference between y_t and the previous output warped to t (Ruder et al. 2016;
ReCoNet 2018). Cycle and identity terms are plain L1 (Zhu et al. 2017) and live in the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F

from vidgan.ops import reference

GanLoss = Literal["lsgan", "hinge", "wgan-gp"]


def _mean(scores: list[torch.Tensor], fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    return sum(fn(s).mean() for s in scores) / len(scores)


def generator_adversarial(kind: GanLoss, fake_scores: list[torch.Tensor]) -> torch.Tensor:
    """What G minimises so that D scores its output as real."""
    if kind == "lsgan":
        return _mean(fake_scores, lambda s: (s - 1) ** 2)
    return _mean(fake_scores, lambda s: -s)  # hinge and WGAN share the generator side


def discriminator_adversarial(
    kind: GanLoss, real_scores: list[torch.Tensor], fake_scores: list[torch.Tensor]
) -> torch.Tensor:
    if kind == "lsgan":
        return 0.5 * (_mean(real_scores, lambda s: (s - 1) ** 2) + _mean(fake_scores, lambda s: s**2))
    if kind == "hinge":
        return _mean(real_scores, lambda s: F.relu(1 - s)) + _mean(fake_scores, lambda s: F.relu(1 + s))
    return _mean(fake_scores, lambda s: s) - _mean(real_scores, lambda s: s)


def gradient_penalty(discriminator: Callable, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): unit gradient norm on random interpolates."""
    mix = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    scores = discriminator(between)
    grads = torch.autograd.grad(sum(s.sum() for s in scores), between, create_graph=True)[0]
    return ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()


def temporal(current_output: torch.Tensor, previous_output: torch.Tensor, flow_cur_to_prev: torch.Tensor,
             valid: torch.Tensor) -> torch.Tensor:
    """Masked mean squared difference between y_t and warp(y_{t-1}); differentiable (torch twin)."""
    warped, inside = reference.warp(previous_output, flow_cur_to_prev, border="edge")
    weight = valid * inside
    return (weight * (current_output - warped) ** 2).sum() / (weight.sum() * current_output.shape[1]).clamp_min(1.0)


_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)


def _blur(image: torch.Tensor) -> torch.Tensor:
    """5-tap binomial blur (the kernel of a Burt-Adelson pyramid), reflect-padded, per channel."""
    taps = torch.tensor(_BINOMIAL, device=image.device, dtype=image.dtype) / 16
    channels = image.shape[1]
    padded = F.pad(image, (2, 2, 2, 2), mode="reflect")
    horizontal = F.conv2d(padded, taps.view(1, 1, 1, 5).expand(channels, 1, 1, 5), groups=channels)
    return F.conv2d(horizontal, taps.view(1, 1, 5, 1).expand(channels, 1, 5, 1), groups=channels)


def laplacian_pyramid(image: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Band-pass levels, finest first, and the low-pass residual last (which holds the colours)."""
    bands = []
    current = image
    for _ in range(levels - 1):
        down = _blur(current)[..., ::2, ::2]
        up = F.interpolate(down, size=current.shape[-2:], mode="bilinear", align_corners=False)
        bands.append(current - up)
        current = down
    bands.append(current)
    return bands


class PatchBank:
    """A fixed sample of the paintings' 7x7 Laplacian-pyramid patches, level by level.

    Matching a generated batch against a few painting crops of the same step is mostly noise
    (two batches of four crops of the *same* paintings are already far apart); a bank of tens of
    thousands of patches drawn once from many crops is a steady target. Each level also keeps
    the per-channel mean and spread used to normalise both sides.
    """

    def __init__(self, crops: torch.Tensor, *, levels: int = 4, patch: int = 7, per_level: int = 16384,
                 generator: torch.Generator | None = None) -> None:
        self.levels, self.patch = levels, patch
        self.patches: list[torch.Tensor] = []  # (N, C * patch * patch), normalised
        self.mean: list[torch.Tensor] = []
        self.spread: list[torch.Tensor] = []
        with torch.no_grad():
            for band in laplacian_pyramid(crops.float(), levels):
                if min(band.shape[-2:]) < patch:
                    break
                mean = band.mean(dim=(0, 2, 3), keepdim=True)
                spread = band.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-3)
                unfolded = F.unfold((band - mean) / spread, patch)  # (B, C*p*p, L)
                flat = unfolded.transpose(1, 2).reshape(-1, unfolded.shape[1])
                pick = torch.randperm(len(flat), generator=generator, device=flat.device)[:per_level]
                self.patches.append(flat[pick].contiguous())
                self.mean.append(mean)
                self.spread.append(spread)

    def to(self, device: torch.device | str) -> PatchBank:
        for values in (self.patches, self.mean, self.spread):
            values[:] = [v.to(device) for v in values]
        return self

    def distance(self, fake: torch.Tensor, directions: int = 32) -> torch.Tensor:
        """Sliced Wasserstein-1 distance between ``fake``'s patches and the bank, mean over levels.

        Fresh random unit directions each call; a convolution projects every patch position of
        the batch at once, and the bank's sorted projections are read at the batch's ranks.
        """
        total = fake.new_zeros((), dtype=torch.float32)
        bands = laplacian_pyramid(fake.float(), self.levels)
        for level, bank in enumerate(self.patches):
            weights = torch.randn(directions, bank.shape[1], device=fake.device)
            weights = weights / weights.norm(dim=1, keepdim=True)
            normalised = (bands[level] - self.mean[level]) / self.spread[level]
            projected = F.conv2d(normalised, weights.view(directions, -1, self.patch, self.patch))
            fake_sorted = projected.transpose(0, 1).flatten(1).sort(dim=1).values  # (K, Nf)
            with torch.no_grad():
                bank_sorted = (bank @ weights.T).sort(dim=0).values.T  # (K, Nb)
                count = fake_sorted.shape[1]
                ranks = ((torch.arange(count, device=fake.device) + 0.5) * (bank_sorted.shape[1] / count)).long()
                target = bank_sorted[:, ranks.clamp_max(bank_sorted.shape[1] - 1)]
            total = total + (fake_sorted - target).abs().mean()
        return total / max(len(self.patches), 1)
