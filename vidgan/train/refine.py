"""``vidgan train interp --model refine``: teach the refinement network what ``dis`` gets wrong.

Each step draws triplets (I0, It, I1) from clips, frame folders and synthetic layered scenes
(:mod:`vidgan.train.data.triplets`), runs DIS on every triplet's end frames exactly as the
``dis`` model does at inference (same preset, same code: :meth:`DisInterpolator.prepare`), and
trains :class:`~vidgan.models.refine.RefineNet` on the frame :func:`~vidgan.models.refine.refined_frame`
makes from it. DIS runs on each crop at the crop's scale, which is the scale the network works at
in use (the flow's scale); it costs a fraction of the network's step, so it is computed per
triplet rather than cached (crops, flips and jitter make each one new).

The objective: L1 + Laplacian-pyramid L1 (edges at every scale) + a census term (structure,
blind to brightness) or, with a loss network, VGG features; and a small LSGAN term from a
spectral-norm PatchGAN that judges the frame with its two neighbours (I0, It, I1). With
``--lambda-adv 0`` no critic is built at all: the ablation without it.

The network's heads start at zero, so step 0 is ``dis`` exactly. A :class:`vidgan.train.loop.Recipe`:
``--resume`` is exact (networks, optimisers, every random state, the CPU time so far).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidgan.device import resolve_device, training_dtype
from vidgan.errors import TrainingDataError
from vidgan.models.discriminator import DiscriminatorConfig, MultiScaleDiscriminator
from vidgan.models.flow import DIS_MIN_SHORT_SIDE
from vidgan.models.interp import DisInterpolator, DisPair, flows_to_t, occlusion_blend, warp_to_t
from vidgan.models.refine import PRESETS, RefineNet, refine, refined_frame, save_refine
from vidgan.progress import ProgressMode
from vidgan.train import loop, losses, perceptual
from vidgan.train.config import InterpTrainingConfig
from vidgan.train.data.triplets import TripletFrames

__all__ = ["RefineTrainer", "refine_stem"]

#: Triplets are synthesised at their middle.
_T = 0.5


def refine_stem(config: InterpTrainingConfig) -> str:
    """The exported file's stem: ``NAME_refine_PRESET`` (``interp_refine_lite`` by default)."""
    return f"{config.name}_refine_{config.preset}"


class RefineTrainer:
    """Refinement network training, as a recipe of :func:`vidgan.train.loop.run`."""

    def __init__(self, config: InterpTrainingConfig, frames: TripletFrames | None = None) -> None:
        self.config = config
        self.name = f"{config.name}-refine"
        self.device = torch.device(resolve_device(config.device))
        self.dtype = training_dtype(config.amp, self.device)
        self.out = Path(config.out)
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self._given_frames = frames
        self._ready = False

    def setup(self) -> None:
        """Read the triplet sources; build DIS, the network, the critic (unless off) and the optimisers."""
        if self._ready:
            return
        self._ready = True
        c = self.config
        if c.crop < DIS_MIN_SHORT_SIDE:
            raise TrainingDataError(f"--crop must be >= {DIS_MIN_SHORT_SIDE} px for DIS; got {c.crop}")
        given = self._given_frames
        self.frames = given if given is not None else TripletFrames(
            c.sources, image_side=c.image_side, max_frames=c.max_frames, skips=c.skips, photos=c.photos,
            synthetic=c.synthetic, max_motion=c.max_motion)
        # DIS at the crop's own scale: the scale the network sees in use
        self.dis = DisInterpolator(preset=c.dis_preset, max_short_side=c.crop)
        # OpenCV's DIS returns a different flow on its first call at a size than on every later one
        # (which agree whatever came before): one call at the crop size first, so every triplet's
        # flow is the steady one, whether the run started at step 0 or was resumed.
        blank = torch.zeros(1, 3, c.crop, c.crop)
        self.dis.prepare(blank, blank)
        self.net = RefineNet(PRESETS[c.preset]).to(self.device)
        self.opt_g = torch.optim.Adam(self.net.parameters(), lr=c.lr, betas=(0.9, 0.999))
        self.disc: MultiScaleDiscriminator | None = None
        self.opt_d: torch.optim.Optimizer | None = None
        if c.lambda_adv > 0:
            self.disc = MultiScaleDiscriminator(DiscriminatorConfig(width=c.disc_width, in_channels=9)).to(self.device)
            self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=c.lr, betas=(0.5, 0.999))
        self.loss_net = None
        self.loss_net_record: dict[str, Any] | None = None
        if c.lambda_perceptual > 0:
            from vidgan.models.lossnet import load_loss_net, loss_net_path

            path = loss_net_path(c.loss_net or None)
            self.loss_net = load_loss_net(path, self.device)
            self.loss_net_record = perceptual.loss_net_record(path)

    # -- one step --------------------------------------------------------------------------------
    def dis_pairs(self, batch: torch.Tensor) -> DisPair:
        """DIS on every triplet's end frames ((N, 9, H, W) batch), batched into one pair."""
        pairs = [self.dis.prepare(batch[i:i + 1, 0:3], batch[i:i + 1, 6:9]) for i in range(len(batch))]
        return DisPair.cat(pairs).to(self.device)

    def reconstruction(self, out: torch.Tensor, truth: torch.Tensor) -> dict[str, torch.Tensor]:
        """The weighted reconstruction terms (those with weight 0 are left out)."""
        c = self.config
        terms = {"l1": (out - truth).abs().mean()}
        if c.lambda_laplacian:
            terms["laplacian"] = losses.total((a - b).abs().mean() for a, b in zip(
                losses.laplacian_pyramid(out, 4), losses.laplacian_pyramid(truth, 4)))
        if c.lambda_census:
            terms["census"] = losses.census(out, truth)
        if self.loss_net is not None:
            terms["perceptual"] = perceptual.feature_distance(self.loss_net, out, truth)
        return terms

    def objective(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        c = self.config
        weights = {"l1": c.lambda_l1, "laplacian": c.lambda_laplacian, "census": c.lambda_census,
                   "perceptual": c.lambda_perceptual, "g_adv": c.lambda_adv, "flow": c.lambda_flow}
        return losses.total(weights[key] * value for key, value in terms.items())

    def loss_on(self, batch: torch.Tensor) -> float:
        """The reconstruction objective on ``batch`` (N, 9, H, W) without training: for probes and tests."""
        with torch.no_grad():
            batch = batch.to(self.device)
            out = refined_frame(self.net, self.dis_pairs(batch), _T)
            return float(self.objective(self.reconstruction(out.float(), batch[:, 3:6])))

    def _lr(self, step: int) -> float:
        """Cosine decay to 5% over the run."""
        progress = min(1.0, step / max(1, self.config.steps))
        return float(self.config.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * progress))))

    def step(self, step: int) -> dict[str, float]:
        c = self.config
        batch, teacher = self.frames.sample(c.batch, c.crop, self.rng, flows=c.lambda_flow > 0)
        batch = batch.to(self.device)
        frame0, truth, frame1 = batch[:, 0:3], batch[:, 3:6], batch[:, 6:9]
        pair = self.dis_pairs(batch)
        lr = self._lr(step)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups if opt is not None else ():
                group["lr"] = lr
        with loop.autocast(self.device, self.dtype):
            refined = refine(self.net, pair, _T)
            out = refined.frame.float()
            terms = self.reconstruction(out, truth)
            if teacher is not None:  # the motion DIS finds from the true middle frame, where it rebuilds it
                terms["flow"] = losses.teacher_flow_distance(refined.flows, teacher.to(self.device), frame0,
                                                             frame1, truth)
            if self.disc is not None:
                terms["g_adv"] = losses.generator_adversarial("lsgan", self.disc(torch.cat((frame0, out, frame1), 1)))
            g_total = self.objective(terms)
        self.opt_g.zero_grad(set_to_none=True)
        g_total.backward()
        self.opt_g.step()
        metrics = {key: float(value.item()) for key, value in terms.items()}
        if self.disc is not None and self.opt_d is not None:
            with loop.autocast(self.device, self.dtype):
                real = torch.cat((frame0, truth, frame1), dim=1)
                fake = torch.cat((frame0, out.detach(), frame1), dim=1)
                d_loss = losses.discriminator_adversarial("lsgan", self.disc(real), self.disc(fake))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            metrics["d"] = float(d_loss.item())
        with torch.no_grad():
            dis_out = _dis_frame(pair)
            dis_psnr = _psnr(dis_out, truth)
            psnr = _psnr(out.clamp(0, 1), truth)
        return {**metrics, "total": float(g_total.item()), "psnr": psnr, "psnr_gain_over_dis": psnr - dis_psnr,
                "lr": lr}

    # -- checkpoints and export ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"net": self.net.state_dict(), "opt_g": self.opt_g.state_dict()}
        if self.disc is not None and self.opt_d is not None:
            state |= {"disc": self.disc.state_dict(), "opt_d": self.opt_d.state_dict()}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if ("disc" in state) != (self.disc is not None):
            had = "with" if "disc" in state else "without"
            raise TrainingDataError(f"the checkpoint in {self.out} was trained {had} a critic; resume it with the "
                                    "same --lambda-adv (0 or not) or train into a new --out")
        self.net.load_state_dict(state["net"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.disc is not None and self.opt_d is not None:
            self.disc.load_state_dict(state["disc"])
            self.opt_d.load_state_dict(state["opt_d"])

    def export(self, folder: Path, *, training: dict[str, Any]) -> Path:
        c = self.config
        critic = (f"LSGAN x{c.lambda_adv:g} (PatchGAN on I0, It, I1)" if self.disc is not None
                  else "no adversarial term")
        perceptual_term = f", VGG features x{c.lambda_perceptual:g}" if self.loss_net is not None else ""
        flow_term = (f", flow distillation x{c.lambda_flow:g} (DIS flows from the true middle frame, where they "
                     "rebuild it)" if c.lambda_flow > 0 else "")
        training_record = {
            "recipe": f"corrections of dis: L1 x{c.lambda_l1:g}, Laplacian pyramid L1 x{c.lambda_laplacian:g}, "
                      f"census x{c.lambda_census:g}{perceptual_term}{flow_term}, {critic}",
            **training,
            "sources": list(c.sources), "photos": list(c.photos), "frames": len(self.frames),
            **({"loss_net": self.loss_net_record} if self.loss_net_record else {}),
        }
        return save_refine(folder, refine_stem(c), self.net, dis_preset=c.dis_preset, name=c.name,
                           training=training_record)

    def run(self, *, progress: ProgressMode = "auto", resume: bool = True) -> Path:
        """Train to ``config.steps`` on :func:`vidgan.train.loop.run`; returns the exported weights' path."""
        return loop.run(self, self.config, progress=progress, resume=resume)


def _dis_frame(pair: DisPair) -> torch.Tensor:
    """``dis``'s own frame at the middle of ``pair``: the baseline each step is measured against."""
    return occlusion_blend(pair, warp_to_t(pair, *flows_to_t(pair, _T)), _T)


def _psnr(image: torch.Tensor, truth: torch.Tensor) -> float:
    return float(-10 * torch.log10((image - truth).pow(2).mean().clamp_min(1e-10)))
