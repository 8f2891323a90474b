"""``vidgan train style``: recurrent CycleGAN training of a style from paintings and photos.

The recipe is CycleGAN's (Zhu et al. 2017): G: photos X -> paintings Y, F: Y -> X, PatchGAN
discriminators D_Y and D_X with spectral norm, LSGAN by default, cycle (10) and identity L1
terms (identity off by default: it pulls G toward the identity map), a history pool of 50
generated images, Adam (5e-4, betas 0.5/0.999) with a linear decay over the second half, plus a
style term: the sliced Wasserstein distance between G's pyramid patches and a bank of the
paintings' (:class:`vidgan.train.losses.PatchBank`), or (``style_term="vgg"``) the Gram matrices of a
frozen VGG19 on an image pyramid against the paintings' (:mod:`vidgan.train.perceptual`), with an
optional VGG content term to the input photo. Temporal training unrolls G over two frames with known motion:
y_{t-1} = G(x_{t-1}, 0, 0), y_t = G(x_t, warp(y_{t-1}), confidence), and penalises the masked
difference between y_t and warp(y_{t-1}).

With ``teacher`` (a trained style, :mod:`vidgan.train.distill`) the recipe is distillation
instead: the frozen teacher paints the same two unrolled frames, and the student learns them
through a low-passed L1, a VGG perceptual term and a conditional PatchGAN over (photo, output),
plus the temporal term; the cycle, identity and unconditional adversarial terms are off, and a
style term to the paintings is added when ``style`` is given. ``pairs`` (precomputed paintings
from ``vidgan train teach``) are learnt through the same low-passed L1 and conditional PatchGAN.

A :class:`vidgan.train.loop.Recipe`: the loop checkpoints every network, optimiser and pool
(``torch.load(weights_only=True)`` reads them) and exports the style as safetensors + model card.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidgan.device import resolve_device, training_dtype
from vidgan.errors import TrainingDataError
from vidgan.models.discriminator import DiscriminatorConfig, MultiScaleDiscriminator
from vidgan.models.lossnet import load_loss_net, loss_net_path
from vidgan.models.stylizer import PRESETS, RecurrentStylizer
from vidgan.models.zoo import find_style, load_generator, save_style
from vidgan.ops import reference
from vidgan.progress import ProgressMode
from vidgan.train import data, distill, loop, losses, perceptual
from vidgan.train.colour import ColourBank
from vidgan.train.config import StyleTrainingConfig
from vidgan.train.data.paired import PairedCrops
from vidgan.train.distill import ConditionalCritic, Teacher, file_sha256

log = logging.getLogger("vidgan")

__all__ = ["ImagePool", "Networks", "StyleTrainer", "StyleTrainingConfig", "build_networks"]


class ImagePool:
    """History of generated images (Shrivastava et al. 2017): D sees old fakes half the time. Kept
    as 8-bit images, as the real ones are: a quarter of the checkpoint's size, and resumes exactly."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    @staticmethod
    def _stored(image: torch.Tensor) -> torch.Tensor:
        return (image.float().clamp(0, 1) * 255).round().to(torch.uint8)

    def query(self, batch: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        if self.size == 0:
            return batch
        out = []
        for image in batch.detach():
            if len(self.images) < self.size:
                self.images.append(self._stored(image))
                out.append(image)
            elif rng.random() < 0.5:
                index = int(rng.integers(self.size))
                out.append((self.images[index].float() / 255).to(image.dtype))
                self.images[index] = self._stored(image)
            else:
                out.append(image)
        return torch.stack(out)

    def state(self) -> list[torch.Tensor]:
        return [image.cpu() for image in self.images]

    def load(self, images: list[torch.Tensor], device: torch.device) -> None:
        """Restore :meth:`state`; float images of older checkpoints are quantised as new ones are."""
        self.images = [(image if image.dtype == torch.uint8 else self._stored(image)).to(device) for image in images]


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


class StyleTrainer:
    """Recurrent CycleGAN style training, as a recipe of :func:`vidgan.train.loop.run`."""

    def __init__(self, config: StyleTrainingConfig) -> None:
        self.config = config
        self.name = config.name
        self.device = torch.device(resolve_device(config.device))
        self.dtype = training_dtype(config.amp, self.device)
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.out = Path(config.out)
        self._ready = False

    def setup(self) -> None:
        """Load the images (and pairs, videos), build the patch bank, the networks and optimisers."""
        if self._ready:
            return
        self._ready = True
        config = self.config
        # The teacher and the loss network first: a missing or wrong file is a one-line error before
        # any data is read.
        self.teacher = Teacher.load(config.teacher, self.device) if config.teacher else None
        self.loss_net = None
        self.loss_net_record: dict[str, Any] | None = None
        self.vgg_style = config.style_term == "vgg" and bool(config.lambda_style) and bool(config.style)
        self.teacher_perceptual = self.teacher is not None and bool(config.lambda_teacher_perceptual)
        if self.vgg_style or config.lambda_content_vgg or self.teacher_perceptual:
            path = loss_net_path(config.loss_net or None)
            self.loss_net = load_loss_net(path, self.device)
            self.loss_net_record = perceptual.loss_net_record(path)
        self.content = self._crops(config.content, "photos")
        self.style = self._crops(config.style, "paintings") if config.style else None
        self.videos = data.VideoPairs(list(config.videos), crop=config.crop) if config.videos else None
        self.pairs = PairedCrops(config.pairs, config.crop) if config.pairs else None
        skipped = (self.content.skipped + (self.style.skipped if self.style else 0)
                   + (self.videos.skipped if self.videos else 0))
        if skipped:
            log.warning("skipped %d unreadable image(s) or video(s); see the warnings above", skipped)
        self.patch_bank = None
        self.gram_bank = None
        if self.vgg_style:
            assert self.loss_net is not None and self.style is not None
            bank_rng = np.random.default_rng([config.seed, 1])
            bank_crops = self.style.sample_batch(config.style_bank, bank_rng)
            self.gram_bank = perceptual.GramBank(self.loss_net, bank_crops.to(self.device), config.style_scales)
        elif config.lambda_style and self.style is not None:
            bank_rng = np.random.default_rng([config.seed, 1])
            bank_crops = torch.cat([self.style.sample_batch(32, bank_rng) for _ in range(4)])
            self.patch_bank = losses.PatchBank(bank_crops, generator=torch.Generator().manual_seed(config.seed))
            self.patch_bank.to(self.device)
        self.colour_bank = None
        if config.lambda_colour and self.style is not None:
            colour_crops = self.style.sample_batch(config.style_bank, np.random.default_rng([config.seed, 2]))
            self.colour_bank = ColourBank(colour_crops, seed=config.seed).to(self.device)
        self.nets = build_networks(config)
        self.init_record = self._start_from(config.init) if config.init else None
        for net in vars(self.nets).values():
            net.to(self.device)
            if self.device.type == "cuda":
                net.to(memory_format=torch.channels_last)
        betas = (0.5, 0.999)
        # Without cycle and identity terms the backward generator F and its critic D_X have nothing
        # to learn from: they are neither run nor optimised (a third of the step time on a CPU).
        # A teacher replaces the CycleGAN terms: its paintings are the target, not the paintings' domain.
        self.cycle = bool(config.lambda_cycle or config.lambda_identity) and self.teacher is None
        self.adversarial = bool(config.lambda_adv) and self.teacher is None
        self.opt_g = torch.optim.Adam(self.nets.generators(self.cycle), lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.nets.discriminators(self.cycle), lr=config.lr, betas=betas)
        decay = _linear_decay(config)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, decay)
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, decay)
        self.pool_y, self.pool_x = ImagePool(config.pool_size), ImagePool(config.pool_size)
        self.gan = losses.GAN_LOSSES.get(config.gan_loss)()
        distilling = self.teacher is not None or self.pairs is not None
        self.critic = (ConditionalCritic(DiscriminatorConfig(config.disc_width, scales=config.disc_scales), self.gan,
                                         lr=config.lr, schedule=decay, device=self.device)
                       if distilling and config.lambda_teacher_adv else None)
        self.probe = self.content.sample_batch(min(8, max(2, config.batch)), np.random.default_rng(12345)).to(self.device)
        self._g_step = torch.compile(self._generator_losses) if config.compile else self._generator_losses

    def _start_from(self, style: str) -> dict[str, Any]:
        """Load ``style``'s generator into G (it must have G's shape); the card's ``init`` entry."""
        entry = find_style(style, self.config.preset)
        start = load_generator(entry, "cpu")
        if start.config != self.nets.G.config:
            raise TrainingDataError(f"--init {style}: its generator ({entry.preset}) is not the shape of the "
                                    f"{self.config.preset} preset being trained")
        self.nets.G.load_state_dict(start.state_dict())
        return {"name": entry.name, "preset": entry.preset, "file": entry.weights.name,
                "sha256": file_sha256(entry.weights)}

    # -- data ---------------------------------------------------------------------------------------
    def _crops(self, paths: tuple[str, ...], kind: str) -> data.ImageCrops:
        """The resident crops of ``paths`` (folders or image files); none readable is one line naming them."""
        c = self.config
        files = data.find_images(paths)  # a missing or empty folder fails here, named
        try:
            return data.ImageCrops(files, crop=c.crop, short_side=max(c.image_side, c.crop), scale=c.crop_scale)
        except TrainingDataError:
            raise TrainingDataError(f"no readable {kind} in {', '.join(paths)}: none of the {len(files)} image "
                                    "files could be decoded") from None

    def _batch(self) -> dict[str, torch.Tensor]:
        b = self.config.batch
        if self.videos is not None and self.rng.random() < 0.5:  # real motion half the time
            previous, current, flow, valid = self.videos.sample_batch(b, self.rng)
        else:
            previous, current, flow, valid = data.synthetic_batch(self.content, b, self.rng)
        batch = {"previous": previous, "current": current, "flow": flow, "valid": valid}
        if self.style is not None:
            batch["style"] = self.style.sample_batch(b, self.rng)
        if self.pairs is not None:
            batch["pair_photo"], batch["pair_painted"] = self.pairs.sample_batch(b, self.rng)
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        if self.teacher is not None:  # the teacher paints the very crops the student sees, unrolled the same way
            batch["teacher_previous"], batch["teacher_current"] = self.teacher.paint(
                batch["previous"], batch["current"], batch["flow"], batch["valid"])
        return batch

    def _conditional_real(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(photos, the teacher's paintings of them): the real side of the conditional critic."""
        if self.teacher is not None:
            return (torch.cat((batch["previous"], batch["current"])),
                    torch.cat((batch["teacher_previous"], batch["teacher_current"])))
        return batch["pair_photo"], batch["pair_painted"]

    # -- one step -----------------------------------------------------------------------------------
    def _generator_losses(self, batch: dict[str, torch.Tensor]
                          ) -> tuple[torch.Tensor, dict, torch.Tensor, torch.Tensor, torch.Tensor]:
        """G's total loss, its terms, and the detached fakes of the critics: D_Y's, D_X's, the conditional one's."""
        c, nets = self.config, self.nets
        x_prev, x_cur, flow, valid = (batch[k] for k in ("previous", "current", "flow", "valid"))
        y_prev = nets.G(x_prev)
        warped, inside = reference.warp(y_prev, flow, border="edge")
        confidence = valid * inside
        y_cur = nets.G(x_cur, warped.detach(), confidence)
        fake_y = torch.cat((y_prev, y_cur))
        zero = y_cur.new_zeros(())
        adv = self.gan.generator(nets.D_Y(fake_y)) if self.adversarial else zero
        cycle = identity = zero
        x_fake = y_cur[:0]
        if self.cycle:
            y_real = batch["style"]
            x_fake = nets.F(y_real)
            if c.lambda_adv:
                adv = adv + self.gan.generator(nets.D_X(x_fake))
            cycle = (nets.F(y_cur) - x_cur).abs().mean() + (nets.G(x_fake) - y_real).abs().mean()
            if c.lambda_identity:
                identity = (nets.G(y_real) - y_real).abs().mean() + (nets.F(x_cur) - x_cur).abs().mean()
        temporal = losses.temporal(y_cur, y_prev, flow, valid)
        style = content_vgg = teacher_perceptual = zero
        photos = torch.cat((x_prev, x_cur))
        if self.loss_net is not None:
            layer = perceptual.CONTENT_LAYERS[c.content_layer]
            if self.gram_bank is not None:
                style, features = self.gram_bank.distance(self.loss_net, fake_y)
            else:
                features = self.loss_net(fake_y)
            if c.lambda_content_vgg:
                with torch.no_grad():
                    target = self.loss_net(photos)[layer]
                content_vgg = perceptual.content_loss(features[layer], target)
            if self.teacher_perceptual:
                painted = torch.cat((batch["teacher_previous"], batch["teacher_current"]))
                teacher_perceptual = distill.perceptual_distance(self.loss_net, fake_y, painted, features)
        if self.patch_bank is not None:
            if c.style_term in ("swd", "both"):
                style = style + self.patch_bank.distance(fake_y, levels=c.style_levels or None)
            if c.style_term in ("moments", "both"):
                style = style + self.patch_bank.moments(fake_y)
        content = losses.structure(fake_y, photos) if c.lambda_content else zero
        colour = self.colour_bank.distance(fake_y) if self.colour_bank is not None else zero
        paired = teacher_l1 = conditional = zero
        conditional_fake = fake_y
        if self.teacher is not None:  # distillation: the teacher painted these very frames
            teacher_l1 = distill.lowpass_l1(fake_y, torch.cat((batch["teacher_previous"], batch["teacher_current"])))
            if self.critic is not None:
                conditional = self.critic.generator_loss(photos, fake_y)
        if "pair_photo" in batch:  # distillation: the optimisation teacher painted this very photo
            conditional_fake = nets.G(batch["pair_photo"])
            paired = distill.lowpass_l1(conditional_fake, batch["pair_painted"])
            if self.critic is not None:
                conditional = self.critic.generator_loss(batch["pair_photo"], conditional_fake)
        total = (c.lambda_adv * adv + c.lambda_cycle * cycle + c.lambda_cycle * c.lambda_identity * identity
                 + c.lambda_temporal * temporal + c.lambda_style * style + c.lambda_content * content
                 + c.lambda_content_vgg * content_vgg + c.lambda_paired * paired
                 + c.lambda_teacher_l1 * teacher_l1 + c.lambda_teacher_perceptual * teacher_perceptual
                 + c.lambda_teacher_adv * conditional + c.lambda_colour * colour)
        parts = {"g_adv": adv, "cycle": cycle, "identity": identity, "temporal": temporal, "style": style,
                 "content": content, "content_vgg": content_vgg, "paired": paired, "teacher_l1": teacher_l1,
                 "teacher_perceptual": teacher_perceptual, "g_cond": conditional, "colour": colour}
        return total, parts, fake_y.detach(), x_fake.detach(), conditional_fake.detach()

    def _discriminator_loss(self, batch: dict[str, torch.Tensor], fake_y: torch.Tensor, fake_x: torch.Tensor) -> torch.Tensor:
        c, nets = self.config, self.nets
        fake_y = self.pool_y.query(fake_y, self.rng).to(self.device)
        real_y, real_x = batch["style"], batch["current"]
        loss = self.gan.discriminator(nets.D_Y(real_y), nets.D_Y(fake_y))
        if self.gan.gradient_penalty:
            loss = loss + c.gp_weight * losses.gradient_penalty(nets.D_Y, real_y, fake_y[: len(real_y)])
        if self.cycle:
            fake_x = self.pool_x.query(fake_x, self.rng).to(self.device)
            loss = loss + self.gan.discriminator(nets.D_X(real_x), nets.D_X(fake_x))
            if self.gan.gradient_penalty:
                loss = loss + c.gp_weight * losses.gradient_penalty(nets.D_X, real_x, fake_x[: len(real_x)])
        return loss

    def step(self, step: int) -> dict[str, float]:
        """One generator and one critic update (the step count lives in the schedulers)."""
        batch = self._batch()
        autocast = loop.autocast(self.device, self.dtype)
        for p in self.nets.discriminators():
            p.requires_grad_(False)
        if self.critic is not None:
            self.critic.frozen(True)
        with autocast:
            total, parts, fake_y, fake_x, conditional_fake = self._g_step(batch)
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g.step()
        d_loss = d_cond = total.new_zeros(())
        if self.critic is not None:
            photo, real = self._conditional_real(batch)
            d_cond = self.critic.update(photo, real, conditional_fake.float(), autocast, self.config.gp_weight)
        if self.adversarial:  # no adversarial term: no critic to train
            for p in self.nets.discriminators(self.cycle):
                p.requires_grad_(True)
            with autocast:
                d_loss = self._discriminator_loss(batch, fake_y.float(), fake_x.float())
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            self.sched_d.step()
        self.sched_g.step()
        values = {k: float(v.detach()) for k, v in parts.items()}
        values.update(g_total=float(total.detach()), d=float(d_loss.detach()))
        if self.critic is not None:
            values["d_cond"] = float(d_cond.detach())
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

    @torch.no_grad()
    def sample(self) -> loop.Sample:
        """The diversity check and a grid: probe photos on top, G's stylization below (and the teacher's)."""
        diversity = self.diversity()
        if diversity < 0.15:
            log.warning("outputs barely differ across the probe batch (diversity %.3f): possible mode collapse",
                        diversity)
        self.nets.G.eval()
        out = self.nets.G(self.probe).float().clamp(0, 1)
        self.nets.G.train()
        rows = [self.probe.float(), out]
        if self.teacher is not None:
            rows.append(self.teacher.model(self.probe).float().clamp(0, 1))
        grid = torch.cat([torch.cat(list(row), dim=2) for row in rows], dim=1)
        return loop.Sample({"diversity": diversity}, {"probe": grid})

    # -- checkpoints ------------------------------------------------------------------------------------
    def _trained_nets(self) -> dict[str, torch.nn.Module]:
        """The networks a checkpoint holds: without a cycle, F and D_X never change from their
        seeded initialisation, so they are rebuilt rather than stored (a quarter of the file)."""
        nets = vars(self.nets)
        return nets if self.cycle else {name: nets[name] for name in ("G", "D_Y")}

    def state_dict(self) -> dict[str, Any]:
        return {
            "nets": {name: net.state_dict() for name, net in self._trained_nets().items()},
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "sched_g": self.sched_g.state_dict(), "sched_d": self.sched_d.state_dict(),
            "pool_y": self.pool_y.state(), "pool_x": self.pool_x.state(),
            "bank_calls": self.patch_bank.calls if self.patch_bank is not None else 0,
            # the teacher is never saved: its digest is, so a resume with another teacher is refused
            "teacher_sha256": self.teacher.sha256 if self.teacher is not None else "",
            **({"critic": self.critic.state_dict()} if self.critic is not None else {}),
            # what --init started from, as it was then: the style may have been replaced since
            **({"init": self.init_record} if self.init_record is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.init_record = state.get("init", self.init_record)
        recorded = state.get("teacher_sha256") or None
        if self.teacher is not None:
            self.teacher.check_resume(recorded)
        elif recorded:
            raise TrainingDataError(f"the checkpoint was distilled from a teacher (sha256 {recorded[:12]}...); "
                                    "resume with the same --teacher or train into a new --out")
        for name, net in self._trained_nets().items():
            net.load_state_dict(state["nets"][name])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_d.load_state_dict(state["sched_d"])
        self.pool_y.load(state["pool_y"], self.device)
        self.pool_x.load(state["pool_x"], self.device)
        if self.patch_bank is not None:
            self.patch_bank.calls = int(state.get("bank_calls", 0))
        schedules = [(self.opt_g, self.sched_g), (self.opt_d, self.sched_d)]
        if self.critic is not None:
            if "critic" in state:
                self.critic.load_state_dict(state["critic"])
            else:
                log.warning("the checkpoint has no conditional critic; it starts untrained")
            schedules.append((self.critic.opt, self.critic.sched))
        # The learning rate follows this run's schedule: resuming with more --steps stretches the decay.
        factor = _linear_decay(self.config)(self.sched_g.last_epoch)
        for optimizer, scheduler in schedules:
            scheduler.base_lrs = [self.config.lr for _ in optimizer.param_groups]
            for group in optimizer.param_groups:
                group["initial_lr"] = self.config.lr
                group["lr"] = self.config.lr * factor

    def run(self, *, progress: ProgressMode = "auto", resume: bool = True) -> Path:
        """Train to ``config.steps`` on :func:`vidgan.train.loop.run`; returns the exported style's weights path."""
        return loop.run(self, self.config, progress=progress, resume=resume)

    def objective(self) -> str:
        """The objective actually trained, term by term with its weight, for the model card."""
        c = self.config
        lowpassed = f"{distill.LOWPASS_FACTOR}x area-downsampled"
        terms = [(f"L1 to the teacher's output, {lowpassed}", c.lambda_teacher_l1 if self.teacher else 0.0),
                 ("VGG " + "+".join(distill.PERCEPTUAL_LAYERS) + " to the teacher's output",
                  c.lambda_teacher_perceptual if self.teacher_perceptual else 0.0),
                 (f"conditional {c.gan_loss} PatchGAN over (photo, output), the teacher's painting as real",
                  c.lambda_teacher_adv if self.critic is not None else 0.0),
                 (f"{c.gan_loss} adversarial", c.lambda_adv if self.adversarial else 0.0),
                 ("cycle", c.lambda_cycle if self.cycle else 0.0),
                 ("identity", c.lambda_cycle * c.lambda_identity if self.cycle else 0.0),
                 ("temporal (two unrolled frames)", c.lambda_temporal),
                 (f"patch {c.style_term} style" + (f" on the {c.style_levels} finest bands" if c.style_levels else ""),
                  c.lambda_style if self.patch_bank is not None else 0.0),
                 ("VGG Gram style (relu1_1..relu3_1 at scales " + "/".join(f"{s:g}" for s in c.style_scales) + ")",
                  c.lambda_style if self.gram_bank is not None else 0.0),
                 (f"VGG {c.content_layer} content", c.lambda_content_vgg),
                 ("Lab palette (sliced W1 to the paintings' pixels)",
                  c.lambda_colour if self.colour_bank is not None else 0.0),
                 ("layout", c.lambda_content),
                 (f"L1 to the optimisation teacher's paintings, {lowpassed}",
                  c.lambda_paired if self.pairs is not None else 0.0)]
        if self.teacher is not None:
            kind = (f"recurrent GAN distilled from the {self.teacher.preset} style {self.teacher.name!r} "
                    f"(sha256 {self.teacher.sha256[:12]})")
        else:
            kind = "distilled recurrent GAN" if self.pairs is not None else "recurrent CycleGAN"
        return f"{kind}: " + ", ".join(f"{name} x{weight:g}" for name, weight in terms if weight)

    def export(self, folder: Path, *, training: dict[str, Any]) -> Path:
        card = {
            "kind": "stylizer",
            "preset": self.config.preset,
            "training": {
                "recipe": self.objective(),
                **training,
                "content_images": len(self.content),
                "teacher_pairs": len(self.pairs) if self.pairs is not None else 0,
                **({"teacher": self.pairs.record} if self.pairs is not None and self.pairs.record else {}),
                **({"teacher": self.teacher.record} if self.teacher is not None else {}),
                **({"init": self.init_record} if self.init_record is not None else {}),
                "style_images": len(self.style) if self.style is not None else 0,
                "content_folders": list(self.config.content),
                "style_folders": list(self.config.style),
                "video_folders": list(self.config.videos),
                **({"loss_net": self.loss_net_record} if self.loss_net_record is not None else {}),
            },
        }
        generator = copy.deepcopy(self.nets.G).float().cpu()
        return save_style(generator, card, folder, self.config.name)
