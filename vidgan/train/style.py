"""``vidgan train style``: recurrent CycleGAN training of a style from paintings and photos.

The recipe is CycleGAN's (Zhu et al. 2017): G: photos X -> paintings Y, F: Y -> X, PatchGAN
discriminators D_Y and D_X with spectral norm, LSGAN by default, cycle (10) and identity L1
terms (identity off by default: it pulls G toward the identity map), a history pool of 50
generated images, Adam (5e-4, betas 0.5/0.999) with a linear decay over the second half, plus a
style term: the sliced Wasserstein distance between G's pyramid patches and a bank of the
paintings' (:class:`vidgan.train.losses.PatchBank`). Temporal training unrolls G over two frames with known motion:
y_{t-1} = G(x_{t-1}, 0, 0), y_t = G(x_t, warp(y_{t-1}), confidence), and penalises the masked
difference between y_t and warp(y_{t-1}).

Checkpoints hold every network, optimiser, pool and random state, and load with
``torch.load(weights_only=True)``; the finished style is exported as safetensors + model card.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from vidgan.models.discriminator import DiscriminatorConfig, MultiScaleDiscriminator
from vidgan.models.stylizer import PRESETS, Preset, RecurrentStylizer
from vidgan.models.zoo import save_style
from vidgan.ops import reference
from vidgan.progress import Progress
from vidgan.train import losses
from vidgan.train.checkpoint import CHECKPOINT_NAME, machine_description, read_checkpoint, write_checkpoint
from vidgan.train.losses import GanLoss, StyleTerm

log = logging.getLogger("vidgan")


@dataclass(frozen=True)
class StyleTrainingConfig:
    """Everything a style run depends on; written next to each checkpoint and into the model card."""

    name: str
    content: tuple[str, ...]
    style: tuple[str, ...]
    videos: tuple[str, ...] = ()
    pairs: str = ""  # a folder of (photo, painted) pairs from `vidgan train teach`: a paired target
    preset: Preset = "lite"
    steps: int = 4000
    batch: int = 4
    crop: int = 128
    image_side: int = 360
    crop_scale: tuple[float, float] = (0.35, 0.7)
    lr: float = 5e-4
    gan_loss: GanLoss = "lsgan"
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.0
    lambda_temporal: float = 30.0
    lambda_style: float = 10.0
    style_term: StyleTerm = "swd"
    style_levels: int = 0  # finest pyramid bands in the style term (0: all, with the low-pass colours)
    lambda_content: float = 0.0
    lambda_adv: float = 1.0
    lambda_paired: float = 10.0  # L1 to the teacher's painting, when ``pairs`` is given
    gp_weight: float = 10.0
    pool_size: int = 50
    decay_from: float = 0.5
    disc_width: int = 32
    disc_scales: int = 1
    checkpoint_every: int = 250
    sample_every: int = 250
    seed: int = 0
    out: str = "runs/style"
    device: str = "auto"
    amp: bool = True
    compile: bool = False

    @classmethod
    def smoke(cls, content: tuple[str, ...], style: tuple[str, ...], out: str, **overrides) -> StyleTrainingConfig:
        """A few steps at tiny size: proves the loop, the checkpoint round trip and finite losses."""
        settings = dict(name="smoke", content=content, style=style, steps=4, batch=2, crop=32,
                        disc_width=8, checkpoint_every=2, sample_every=2, out=out, device="cpu", pool_size=4)
        settings.update(overrides)
        return cls(**settings)


class ImagePool:
    """History of generated images (Shrivastava et al. 2017): D sees old fakes half the time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, batch: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        if self.size == 0:
            return batch
        out = []
        for image in batch.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif rng.random() < 0.5:
                index = int(rng.integers(self.size))
                out.append(self.images[index].clone())
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state(self) -> list[torch.Tensor]:
        return [image.cpu() for image in self.images]


@dataclass
class Networks:
    G: RecurrentStylizer
    F: RecurrentStylizer
    D_Y: MultiScaleDiscriminator
    D_X: MultiScaleDiscriminator

    def generators(self, cycle: bool = True) -> list[torch.nn.Parameter]:
        return [*self.G.parameters(), *(self.F.parameters() if cycle else ())]

    def discriminators(self, cycle: bool = True) -> list[torch.nn.Parameter]:
        return [*self.D_Y.parameters(), *(self.D_X.parameters() if cycle else ())]


def build_networks(config: StyleTrainingConfig) -> Networks:
    g_config = PRESETS[config.preset]
    f_config = dataclasses.replace(g_config, recurrent=False)
    d_config = DiscriminatorConfig(width=config.disc_width, scales=config.disc_scales)
    return Networks(RecurrentStylizer(g_config), RecurrentStylizer(f_config),
                    MultiScaleDiscriminator(d_config), MultiScaleDiscriminator(d_config))


def _linear_decay(config: StyleTrainingConfig):
    start = int(config.steps * config.decay_from)

    def factor(step: int) -> float:
        return 1.0 if step < start else max(0.0, 1.0 - (step - start) / max(1, config.steps - start))

    return factor


@dataclass
class TrainingState:
    step: int = 0
    history: list[dict] = field(default_factory=list)


class StyleTrainer:
    """One training run; ``run()`` trains to ``config.steps`` resuming from the latest checkpoint."""

    def __init__(self, config: StyleTrainingConfig) -> None:
        from vidgan.engine import resolve_device
        from vidgan.train import data

        self.config = config
        self.device = torch.device(resolve_device(config.device))
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.out = Path(config.out)
        crops = dict(crop=config.crop, short_side=max(config.image_side, config.crop), scale=tuple(config.crop_scale))
        self.content = data.ImageCrops(data.find_images(config.content), **crops)
        self.style = data.ImageCrops(data.find_images(config.style), **crops)
        self.videos = data.VideoPairs(list(config.videos), crop=config.crop) if config.videos else None
        self.pairs = None
        if config.pairs:
            from vidgan.train.teacher import PairedCrops

            self.pairs = PairedCrops(config.pairs, config.crop)
        skipped = self.content.skipped + self.style.skipped + (self.videos.skipped if self.videos else 0)
        if skipped:
            log.warning("skipped %d unreadable image(s) or video(s); see the warnings above", skipped)
        self.patch_bank = None
        if config.lambda_style:
            bank_rng = np.random.default_rng([config.seed, 1])
            bank_crops = torch.cat([self.style.sample_batch(32, bank_rng) for _ in range(4)])
            self.patch_bank = losses.PatchBank(bank_crops, generator=torch.Generator().manual_seed(config.seed))
            self.patch_bank.to(self.device)
        self.nets = build_networks(config)
        for net in vars(self.nets).values():
            net.to(self.device)
            if self.device.type == "cuda":
                net.to(memory_format=torch.channels_last)
        betas = (0.5, 0.999)
        # Without cycle and identity terms the backward generator F and its critic D_X have nothing
        # to learn from: they are neither run nor optimised (a third of the step time on a CPU).
        self.cycle = bool(config.lambda_cycle or config.lambda_identity)
        self.opt_g = torch.optim.Adam(self.nets.generators(self.cycle), lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.nets.discriminators(self.cycle), lr=config.lr, betas=betas)
        decay = _linear_decay(config)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, decay)
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, decay)
        self.pool_y, self.pool_x = ImagePool(config.pool_size), ImagePool(config.pool_size)
        self.state = TrainingState()
        self.amp = config.amp and self.device.type == "cuda"
        self.probe = self.content.sample_batch(min(8, max(2, config.batch)), np.random.default_rng(12345)).to(self.device)
        self._writer = None
        self._g_step = torch.compile(self._generator_losses) if config.compile else self._generator_losses

    # -- data ---------------------------------------------------------------------------------------
    def _batch(self) -> dict[str, torch.Tensor]:
        from vidgan.train import data

        b = self.config.batch
        if self.videos is not None and self.rng.random() < 0.5:  # real motion half the time
            previous, current, flow, valid = self.videos.sample_batch(b, self.rng)
        else:
            previous, current, flow, valid = data.synthetic_batch(self.content, b, self.rng)
        batch = {"previous": previous, "current": current, "flow": flow, "valid": valid,
                 "style": self.style.sample_batch(b, self.rng)}
        if self.pairs is not None:
            batch["pair_photo"], batch["pair_painted"] = self.pairs.sample_batch(b, self.rng)
        return {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    # -- one step -----------------------------------------------------------------------------------
    def _generator_losses(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict, torch.Tensor, torch.Tensor]:
        c, nets = self.config, self.nets
        x_prev, x_cur, flow, valid, y_real = (batch[k] for k in ("previous", "current", "flow", "valid", "style"))
        y_prev = nets.G(x_prev)
        warped, inside = reference.warp(y_prev, flow, border="edge")
        confidence = valid * inside
        y_cur = nets.G(x_cur, warped.detach(), confidence)
        fake_y = torch.cat((y_prev, y_cur))
        zero = y_cur.new_zeros(())
        adv = losses.generator_adversarial(c.gan_loss, nets.D_Y(fake_y)) if c.lambda_adv else zero
        cycle = identity = zero
        x_fake = y_real[:0]
        if self.cycle:
            x_fake = nets.F(y_real)
            if c.lambda_adv:
                adv = adv + losses.generator_adversarial(c.gan_loss, nets.D_X(x_fake))
            cycle = (nets.F(y_cur) - x_cur).abs().mean() + (nets.G(x_fake) - y_real).abs().mean()
            if c.lambda_identity:
                identity = (nets.G(y_real) - y_real).abs().mean() + (nets.F(x_cur) - x_cur).abs().mean()
        temporal = losses.temporal(y_cur, y_prev, flow, valid)
        style = zero
        if self.patch_bank is not None:
            if c.style_term in ("swd", "both"):
                style = style + self.patch_bank.distance(fake_y, levels=c.style_levels or None)
            if c.style_term in ("moments", "both"):
                style = style + self.patch_bank.moments(fake_y)
        content = losses.structure(fake_y, torch.cat((x_prev, x_cur))) if c.lambda_content else zero
        paired = zero
        if "pair_photo" in batch:  # distillation: the teacher painted this very photo
            paired = (nets.G(batch["pair_photo"]) - batch["pair_painted"]).abs().mean()
        total = (c.lambda_adv * adv + c.lambda_cycle * cycle + c.lambda_cycle * c.lambda_identity * identity
                 + c.lambda_temporal * temporal + c.lambda_style * style + c.lambda_content * content
                 + c.lambda_paired * paired)
        parts = {"g_adv": adv, "cycle": cycle, "identity": identity, "temporal": temporal, "style": style,
                 "content": content, "paired": paired}
        return total, parts, fake_y.detach(), x_fake.detach()

    def _discriminator_loss(self, batch: dict[str, torch.Tensor], fake_y: torch.Tensor, fake_x: torch.Tensor) -> torch.Tensor:
        c, nets = self.config, self.nets
        fake_y = self.pool_y.query(fake_y, self.rng).to(self.device)
        real_y, real_x = batch["style"], batch["current"]
        loss = losses.discriminator_adversarial(c.gan_loss, nets.D_Y(real_y), nets.D_Y(fake_y))
        if c.gan_loss == "wgan-gp":
            loss = loss + c.gp_weight * losses.gradient_penalty(nets.D_Y, real_y, fake_y[: len(real_y)])
        if self.cycle:
            fake_x = self.pool_x.query(fake_x, self.rng).to(self.device)
            loss = loss + losses.discriminator_adversarial(c.gan_loss, nets.D_X(real_x), nets.D_X(fake_x))
            if c.gan_loss == "wgan-gp":
                loss = loss + c.gp_weight * losses.gradient_penalty(nets.D_X, real_x, fake_x[: len(real_x)])
        return loss

    def step(self) -> dict[str, float]:
        batch = self._batch()
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)
        for p in self.nets.discriminators():
            p.requires_grad_(False)
        with autocast:
            total, parts, fake_y, fake_x = self._g_step(batch)
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g.step()
        d_loss = total.new_zeros(())
        if self.config.lambda_adv:  # no adversarial term: no critic to train
            for p in self.nets.discriminators(self.cycle):
                p.requires_grad_(True)
            with autocast:
                d_loss = self._discriminator_loss(batch, fake_y.float(), fake_x.float())
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            self.sched_d.step()
        self.sched_g.step()
        self.state.step += 1
        values = {k: float(v.detach()) for k, v in parts.items()}
        values.update(g_total=float(total.detach()), d=float(d_loss.detach()))
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        if bad:
            raise FloatingPointError(f"training diverged at step {self.state.step}: non-finite {', '.join(bad)}")
        return values

    # -- monitoring ---------------------------------------------------------------------------------
    @torch.no_grad()
    def diversity(self) -> float:
        """Mean pairwise L1 distance of G's outputs on a fixed probe batch over that of the inputs.

        Near 0 means G maps different photos to the same picture: mode collapse.
        """
        self.nets.G.eval()
        out = self.nets.G(self.probe).float()
        self.nets.G.train()

        def spread(batch: torch.Tensor) -> float:
            flat = batch.flatten(1)
            return float(torch.cdist(flat, flat, p=1).sum() / (len(flat) * (len(flat) - 1) * flat.shape[1]))

        return spread(out) / max(spread(self.probe), 1e-8)

    def _log(self, values: dict[str, float]) -> None:
        record = {"step": self.state.step, **{k: round(v, 6) for k, v in values.items()}}
        self.state.history.append(record)
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / "metrics.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")
        writer = self._tensorboard()
        if writer is not None:
            for key, value in values.items():
                writer.add_scalar(key, value, self.state.step)

    def _tensorboard(self):
        if self._writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # the 'train' extra is not installed: JSON lines only
                self._writer = False
            else:
                self._writer = SummaryWriter(str(self.out / "tensorboard"))
        return self._writer or None

    @torch.no_grad()
    def save_samples(self) -> Path:
        """A PNG grid: probe photos on top, G's stylization below."""
        import cv2

        self.nets.G.eval()
        out = self.nets.G(self.probe).float().clamp(0, 1)
        self.nets.G.train()
        grid = torch.cat((torch.cat(list(self.probe.float()), dim=2), torch.cat(list(out), dim=2)), dim=1)
        image = (grid.permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
        path = self.out / "samples" / f"step{self.state.step:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), image[..., ::-1])
        writer = self._tensorboard()
        if writer is not None:
            writer.add_image("probe", grid.clamp(0, 1), self.state.step)
        return path

    # -- checkpoints ------------------------------------------------------------------------------------
    def checkpoint_path(self) -> Path:
        return self.out / CHECKPOINT_NAME

    def save_checkpoint(self) -> Path:
        nets = {name: net.state_dict() for name, net in vars(self.nets).items()}
        payload = {
            "step": self.state.step,
            "config": dataclasses.asdict(self.config),
            "nets": nets,
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "sched_g": self.sched_g.state_dict(), "sched_d": self.sched_d.state_dict(),
            "pool_y": self.pool_y.state(), "pool_x": self.pool_x.state(),
            "torch_rng": torch.get_rng_state(),
            "numpy_rng": json.dumps(self.rng.bit_generator.state),
            "history": json.dumps(self.state.history),
            "bank_calls": self.patch_bank.calls if self.patch_bank is not None else 0,
        }
        return write_checkpoint(payload, self.out, self.config)

    def load_checkpoint(self, path: Path | None = None) -> bool:
        path = path or self.checkpoint_path()
        payload = read_checkpoint(path, self.device)
        if payload is None:
            return False
        for name, net in vars(self.nets).items():
            net.load_state_dict(payload["nets"][name])
        self.opt_g.load_state_dict(payload["opt_g"])
        self.opt_d.load_state_dict(payload["opt_d"])
        self.sched_g.load_state_dict(payload["sched_g"])
        self.sched_d.load_state_dict(payload["sched_d"])
        self.pool_y.images = [t.to(self.device) for t in payload["pool_y"]]
        self.pool_x.images = [t.to(self.device) for t in payload["pool_x"]]
        torch.set_rng_state(payload["torch_rng"].cpu())
        self.rng.bit_generator.state = json.loads(payload["numpy_rng"])
        self.state = TrainingState(step=int(payload["step"]), history=json.loads(payload["history"]))
        if self.patch_bank is not None:
            self.patch_bank.calls = int(payload.get("bank_calls", 0))
        # The learning rate follows this run's schedule: resuming with more --steps stretches the decay.
        factor = _linear_decay(self.config)(self.state.step)
        for optimizer, scheduler in ((self.opt_g, self.sched_g), (self.opt_d, self.sched_d)):
            scheduler.base_lrs = [self.config.lr for _ in optimizer.param_groups]
            for group in optimizer.param_groups:
                group["initial_lr"] = self.config.lr
                group["lr"] = self.config.lr * factor
        log.info("resumed %s at step %d", path, self.state.step)
        return True

    # -- the run --------------------------------------------------------------------------------------
    def run(self, *, progress: str = "auto", resume: bool = True) -> Path:
        """Train to ``config.steps``; returns the exported style's weights path."""
        if resume:
            self.load_checkpoint()
        started = time.monotonic()
        meter = Progress(self.config.steps, mode=progress, desc=f"train {self.config.name}", unit="step")
        meter.update(self.state.step)
        try:
            while self.state.step < self.config.steps:
                values = self.step()
                self._log(values)
                meter.update(self.state.step)
                if self.state.step % self.config.sample_every == 0 or self.state.step == self.config.steps:
                    diversity = self.diversity()
                    self._log({"diversity": diversity})
                    if diversity < 0.15:
                        log.warning("step %d: outputs barely differ across the probe batch (diversity %.3f): "
                                    "possible mode collapse", self.state.step, diversity)
                    self.save_samples()
                if self.state.step % self.config.checkpoint_every == 0:
                    self.save_checkpoint()
        finally:
            meter.close()
        self.save_checkpoint()
        return self.export(wall_seconds=time.monotonic() - started)

    def recipe(self) -> str:
        """The objective actually trained, term by term with its weight, for the model card."""
        c = self.config
        terms = [(f"{c.gan_loss} adversarial", c.lambda_adv), ("cycle", c.lambda_cycle),
                 ("identity", c.lambda_cycle * c.lambda_identity), ("temporal (two unrolled frames)", c.lambda_temporal),
                 (f"patch {c.style_term} style" + (f" on the {c.style_levels} finest bands" if c.style_levels else ""),
                  c.lambda_style if self.patch_bank is not None else 0.0),
                 ("layout", c.lambda_content),
                 ("L1 to the optimisation teacher's paintings", c.lambda_paired if self.pairs is not None else 0.0)]
        kind = "distilled recurrent GAN" if self.pairs is not None else "recurrent CycleGAN"
        return f"{kind}: " + ", ".join(f"{name} x{weight:g}" for name, weight in terms if weight)

    def export(self, *, wall_seconds: float, folder: Path | None = None) -> Path:
        card = {
            "kind": "stylizer",
            "preset": self.config.preset,
            "training": {
                "recipe": self.recipe(),
                "steps": self.state.step,
                "wall_seconds_last_session": round(wall_seconds, 1),
                "machine": machine_description(self.device),
                "content_images": len(self.content),
                "teacher_pairs": len(self.pairs) if self.pairs is not None else 0,
                **({"teacher": self.pairs.record} if self.pairs is not None and self.pairs.record else {}),
                "style_images": len(self.style),
                "content_folders": list(self.config.content),
                "style_folders": list(self.config.style),
                "video_folders": list(self.config.videos),
                "config": dataclasses.asdict(self.config),
            },
        }
        generator = copy.deepcopy(self.nets.G).float().cpu()
        return save_style(generator, card, folder or self.out, self.config.name)
