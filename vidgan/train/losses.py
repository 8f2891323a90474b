"""Losses of recurrent CycleGAN training, and the patch-statistics style term.

Adversarial objectives by name (LSGAN, the CycleGAN default; hinge; WGAN-GP), and the temporal
term: the masked difference between y_t and the previous output warped to t (Ruder et al. 2016;
ReCoNet 2018). Cycle and identity terms are plain L1 (Zhu et al. 2017) and live in the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F

from vidgan.ops import reference
from vidgan.registry import Registry
from vidgan.train.config import GanLoss, StyleTerm

__all__ = ["GAN_LOSSES", "GanLoss", "PatchBank", "StyleTerm", "census", "discriminator_adversarial",
           "generator_adversarial",
           "gradient_penalty", "laplacian_pyramid", "structure", "temporal", "total"]


def total(terms: Iterable[torch.Tensor]) -> torch.Tensor:
    """The sum of one or more loss terms: ``sum`` would also allow none and give the int 0."""
    it = iter(terms)
    result = next(it, None)
    if result is None:
        raise ValueError("no loss terms to add")
    for term in it:
        result = result + term
    return result


def _mean(scores: list[torch.Tensor], fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    return total(fn(s).mean() for s in scores) / len(scores)


class AdversarialLoss:
    """One adversarial objective: what G minimises and what D minimises, on multi-scale scores."""

    #: Whether the critic also needs the WGAN-GP gradient penalty.
    gradient_penalty: bool = False

    def generator(self, fake_scores: list[torch.Tensor]) -> torch.Tensor:
        """What G minimises so that D scores its output as real (hinge and WGAN share it)."""
        return _mean(fake_scores, lambda s: -s)

    def discriminator(self, real_scores: list[torch.Tensor], fake_scores: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


#: GAN losses by name; the names are those of :data:`vidgan.train.config.GanLoss` (the CLI's choices).
GAN_LOSSES: Registry[type[AdversarialLoss]] = Registry("GAN loss")


@GAN_LOSSES.register("lsgan")
class LeastSquares(AdversarialLoss):
    """LSGAN (Mao et al. 2017), the CycleGAN default."""

    def generator(self, fake_scores: list[torch.Tensor]) -> torch.Tensor:
        return _mean(fake_scores, lambda s: (s - 1) ** 2)

    def discriminator(self, real_scores: list[torch.Tensor], fake_scores: list[torch.Tensor]) -> torch.Tensor:
        return 0.5 * (_mean(real_scores, lambda s: (s - 1) ** 2) + _mean(fake_scores, lambda s: s**2))


@GAN_LOSSES.register("hinge")
class Hinge(AdversarialLoss):
    def discriminator(self, real_scores: list[torch.Tensor], fake_scores: list[torch.Tensor]) -> torch.Tensor:
        return _mean(real_scores, lambda s: F.relu(1 - s)) + _mean(fake_scores, lambda s: F.relu(1 + s))


@GAN_LOSSES.register("wgan-gp")
class Wasserstein(AdversarialLoss):
    """WGAN-GP (Gulrajani et al. 2017); the penalty is :func:`gradient_penalty`."""

    gradient_penalty = True

    def discriminator(self, real_scores: list[torch.Tensor], fake_scores: list[torch.Tensor]) -> torch.Tensor:
        return _mean(fake_scores, lambda s: s) - _mean(real_scores, lambda s: s)


def generator_adversarial(kind: GanLoss, fake_scores: list[torch.Tensor]) -> torch.Tensor:
    """What G minimises so that D scores its output as real."""
    return GAN_LOSSES.get(kind)().generator(fake_scores)


def discriminator_adversarial(
    kind: GanLoss, real_scores: list[torch.Tensor], fake_scores: list[torch.Tensor]
) -> torch.Tensor:
    return GAN_LOSSES.get(kind)().discriminator(real_scores, fake_scores)


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


_LUMA = (0.299, 0.587, 0.114)


def structure(output: torch.Tensor, content: torch.Tensor, levels: int = 2) -> torch.Tensor:
    """L1 between the standardised low-pass luminance of output and content (``levels`` halvings).

    A content term without a pretrained network: it keeps the composition (where light and dark
    are, at 1/2^levels of the size) and leaves the finer bands, the colours and the global tone
    free for the style to change. Each image is standardised on its own, so a darker or more
    contrasted rendering of the same layout costs nothing.
    """
    weights = torch.tensor(_LUMA, device=output.device, dtype=torch.float32).view(1, 3, 1, 1)

    def layout(image: torch.Tensor) -> torch.Tensor:
        luma = (image.float() * weights).sum(dim=1, keepdim=True)
        for _ in range(levels):
            luma = _blur(luma)[..., ::2, ::2]
        flat = luma.flatten(1)
        return (flat - flat.mean(dim=1, keepdim=True)) / flat.std(dim=1, keepdim=True).clamp_min(1e-3)

    return (layout(output) - layout(content)).abs().mean()


_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)


def _blur(image: torch.Tensor) -> torch.Tensor:
    """5-tap binomial blur (the kernel of a Burt-Adelson pyramid), reflect-padded, per channel."""
    taps = torch.tensor(_BINOMIAL, device=image.device, dtype=image.dtype) / 16
    channels = image.shape[1]
    padded = F.pad(image, (2, 2, 2, 2), mode="reflect")
    horizontal = F.conv2d(padded, taps.view(1, 1, 1, 5).expand(channels, 1, 1, 5), groups=channels)
    return F.conv2d(horizontal, taps.view(1, 1, 5, 1).expand(channels, 1, 5, 1), groups=channels)


def teacher_flow_distance(flows: torch.Tensor, teacher: torch.Tensor, frame0: torch.Tensor, frame1: torch.Tensor,
                          truth: torch.Tensor, tolerance: float = 0.03) -> torch.Tensor:
    """Mean L1 (px) of the flows from t (N, 4, H, W: to frame 0, to frame 1) to a teacher's, counted
    only where the teacher's own flow rebuilds the true middle frame within ``tolerance``: a
    teacher that failed somewhere teaches nothing there."""
    rebuilt0, _ = reference.warp(frame0, teacher[:, :2], border="edge")
    rebuilt1, _ = reference.warp(frame1, teacher[:, 2:], border="edge")
    trusted = torch.cat(((rebuilt0 - truth).abs().mean(1, keepdim=True) < tolerance,
                         (rebuilt1 - truth).abs().mean(1, keepdim=True) < tolerance), dim=1).float()
    return ((flows.float() - teacher).abs() * trusted.repeat_interleave(2, dim=1)).mean()


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


def census(output: torch.Tensor, target: torch.Tensor, patch: int = 7) -> torch.Tensor:
    """Soft ternary census distance (Zabih and Woodfill 1994; the soft form of Meister et al. 2018, as
    in RIFE's training): compares how each pixel's luma relates to its ``patch`` x ``patch``
    neighbours, so a brightness or contrast change costs nothing and a displaced edge does."""
    weights = torch.tensor(_LUMA, device=output.device, dtype=torch.float32).view(1, 3, 1, 1)

    def transform(image: torch.Tensor) -> torch.Tensor:
        luma = (image.float() * weights).sum(dim=1, keepdim=True) * 255.0
        n, _, height, width = luma.shape
        half = patch // 2
        padded = F.pad(luma, (half, half, half, half), mode="replicate")
        neighbours = F.unfold(padded, patch).view(n, patch * patch, height, width)
        difference = neighbours - luma
        return difference / torch.sqrt(0.81 + difference**2)

    squared = (transform(output) - transform(target)) ** 2
    return (squared / (0.1 + squared)).mean()


class PatchBank:
    """A fixed sample of the paintings' 7x7 Laplacian-pyramid patches, level by level.

    Matching a generated batch against a few painting crops of the same step is mostly noise
    (two batches of four crops of the *same* paintings are already far apart); a bank of tens of
    thousands of patches drawn once from many crops is a steady target. Each level also keeps
    the per-channel mean and spread used to normalise both sides.
    """

    def __init__(self, crops: torch.Tensor, *, levels: int = 4, patch: int = 7, per_level: int = 16384,
                 generator: torch.Generator | None = None, pool: int = 256, refresh: int = 64) -> None:
        self.levels, self.patch = levels, patch
        self.pool, self.refresh, self._calls = pool, refresh, 0
        self.seed = int(torch.randint(2**31, (), generator=generator)) if generator is not None else 0
        self._directions: list[torch.Tensor] = []
        self._sorted: list[torch.Tensor] = []
        self._bank_moments: list[tuple[torch.Tensor, torch.Tensor]] = []
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

    def moments(self, fake: torch.Tensor, window: int = 64) -> torch.Tensor:
        """Distance of each image's patch mean and covariance from the bank's, mean over levels.

        Per image, not pooled over the batch: every frame has to carry the style on its own. The
        covariance of 7x7 patches is a Gram matrix on pyramid bands (Gatys et al. 2016 on
        pixels instead of network features): it holds the strokes' energy, orientation and
        colour correlations, has no random projections, and so pulls steadily where the sliced
        distance of a small batch is mostly noise. A sliced distance along any direction is
        zero between two Gaussians with the same mean and covariance, so the two terms agree.
        """
        total = fake.new_zeros((), dtype=torch.float32)
        bands = laplacian_pyramid(fake.float(), self.levels)
        for level, bank in enumerate(self.patches):
            if level >= len(self._bank_moments):
                mean = bank.mean(dim=0)
                centred = bank - mean
                self._bank_moments.append((mean, centred.T @ centred / len(bank)))
            bank_mean, bank_cov = self._bank_moments[level]
            band = bands[level]
            height, width = band.shape[-2:]
            if height > window or width > window:  # a random window: unfolding all of it is the cost
                top = int(torch.randint(height - min(window, height) + 1, ()))
                left = int(torch.randint(width - min(window, width) + 1, ()))
                band = band[..., top:top + window, left:left + window]
            normalised = (band - self.mean[level]) / self.spread[level]
            unfolded = F.unfold(normalised, self.patch)  # (B, D, L)
            mean = unfolded.mean(dim=2)  # (B, D)
            centred = unfolded - mean[..., None]
            cov = centred @ centred.transpose(1, 2) / unfolded.shape[2]  # (B, D, D)
            total = total + (mean - bank_mean).abs().mean() + (cov - bank_cov).abs().mean()
        return total / max(len(self.patches), 1)

    def _draw_directions(self, device: torch.device) -> None:
        """A pool of random unit directions and the bank's sorted projections on each of them.

        Each call of :meth:`distance` uses a random subset of the pool, and the pool is drawn
        anew every ``refresh`` calls: projecting and sorting the whole bank on every step would
        cost as much as the generator's training step itself.
        """
        self._directions, self._sorted = [], []
        draw = torch.Generator().manual_seed(self.seed * 1_000_003 + self._calls // self.refresh)
        for bank in self.patches:
            weights = torch.randn(self.pool, bank.shape[1], generator=draw).to(device)
            weights = weights / weights.norm(dim=1, keepdim=True)
            self._directions.append(weights)
            self._sorted.append((weights @ bank.T).sort(dim=1).values)

    def to(self, device: torch.device | str) -> PatchBank:
        for values in (self.patches, self.mean, self.spread):
            values[:] = [v.to(device) for v in values]
        self._directions, self._sorted = [], []  # drawn again on the new device
        self._bank_moments = []
        return self

    @property
    def calls(self) -> int:
        """How many distances were taken: the directions in use follow from it (checkpointed)."""
        return self._calls

    @calls.setter
    def calls(self, value: int) -> None:
        self._calls = int(value)
        self._directions, self._sorted = [], []

    def distance(self, fake: torch.Tensor, directions: int = 32, samples: int = 16384,
                 levels: int | None = None) -> torch.Tensor:
        """Sliced Wasserstein-1 distance between ``fake``'s patches and the bank, mean over levels.

        Fresh random unit directions each call; a convolution projects every patch position of
        the batch at once, and the bank's sorted projections are read at the batch's ranks. At
        most ``samples`` random patch positions per level are compared: sorting every position of
        a full-resolution batch costs more than the generator's whole forward and backward pass,
        and a random subset is an unbiased sample of the same distribution. ``levels`` keeps only
        the finest bands (the texture), leaving the low-pass colours out.
        """
        total = fake.new_zeros((), dtype=torch.float32)
        bands = laplacian_pyramid(fake.float(), self.levels)
        if self._calls % self.refresh == 0 or not self._sorted:
            self._draw_directions(fake.device)
        self._calls += 1
        used = self.patches[:levels] if levels else self.patches
        for level in range(len(used)):
            pick = torch.randperm(self.pool, device=fake.device)[:directions]
            weights = self._directions[level][pick]
            normalised = (bands[level] - self.mean[level]) / self.spread[level]
            projected = F.conv2d(normalised, weights.view(directions, -1, self.patch, self.patch))
            projected = projected.transpose(0, 1).flatten(1)  # (K, all positions of the batch)
            if projected.shape[1] > samples:
                projected = projected[:, torch.randperm(projected.shape[1], device=fake.device)[:samples]]
            fake_sorted = projected.sort(dim=1).values  # (K, Nf)
            with torch.no_grad():
                bank_sorted = self._sorted[level][pick]  # (K, Nb)
                count = fake_sorted.shape[1]
                ranks = ((torch.arange(count, device=fake.device) + 0.5) * (bank_sorted.shape[1] / count)).long()
                target = bank_sorted[:, ranks.clamp_max(bank_sorted.shape[1] - 1)]
            total = total + (fake_sorted - target).abs().mean()
        return total / max(len(used), 1)
