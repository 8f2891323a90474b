"""Losses of recurrent CycleGAN training.

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
