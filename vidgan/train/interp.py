"""``vidgan train interp``: train the interpolation network on frame triplets with a small adversarial term.

Triplets (I0, It, I1) come from videos and frame folders: frames i, i + k, i + 2k with k drawn
from ``skips`` (larger k, larger motion), random crops, flips, time reversal and a small colour
jitter. The objective is reconstruction first: L1 plus a Laplacian-pyramid L1 (edges count at
every scale), and an LSGAN term with a weight far below them from a spectral-norm PatchGAN that
judges the synthesised frame together with its two neighbours (9 channels), so it learns what a
plausible in-between frame is rather than what a sharp image is. Learning motion through the
photometric loss alone is slow (a first CPU run was still the plain blend after 580 steps), so the
flows are also distilled toward privileged ones: DIS flows from the true middle frame to each end
frame, where they rebuild it (the network never sees the middle frame; the idea of RIFE's
privileged teacher and IFRNet's task-oriented flow distillation, done with a classical teacher).

A :class:`vidgan.train.loop.Recipe`: the loop checkpoints the networks and optimisers (read with
``torch.load(weights_only=True)``; ``--resume`` is exact) and exports the network as safetensors +
a JSON model card. The triplets come from :mod:`vidgan.train.data.triplets`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from vidgan.device import resolve_device, training_dtype
from vidgan.errors import TrainingDataError
from vidgan.models.cards import save_model
from vidgan.models.discriminator import DiscriminatorConfig, MultiScaleDiscriminator
from vidgan.models.interpnet import PRESETS, InterpNet
from vidgan.progress import ProgressMode
from vidgan.train import loop, losses
from vidgan.train.config import InterpTrainingConfig
from vidgan.train.data.triplets import TripletFrames

__all__ = ["INTERP_RECIPES", "InterpTrainer", "InterpTrainingConfig", "TripletFrames", "interp_trainer"]


def _to_channels_last(module: torch.nn.Module) -> None:
    """``Module.to(memory_format=...)``, in place: torch takes the keyword at run time, but its typed
    overloads of ``Module.to`` leave it out."""
    to = cast(Callable[..., torch.nn.Module], module.to)
    to(memory_format=torch.channels_last)


class InterpTrainer:
    """Interpolation network training, as a recipe of :func:`vidgan.train.loop.run`."""

    def __init__(self, config: InterpTrainingConfig, frames: TripletFrames | None = None) -> None:
        self.config = config
        self.name = config.name
        self.device = torch.device(resolve_device(config.device))
        self.dtype = training_dtype(config.amp, self.device)
        self.out = Path(config.out)
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self._given_frames = frames
        self._ready = False

    def setup(self) -> None:
        """Read the triplet sources and build the network, its critic and their optimisers."""
        if self._ready:
            return
        self._ready = True
        config = self.config
        given = self._given_frames
        self.frames = given if given is not None else TripletFrames(
            config.sources, image_side=config.image_side, max_frames=config.max_frames, skips=config.skips,
            photos=config.photos, synthetic=config.synthetic, max_motion=config.max_motion)
        self.net = InterpNet(PRESETS[config.preset]).to(self.device)
        if config.crop % self.net.config.multiple:
            raise TrainingDataError(f"--crop must be a multiple of {self.net.config.multiple} for the "
                                    f"{config.preset} network; got {config.crop}")
        self.disc = MultiScaleDiscriminator(DiscriminatorConfig(width=config.disc_width, in_channels=9)).to(self.device)
        if self.device.type == "cuda":
            _to_channels_last(self.net)
            _to_channels_last(self.disc)
        self.opt_g = torch.optim.Adam(self.net.parameters(), lr=config.lr, betas=(0.9, 0.999))
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=config.lr, betas=(0.5, 0.999))

    def _lr(self, step: int) -> float:
        """Cosine decay to 5% over the run."""
        progress = min(1.0, step / max(1, self.config.steps))
        return float(self.config.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * progress))))

    def step(self, step: int) -> dict[str, float]:
        c = self.config
        batch, teacher = self.frames.sample(c.batch, c.crop, self.rng, flows=c.lambda_flow > 0)
        batch = batch.to(self.device)
        frame0, truth, frame1 = batch[:, 0:3], batch[:, 3:6], batch[:, 6:9]
        t = torch.full((c.batch,), 0.5, device=self.device)
        lr = self._lr(step)
        for group in (*self.opt_g.param_groups, *self.opt_d.param_groups):
            group["lr"] = lr
        with loop.autocast(self.device, self.dtype):
            flows, mask = self.net.estimate(frame0, frame1, t)
            out = self.net.compose(frame0, frame1, t, flows, mask).float()
            l1 = (out - truth).abs().mean()
            flow_l1 = torch.zeros((), device=self.device)
            if teacher is not None:
                teacher = teacher.to(self.device)
                flow_l1 = losses.teacher_flow_distance(flows, teacher, frame0, frame1, truth)
            lap = losses.total((a - b).abs().mean() for a, b in zip(losses.laplacian_pyramid(out, 4),
                                                                     losses.laplacian_pyramid(truth, 4)))
            g_adv = torch.zeros((), device=self.device)
            if c.lambda_adv:
                fake = torch.cat((frame0, out, frame1), dim=1)
                g_adv = losses.generator_adversarial("lsgan", self.disc(fake))
            g_total = c.lambda_l1 * l1 + c.lambda_laplacian * lap + c.lambda_adv * g_adv + c.lambda_flow * flow_l1
        self.opt_g.zero_grad(set_to_none=True)
        g_total.backward()
        self.opt_g.step()
        d_loss = torch.zeros((), device=self.device)
        if c.lambda_adv:
            with loop.autocast(self.device, self.dtype):
                real = torch.cat((frame0, truth, frame1), dim=1)
                fake = torch.cat((frame0, out.detach(), frame1), dim=1)
                d_loss = losses.discriminator_adversarial("lsgan", self.disc(real), self.disc(fake))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        with torch.no_grad():
            blend_psnr = -10 * torch.log10(((frame0 + frame1) / 2 - truth).pow(2).mean().clamp_min(1e-10))
            psnr = -10 * torch.log10((out.clamp(0, 1) - truth).pow(2).mean().clamp_min(1e-10))
        return {"l1": l1.item(), "laplacian": float(lap.item()), "flow": flow_l1.item(), "g_adv": g_adv.item(),
                "d": d_loss.item(),
                "psnr": float(psnr), "psnr_gain_over_blend": float(psnr - blend_psnr), "lr": lr}

    # -- checkpoints and export ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "disc": self.disc.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.disc.load_state_dict(state["disc"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])

    def export(self, folder: Path, *, training: dict[str, Any]) -> Path:
        c = self.config
        card = {
            "kind": "interpolator", "name": c.name, "preset": c.preset,
            "network": dataclasses.asdict(self.net.config),
            "training": {
                "recipe": f"L1 x{c.lambda_l1:g}, Laplacian pyramid L1 x{c.lambda_laplacian:g}, "
                          f"LSGAN x{c.lambda_adv:g} (PatchGAN on I0, It, I1), "
                          f"flow distillation x{c.lambda_flow:g} (DIS flows from the true middle frame)",
                **training,
                "sources": list(c.sources), "frames": len(self.frames),
            },
        }
        return save_model(folder, f"{c.name}_{c.preset}", self.net.state_dict(), card)

    def run(self, *, progress: ProgressMode = "auto", resume: bool = True) -> Path:
        """Train to ``config.steps`` on :func:`vidgan.train.loop.run`; returns the exported weights' path."""
        return loop.run(self, self.config, progress=progress, resume=resume)


def _refine_trainer(config: InterpTrainingConfig, frames: TripletFrames | None = None) -> loop.Recipe:
    from vidgan.train.refine import RefineTrainer

    return RefineTrainer(config, frames)


#: What ``vidgan train interp --model NAME`` trains, by :data:`vidgan.train.config.InterpModel`.
INTERP_RECIPES: dict[str, Callable[..., loop.Recipe]] = {"interpnet": InterpTrainer, "refine": _refine_trainer}


def interp_trainer(config: InterpTrainingConfig, frames: TripletFrames | None = None) -> Any:
    """The recipe ``config.model`` names (each has ``run(progress=, resume=)``)."""
    return INTERP_RECIPES[config.model](config, frames)
