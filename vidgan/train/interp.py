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

Checkpoints hold the networks, optimisers and random state, load with
``torch.load(weights_only=True)``, and make ``--resume`` exact; the finished network is exported as
safetensors + a JSON model card.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vidgan.eval.metrics import iter_frames
from vidgan.models.discriminator import DiscriminatorConfig, MultiScaleDiscriminator
from vidgan.models.interpnet import PRESETS, InterpNet, Preset
from vidgan.ops import reference
from vidgan.progress import Progress
from vidgan.train import losses
from vidgan.train.checkpoint import CHECKPOINT_NAME, machine_description, read_checkpoint, write_checkpoint
from vidgan.train.data import TrainingDataError, _fit_short_side, _occluder_mask, find_images, read_image

log = logging.getLogger("vidgan")


@dataclass(frozen=True)
class InterpTrainingConfig:
    """Everything a run depends on; stored in checkpoints and model cards."""

    name: str = "interp"
    sources: tuple[str, ...] = ()  # videos and frame folders
    photos: tuple[str, ...] = ()  # photo folders for synthetic layered triplets (exact motion)
    synthetic: float = 0.5  # share of synthetic triplets in a batch when photos are given
    max_motion: int = 24  # largest synthetic displacement between the end frames (px, per axis)
    out: str = "runs/interp"
    preset: Preset = "lite"
    steps: int = 20_000
    batch: int = 8
    crop: int = 192
    image_side: int = 360  # frames are shrunk so their short side is at most this
    max_frames: int = 600  # frames kept per source (evenly from its start)
    skips: tuple[int, ...] = (1, 2)
    lr: float = 3e-4
    lambda_l1: float = 1.0
    lambda_laplacian: float = 1.0
    lambda_adv: float = 0.005
    lambda_flow: float = 0.01  # flow distillation: L1 (px) to DIS flows from the true middle frame
    disc_width: int = 32
    checkpoint_every: int = 500
    seed: int = 0
    device: str = "auto"
    amp: bool = True

    @classmethod
    def smoke(cls, sources: tuple[str, ...], out: str, **overrides) -> InterpTrainingConfig:
        """A few steps at a tiny size: proves the loop, the checkpoint round trip and finite losses."""
        settings = dict(steps=4, batch=2, crop=64, image_side=96, max_frames=12, checkpoint_every=2, disc_width=8)
        settings.update(overrides)
        return cls(sources=sources, out=out, **settings)


class TripletFrames:
    """The frames of every source, resident as uint8 (H, W, 3) arrays, and random triplets from them."""

    def __init__(self, sources: tuple[str, ...], *, image_side: int, max_frames: int, skips: tuple[int, ...],
                 photos: tuple[str, ...] = (), synthetic: float = 0.5, max_motion: int = 24) -> None:
        if not sources and not photos:
            raise TrainingDataError("no training videos, frame folders or photos given (--videos / --frames / --photos)")
        self.photos = _load_photos(photos, image_side) if photos else []
        self.synthetic = synthetic if self.photos else 0.0
        if not sources:
            self.synthetic = 1.0
        self.max_motion = max_motion
        self.skips = skips
        self._dis = None
        self.clips: list[list[np.ndarray]] = []
        for source in sources:
            frames: list[np.ndarray] = []
            try:
                for frame in iter_frames(source, max_frames=max_frames):
                    frames.append(_fit_short_side(frame, image_side, 1))
            except Exception as exc:  # noqa: BLE001 - an unreadable source is skipped and counted
                log.warning("skipping %s: %s", source, exc)
                continue
            if len(frames) >= 1 + 2 * min(skips):
                self.clips.append(frames)
        if sources and not self.clips:
            raise TrainingDataError(f"none of {len(sources)} source(s) gave {1 + 2 * min(skips)} readable frames")

    def __len__(self) -> int:
        return sum(len(c) for c in self.clips) + len(self.photos)

    def sample(self, batch: int, crop: int, rng: np.random.Generator,
               flows: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(batch, 9, crop, crop) float in [0, 1]: I0, It, I1 of random triplets, augmented; with
        ``flows`` also (batch, 4, crop, crop): DIS flows from the true middle frame to I0 and to I1,
        the privileged motion the network is distilled toward (it never sees It itself)."""
        out = np.empty((batch, crop, crop, 9), dtype=np.uint8)
        exact: dict[int, np.ndarray] = {}
        for index in range(batch):
            if self.synthetic and rng.random() < self.synthetic:
                out[index], exact[index] = self._layered(crop, rng)
                continue
            while True:
                clip = self.clips[int(rng.integers(len(self.clips)))]
                skip = int(rng.choice(self.skips))
                if len(clip) > 2 * skip:
                    break
            start = int(rng.integers(len(clip) - 2 * skip))
            triplet = [clip[start + k * skip] for k in range(3)]
            height, width = triplet[0].shape[:2]
            side = min(crop, height, width)
            y, x = int(rng.integers(height - side + 1)), int(rng.integers(width - side + 1))
            stack = np.concatenate([f[y:y + side, x:x + side] for f in triplet], axis=2)
            if side != crop:
                import cv2

                stack = np.concatenate([cv2.resize(stack[..., c:c + 3], (crop, crop)) for c in (0, 3, 6)], axis=2)
            if rng.random() < 0.5:
                stack = stack[:, ::-1]
            if rng.random() < 0.5:
                stack = stack[::-1]
            if rng.random() < 0.5:  # time reversal
                stack = np.concatenate((stack[..., 6:9], stack[..., 3:6], stack[..., 0:3]), axis=2)
            out[index] = stack
        tensor = torch.from_numpy(out).permute(0, 3, 1, 2).float().div_(255.0)
        gain = torch.from_numpy(rng.uniform(0.9, 1.1, size=(batch, 1, 1, 1)).astype(np.float32))
        shift = torch.from_numpy(rng.uniform(-0.05, 0.05, size=(batch, 1, 1, 1)).astype(np.float32))
        images = (tensor * gain + shift).clamp_(0.0, 1.0)
        if not flows:
            return images, None
        teacher = self._teacher_flows(out, skip=set(exact))
        for index, flow in exact.items():
            teacher[index] = torch.from_numpy(flow)
        return images, teacher

    def _layered(self, crop: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A synthetic triplet and its exact flows: a photo panning behind a shaped patch of another
        photo that moves its own way (so it covers and uncovers the background).

        Displacements between the end frames are even integers, so the middle frame sits on whole
        pixels and everything is exact: I_tau(x) = background(x + tau * d_bg) outside the patch,
        patch(x - p - tau * d_fg) inside. Flows from t = 0.5: +d/2 to frame 0 and -d/2 to frame 1 for
        the background, -d/2 and +d/2 for the patch (see the module's convention).
        """
        reach = self.max_motion // 2
        d_bg = 2 * rng.integers(-reach, reach + 1, size=2)
        d_fg = 2 * rng.integers(-reach, reach + 1, size=2)
        margin = 2 * reach
        background = self._photo_window(crop + 2 * margin, rng)
        side = int(rng.integers(crop // 4, crop // 2 + 1))
        patch = self._photo_window(side, rng)
        mask = _shape_mask(side, rng)
        position = rng.integers(-side // 4, crop - 3 * side // 4, size=2)
        frames, flows = [], np.zeros((4, crop, crop), dtype=np.float32)
        for tau2 in (0, 1, 2):  # tau = 0, 0.5, 1 as halves
            oy, ox = margin + d_bg[1] * tau2 // 2, margin + d_bg[0] * tau2 // 2
            frame = background[oy:oy + crop, ox:ox + crop].copy()
            py, px = position[1] + d_fg[1] * tau2 // 2, position[0] + d_fg[0] * tau2 // 2
            inside = _paste(frame, patch, mask, py, px)
            if tau2 == 1:
                flows[0:2] = (d_bg / 2)[:, None, None]
                flows[2:4] = (-d_bg / 2)[:, None, None]
                flows[0:2, inside] = (-d_fg / 2)[:, None]
                flows[2:4, inside] = (d_fg / 2)[:, None]
            frames.append(frame)
        return np.concatenate(frames, axis=2), flows

    def _photo_window(self, side: int, rng: np.random.Generator) -> np.ndarray:
        import cv2

        photo = self.photos[int(rng.integers(len(self.photos)))]
        height, width = photo.shape[:2]
        if min(height, width) < side:
            factor = side / min(height, width)
            photo = cv2.resize(photo, (max(side, round(width * factor)), max(side, round(height * factor))))
            height, width = photo.shape[:2]
        y, x = int(rng.integers(height - side + 1)), int(rng.integers(width - side + 1))
        return photo[y:y + side, x:x + side]

    def _teacher_flows(self, stacks: np.ndarray, skip: set[int] = frozenset()) -> torch.Tensor:
        import cv2

        if self._dis is None:
            self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        result = np.zeros((len(stacks), 4, *stacks.shape[1:3]), dtype=np.float32)
        for index, stack in enumerate(stacks):
            if index in skip:
                continue
            gray = [cv2.cvtColor(np.ascontiguousarray(stack[..., c:c + 3]), cv2.COLOR_RGB2GRAY) for c in (0, 3, 6)]
            for slot, end in ((0, gray[0]), (2, gray[2])):
                result[index, slot:slot + 2] = self._dis.calc(gray[1], end, None).transpose(2, 0, 1)
        return torch.from_numpy(result)


@dataclass
class _State:
    step: int = 0


class InterpTrainer:
    def __init__(self, config: InterpTrainingConfig, frames: TripletFrames | None = None) -> None:
        self.config = config
        device = config.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.out = Path(config.out)
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.frames = frames or TripletFrames(config.sources, image_side=config.image_side,
                                              max_frames=config.max_frames, skips=config.skips, photos=config.photos,
                                              synthetic=config.synthetic, max_motion=config.max_motion)
        self.net = InterpNet(PRESETS[config.preset]).to(self.device)
        if config.crop % self.net.config.multiple:
            raise TrainingDataError(f"--crop must be a multiple of {self.net.config.multiple} for the "
                                    f"{config.preset} network; got {config.crop}")
        self.disc = MultiScaleDiscriminator(DiscriminatorConfig(width=config.disc_width, in_channels=9)).to(self.device)
        if self.device.type == "cuda":
            self.net = self.net.to(memory_format=torch.channels_last)
            self.disc = self.disc.to(memory_format=torch.channels_last)
        self.opt_g = torch.optim.Adam(self.net.parameters(), lr=config.lr, betas=(0.9, 0.999))
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=config.lr, betas=(0.5, 0.999))
        self.amp = config.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.state = _State()

    def _lr(self) -> float:
        """Cosine decay to 5% over the run."""
        progress = min(1.0, self.state.step / max(1, self.config.steps))
        return float(self.config.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * progress))))

    def step(self) -> dict[str, float]:
        c = self.config
        batch, teacher = self.frames.sample(c.batch, c.crop, self.rng, flows=c.lambda_flow > 0)
        batch = batch.to(self.device)
        frame0, truth, frame1 = batch[:, 0:3], batch[:, 3:6], batch[:, 6:9]
        t = torch.full((c.batch,), 0.5, device=self.device)
        for group in (*self.opt_g.param_groups, *self.opt_d.param_groups):
            group["lr"] = self._lr()
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            flows, mask = self.net.estimate(frame0, frame1, t)
            out = self.net.compose(frame0, frame1, t, flows, mask).float()
            l1 = (out - truth).abs().mean()
            flow_l1 = torch.zeros((), device=self.device)
            if teacher is not None:
                teacher = teacher.to(self.device)
                # trust the teacher where its flow rebuilds the middle frame
                rebuilt0, _ = reference.warp(frame0, teacher[:, :2], border="edge")
                rebuilt1, _ = reference.warp(frame1, teacher[:, 2:], border="edge")
                trusted = torch.cat(((rebuilt0 - truth).abs().mean(1, keepdim=True) < 0.03,
                                     (rebuilt1 - truth).abs().mean(1, keepdim=True) < 0.03), dim=1).float()
                error = (flows.float() - teacher).abs()
                flow_l1 = (error * trusted.repeat_interleave(2, dim=1)).mean()
            lap = sum((a - b).abs().mean() for a, b in zip(losses.laplacian_pyramid(out, 4),
                                                            losses.laplacian_pyramid(truth, 4)))
            g_adv = torch.zeros((), device=self.device)
            if c.lambda_adv:
                fake = torch.cat((frame0, out, frame1), dim=1)
                g_adv = losses.generator_adversarial("lsgan", self.disc(fake))
            g_total = c.lambda_l1 * l1 + c.lambda_laplacian * lap + c.lambda_adv * g_adv + c.lambda_flow * flow_l1
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler.scale(g_total).backward()
        self.scaler.step(self.opt_g)
        d_loss = torch.zeros((), device=self.device)
        if c.lambda_adv:
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
                real = torch.cat((frame0, truth, frame1), dim=1)
                fake = torch.cat((frame0, out.detach(), frame1), dim=1)
                d_loss = losses.discriminator_adversarial("lsgan", self.disc(real), self.disc(fake))
            self.opt_d.zero_grad(set_to_none=True)
            self.scaler.scale(d_loss).backward()
            self.scaler.step(self.opt_d)
        self.scaler.update()
        self.state.step += 1
        with torch.no_grad():
            blend_psnr = -10 * torch.log10(((frame0 + frame1) / 2 - truth).pow(2).mean().clamp_min(1e-10))
            psnr = -10 * torch.log10((out.clamp(0, 1) - truth).pow(2).mean().clamp_min(1e-10))
        return {"l1": l1.item(), "laplacian": float(lap.item()), "flow": flow_l1.item(), "g_adv": g_adv.item(),
                "d": d_loss.item(),
                "psnr": float(psnr), "psnr_gain_over_blend": float(psnr - blend_psnr), "lr": self._lr()}

    # -- records and checkpoints -------------------------------------------------------------------
    def _log(self, values: dict[str, float]) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / "metrics.jsonl", "a") as handle:
            handle.write(json.dumps({"step": self.state.step, **{k: round(v, 6) for k, v in values.items()}}) + "\n")

    def checkpoint_path(self) -> Path:
        return self.out / CHECKPOINT_NAME

    def save_checkpoint(self) -> Path:
        payload = {
            "step": self.state.step, "config": json.dumps(dataclasses.asdict(self.config)),
            "net": self.net.state_dict(), "disc": self.disc.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "scaler": self.scaler.state_dict(),
            "torch_rng": torch.get_rng_state(), "numpy_rng": json.dumps(self.rng.bit_generator.state),
        }
        return write_checkpoint(payload, self.out, self.config)

    def load_checkpoint(self) -> bool:
        path = self.checkpoint_path()
        payload = read_checkpoint(path, self.device)
        if payload is None:
            return False
        self.net.load_state_dict(payload["net"])
        self.disc.load_state_dict(payload["disc"])
        self.opt_g.load_state_dict(payload["opt_g"])
        self.opt_d.load_state_dict(payload["opt_d"])
        self.scaler.load_state_dict(payload["scaler"])
        torch.set_rng_state(payload["torch_rng"].cpu())
        self.rng.bit_generator.state = json.loads(payload["numpy_rng"])
        self.state = _State(step=int(payload["step"]))
        log.info("resumed %s at step %d", path, self.state.step)
        return True

    def export(self, *, wall_seconds: float, folder: Path | None = None) -> Path:
        from safetensors.torch import save_file

        c = self.config
        card = {
            "format": 1, "kind": "interpolator", "name": c.name, "preset": c.preset,
            "network": dataclasses.asdict(self.net.config),
            "training": {
                "recipe": f"L1 x{c.lambda_l1:g}, Laplacian pyramid L1 x{c.lambda_laplacian:g}, "
                          f"LSGAN x{c.lambda_adv:g} (PatchGAN on I0, It, I1), "
                          f"flow distillation x{c.lambda_flow:g} (DIS flows from the true middle frame)",
                "steps": self.state.step, "wall_seconds_last_session": round(wall_seconds, 1),
                "machine": machine_description(self.device),
                "sources": list(c.sources), "frames": len(self.frames), "config": dataclasses.asdict(c),
            },
        }
        folder = folder or self.out
        folder.mkdir(parents=True, exist_ok=True)
        weights = folder / f"{c.name}_{c.preset}.safetensors"
        state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in self.net.state_dict().items()}
        tmp = weights.with_suffix(".safetensors.partial")
        save_file(state, str(tmp), metadata={"vidgan_card": json.dumps({"name": c.name, "kind": "interpolator"})})
        tmp.replace(weights)
        weights.with_suffix(".json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
        return weights

    def run(self, *, progress: str = "auto", resume: bool = True) -> Path:
        """Train to ``config.steps``; returns the exported weights' path."""
        if resume:
            self.load_checkpoint()
        started = time.monotonic()
        meter = Progress(self.config.steps, mode=progress, desc=f"train {self.config.name}", unit="step")
        meter.update(self.state.step)
        try:
            while self.state.step < self.config.steps:
                values = self.step()
                if not all(np.isfinite(v) for v in values.values()):
                    raise TrainingDataError(f"step {self.state.step}: a loss is not finite ({values})")
                self._log(values)
                meter.update(self.state.step)
                if self.state.step % self.config.checkpoint_every == 0:
                    self.save_checkpoint()
        finally:
            meter.close()
        self.save_checkpoint()
        return self.export(wall_seconds=time.monotonic() - started)


def _load_photos(folders: tuple[str, ...], image_side: int) -> list[np.ndarray]:
    photos = []
    for path in find_images(folders):
        image = read_image(path)
        if image is None:
            log.warning("skipping unreadable image %s", path)
            continue
        photos.append(_fit_short_side(image, image_side, 1))
    if not photos:
        raise TrainingDataError(f"no readable photos in {', '.join(folders)}")
    return photos


def _shape_mask(side: int, rng: np.random.Generator) -> np.ndarray:
    """The stylizer's occluder shapes (ellipses, star polygons), hard-edged so the motion stays exact."""
    return _occluder_mask(side, rng) >= 0.5


def _paste(frame: np.ndarray, patch: np.ndarray, mask: np.ndarray, y: int, x: int) -> np.ndarray:
    """Paste ``patch`` where ``mask`` is set, top-left at (y, x), clipped to ``frame``; returns the
    frame's covered pixels (bool)."""
    height, width = frame.shape[:2]
    side = patch.shape[0]
    y0, x0, y1, x1 = max(0, y), max(0, x), min(height, y + side), min(width, x + side)
    inside = np.zeros((height, width), dtype=bool)
    if y0 >= y1 or x0 >= x1:
        return inside
    region = mask[y0 - y:y1 - y, x0 - x:x1 - x]
    frame[y0:y1, x0:x1][region] = patch[y0 - y:y1 - y, x0 - x:x1 - x][region]
    inside[y0:y1, x0:x1] = region
    return inside
