"""The three measures of what a viewer sees that ``vidgan eval style`` reports beside the patch SWD.

- perceptual style distance (:mod:`vidgan.eval.perceptual`, needs the VGG19 loss network),
- Lab colour distance to the collection (:mod:`vidgan.eval.colour`),
- edge correlation of the output with its input (:mod:`vidgan.eval.edges`, needs INPUT).

Each is measured or, when what it needs is missing, :class:`NotMeasured` with the reason, so one
report always has the same rows. See docs/eval.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vidgan.eval.colour import lab_distance, lab_pixels

if TYPE_CHECKING:
    from vidgan.eval.perceptual import GramDistance

__all__ = [
    "LOSS_NET_ENV", "ColourDistance", "EdgeCorrelation", "NotMeasured", "PerceptualDistance",
    "measure_colour", "measure_edges", "measure_perceptual",
]

LOSS_NET_ENV = "VIDGAN_LOSS_NET"
"""The same variable as :data:`vidgan.models.lossnet.LOSS_NET_ENV`, named here so no torch is imported to read it."""


@dataclass(frozen=True)
class NotMeasured:
    """A measure that could not be taken, and why (no loss network, no INPUT, ...)."""

    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"measured": False, "reason": self.reason}


@dataclass(frozen=True)
class PerceptualDistance:
    """Gram distance of OUT (and INPUT) to the paintings; lower is closer in style."""

    output: GramDistance
    input: GramDistance | None
    loss_net: str

    @property
    def ratio(self) -> float | None:
        """D(output) / D(input): below 1, the output's feature statistics moved toward the paintings'."""
        if self.input is None or self.input.mean <= 0:
            return None
        return self.output.mean / self.input.mean

    def to_dict(self) -> dict[str, Any]:
        from vidgan.eval.perceptual import SCALES
        from vidgan.models.lossnet import LAYERS

        def one(d: GramDistance | None) -> dict[str, Any] | None:
            if d is None:
                return None
            return {"distance": d.mean, "per_layer": list(d.per_layer), "per_level": [list(v) for v in d.per_level]}

        return {"measured": True, "output": one(self.output), "input": one(self.input), "ratio": self.ratio,
                "layers": list(LAYERS), "scales": list(SCALES), "loss_net": self.loss_net}


@dataclass(frozen=True)
class ColourDistance:
    """Lab SWD (Lab units) of OUT and INPUT to the paintings' pixels; lower is nearer their palette."""

    output: float
    input: float | None

    @property
    def below_input(self) -> bool | None:
        """True when the output's colours are nearer the paintings' than the input photos' are."""
        return None if self.input is None else self.output < self.input

    def to_dict(self) -> dict[str, Any]:
        return {"measured": True, "output": self.output, "input": self.input, "below_input": self.below_input}


@dataclass(frozen=True)
class EdgeCorrelation:
    """Pearson correlation of Sobel magnitudes, output vs input, per frame pair; 1 = edges kept."""

    per_frame: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_frame))

    def to_dict(self) -> dict[str, Any]:
        return {"measured": True, "mean": self.mean, "per_frame": list(self.per_frame), "frames": len(self.per_frame)}


def measure_perceptual(
    paintings: Sequence[np.ndarray], output: Sequence[np.ndarray], input: Sequence[np.ndarray] | None,  # noqa: A002
    *, loss_net: str | os.PathLike[str] | None, seed: int,
) -> PerceptualDistance | NotMeasured:
    """Gram distances with the loss network at ``loss_net`` (else ``$VIDGAN_LOSS_NET``).

    Neither given: :class:`NotMeasured`. A file that is given but missing or wrong raises the
    loader's one-line :class:`~vidgan.errors.ModelFileError`. Crop positions of every set (paintings,
    OUT, INPUT) come from a fresh ``[seed, 20]`` stream, so identical sets score exactly 0.
    """
    chosen = loss_net or os.environ.get(LOSS_NET_ENV)
    if not chosen:
        return NotMeasured(f"no loss network given: pass --loss-net FILE or set ${LOSS_NET_ENV}")
    from vidgan.eval.perceptual import gram_distance, gram_statistics
    from vidgan.models.lossnet import load_loss_net

    net = load_loss_net(chosen)
    reference = gram_statistics(net, paintings, np.random.default_rng([seed, 20]))

    def distance(images: Sequence[np.ndarray]) -> GramDistance:
        return gram_distance(reference, gram_statistics(net, images, np.random.default_rng([seed, 20])), len(images))

    return PerceptualDistance(output=distance(output), input=None if input is None else distance(input),
                              loss_net=str(Path(chosen)))


def measure_colour(paintings: Sequence[np.ndarray], output: Sequence[np.ndarray],
                   input: Sequence[np.ndarray] | None, *, seed: int) -> ColourDistance:  # noqa: A002
    """Lab SWD of OUT and INPUT to the paintings' pixels.

    Pixel positions of every set come from a fresh ``[seed, 10]`` stream, so identical sets score exactly 0.
    """
    reference = lab_pixels(paintings, np.random.default_rng([seed, 10]))

    def distance(images: Sequence[np.ndarray]) -> float:
        return lab_distance(reference, lab_pixels(images, np.random.default_rng([seed, 10])), seed=seed)

    return ColourDistance(output=distance(output), input=None if input is None else distance(input))


def measure_edges(output: Sequence[np.ndarray], input: Sequence[np.ndarray] | None, *,  # noqa: A002
                  mismatch: str | None = None) -> EdgeCorrelation | NotMeasured:
    """Edge correlation of paired frames; without INPUT, or when the frames do not pair up, :class:`NotMeasured`."""
    from vidgan.eval.edges import edge_correlation

    if input is None:
        return NotMeasured("needs INPUT, the unstylized frames, to compare edges with")
    if mismatch is not None:
        return NotMeasured(mismatch)
    return EdgeCorrelation(per_frame=tuple(edge_correlation(output, input)))
