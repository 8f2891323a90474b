"""Distillation terms: a frozen trained style as the teacher of a smaller student.

The recipe follows Texler et al. (2020, "Interactive video stylization using few-shot patch-based
training"): an L1 term, a VGG perceptual term and an adversarial term, weighted 4 / 6 / 0.5.

- The L1 compares *low-passed* outputs (4x area downsampling): a painting is texture, and a
  plain per-pixel L1 to a textured target is minimised by the average of the possible strokes,
  which is a blur (Isola et al. 2017, pix2pix). The low-pass keeps colours and layout exact and
  leaves the strokes to the two terms below.
- The perceptual term is the mean squared difference of VGG relu2_2 and relu3_1 features
  between student and teacher outputs (:mod:`vidgan.models.lossnet`).
- The conditional PatchGAN (pix2pix) sees (photo, output) as 6 channels and takes the teacher's
  painting of that photo as real, so it judges whether the strokes fit the photo, not only
  whether they look painted.

The teacher is run recurrently like the student (:meth:`Teacher.paint`), so the student also
learns how the teacher carries the previous frame over. The teacher is never checkpointed: the
run records its file's sha256 and refuses to resume with a different one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from vidgan.errors import TrainingDataError
from vidgan.models.discriminator import DiscriminatorConfig, MultiScaleDiscriminator
from vidgan.models.lossnet import LAYERS, VGGFeatures
from vidgan.models.stylizer import RecurrentStylizer
from vidgan.models.zoo import find_style, load_generator
from vidgan.ops import reference
from vidgan.train.losses import AdversarialLoss, gradient_penalty, total

__all__ = ["LOWPASS_FACTOR", "PERCEPTUAL_LAYERS", "ConditionalCritic", "Teacher", "file_sha256", "lowpass",
           "lowpass_l1", "perceptual_distance"]

#: The low-pass of the L1 term: outputs are area-averaged over LOWPASS_FACTOR x LOWPASS_FACTOR pixels.
LOWPASS_FACTOR = 4
#: VGG layers of the perceptual term (indices into :data:`vidgan.models.lossnet.LAYERS`).
PERCEPTUAL_LAYERS = ("relu2_2", "relu3_1")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Teacher:
    """A trained style, frozen (eval mode, no gradients), and what the student's card says of it."""

    model: RecurrentStylizer
    name: str
    preset: str
    file: Path
    sha256: str

    @classmethod
    def load(cls, style: str, device: torch.device | str) -> Teacher:
        """A built-in or user style by name (its full model when there is one) or a ``.safetensors``
        file with its card; a missing, pickled or corrupt teacher is a one-line error."""
        entry = find_style(style, prefer_full=True)
        model = load_generator(entry, device)
        model.requires_grad_(False)
        return cls(model.eval(), entry.name, entry.preset, entry.weights, file_sha256(entry.weights))

    @property
    def record(self) -> dict[str, Any]:
        """The model card's ``teacher`` entry."""
        return {"name": self.name, "preset": self.preset, "file": self.file.name, "sha256": self.sha256,
                "recurrent": self.model.config.recurrent}

    @torch.no_grad()
    def paint(self, previous: torch.Tensor, current: torch.Tensor, flow: torch.Tensor,
              valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The teacher's two unrolled frames: t_{t-1} = T(x_{t-1}), then t_t = T(x_t, warp(t_{t-1})),
        warped with the same motion and confidence as the student's own previous output."""
        first = self.model(previous)
        if not self.model.config.recurrent:
            return first, self.model(current)
        warped, inside = reference.warp(first, flow, border="edge")
        return first, self.model(current, warped, valid * inside)

    def check_resume(self, recorded: str | None) -> None:
        """Refuse to continue a checkpoint trained from another teacher (or from none)."""
        if recorded != self.sha256:
            was = f"teacher sha256 {recorded[:12]}..." if recorded else "no teacher"
            raise TrainingDataError(f"the checkpoint was trained with {was}; --teacher {self.file} has sha256 "
                                    f"{self.sha256[:12]}...: resume with the same teacher or train into a new --out")


def lowpass(image: torch.Tensor) -> torch.Tensor:
    """Mean over LOWPASS_FACTOR x LOWPASS_FACTOR blocks (a partial block at the edge averages what it has)."""
    return F.avg_pool2d(image.float(), LOWPASS_FACTOR, ceil_mode=True)


def lowpass_l1(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between the low-passed output and target: colour and layout, not the strokes' phase."""
    return (lowpass(output) - lowpass(target)).abs().mean()


def perceptual_distance(net: VGGFeatures, output: torch.Tensor, target: torch.Tensor,
                        features: list[torch.Tensor] | None = None) -> torch.Tensor:
    """Sum over :data:`PERCEPTUAL_LAYERS` of the mean squared feature difference (target without
    gradients); ``features`` are ``net(output)`` when the caller already has them."""
    with torch.no_grad():
        wanted = net(target)
    got = net(output) if features is None else features
    return total(F.mse_loss(got[i].float(), wanted[i].float()) for i in (LAYERS.index(n) for n in PERCEPTUAL_LAYERS))


class ConditionalCritic:
    """The conditional PatchGAN D(photo, painting), its Adam and learning-rate schedule."""

    def __init__(self, config: DiscriminatorConfig, gan: AdversarialLoss, *, lr: float, schedule: Any,
                 device: torch.device) -> None:
        self.net = MultiScaleDiscriminator(DiscriminatorConfig(config.width, config.layers, config.scales,
                                                               in_channels=6)).to(device)
        self.gan = gan
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr, betas=(0.5, 0.999))
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, schedule)

    def frozen(self, frozen: bool) -> None:
        for p in self.net.parameters():
            p.requires_grad_(not frozen)

    def generator_loss(self, photo: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """What the student minimises: the critic scores (photo, student output) as real."""
        return self.gan.generator(self.net(torch.cat((photo, output), dim=1)))

    def update(self, photo: torch.Tensor, real: torch.Tensor, fake: torch.Tensor, autocast: Any,
               gp_weight: float = 10.0) -> torch.Tensor:
        """One critic step: (photo, teacher painting) real, (photo, student output) fake; returns its loss."""
        self.frozen(False)
        real, fake = torch.cat((photo, real), dim=1), torch.cat((photo, fake.detach()), dim=1)
        with autocast:
            loss = self.gan.discriminator(self.net(real), self.net(fake))
            if self.gan.gradient_penalty:
                loss = loss + gp_weight * gradient_penalty(self.net, real, fake)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.sched.step()
        return loss

    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "opt": self.opt.state_dict(), "sched": self.sched.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])
