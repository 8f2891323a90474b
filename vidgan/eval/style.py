"""Style distance: multi-scale sliced Wasserstein distance of Laplacian-pyramid patches (Karras et al., ICLR 2018).

How close a stylized video's brush strokes, textures and colours are to a folder of paintings,
without a pretrained network: the same numbers on every machine for the same inputs and seed.
The SWD rewards its own objective more than the look, so the report also carries the measures of
:mod:`vidgan.eval.look` (perceptual Gram distance, Lab colour distance, edge correlation).
See docs/eval.md.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vidgan.errors import EvalInputError, InputNotFoundError
from vidgan.eval.look import (
    ColourDistance,
    EdgeCorrelation,
    NotMeasured,
    PerceptualDistance,
    measure_colour,
    measure_edges,
    measure_perceptual,
)
from vidgan.eval.sliced import random_directions as _random_directions
from vidgan.eval.sliced import sliced_wasserstein
from vidgan.eval.sliced import subsample as _subsample
from vidgan.io.frames import count_frames, sample_frames

__all__ = [
    "StyleDistance",
    "StyleReport",
    "SwdSettings",
    "laplacian_pyramid",
    "patch_descriptors",
    "sliced_wasserstein",
    "style_distance",
]


@dataclass(frozen=True)
class SwdSettings:
    """Parameters of :func:`style_distance` (the defaults are what ``vidgan eval style`` uses)."""

    levels: int = 4
    """Laplacian pyramid levels: 3 band-pass levels and the low-pass residual (colour)."""
    patch_size: int = 7
    patches_per_image: int = 256
    """Random patch positions per image and level (uniform over all full-patch positions)."""
    directions: int = 128
    repeats: int = 4
    """Independent sets of ``directions`` random unit projections; SWD is their mean."""
    long_side: int = 512
    """Images larger than this are shrunk (area filter) so that strokes and textures compare at one scale."""
    max_frames: int = 16
    """Frames sampled evenly from each video or frame folder."""
    max_paintings: int = 64
    """Paintings sampled evenly (by name) from the style folder."""
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("levels", "patch_size", "patches_per_image", "directions", "repeats", "long_side",
                     "max_frames", "max_paintings"):
            if getattr(self, name) < 1:
                raise EvalInputError(f"style distance: {name} must be at least 1; got {getattr(self, name)}")


def laplacian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """Band-pass levels, finest first, then the low-pass residual; they sum back to ``image`` exactly.

    Uses OpenCV's 5x5 binomial pyramid (``pyrDown``/``pyrUp``, reflect-101 borders); float32 in and out.
    """
    bands: list[np.ndarray] = []
    current: np.ndarray = image.astype(np.float32, copy=False)
    for _ in range(levels - 1):
        smaller = cv2.pyrDown(current)
        bands.append(current - cv2.pyrUp(smaller, dstsize=(current.shape[1], current.shape[0])))
        current = smaller
    bands.append(current)
    return bands


def _prepare(image: np.ndarray, long_side: int) -> np.ndarray:
    """uint8 RGB -> float32 [0, 1], shrunk so its longer side is at most ``long_side``."""
    height, width = image.shape[:2]
    scale = long_side / max(height, width)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image.astype(np.float32) / 255.0


def patch_descriptors(
    images: Sequence[np.ndarray], *, settings: SwdSettings, rng: np.random.Generator, what: str = "an image"
) -> list[np.ndarray]:
    """Per pyramid level, (N, patch x patch x 3) raw patch descriptors (channel last) from every image.

    ``images`` are float32 RGB in [0, 1]. Each image gives ``patches_per_image`` patches per level at
    uniform random positions (drawn from ``rng``, image by image, level by level).
    """
    size = settings.patch_size
    per_level: list[list[np.ndarray]] = [[] for _ in range(settings.levels)]
    for image in images:
        for level, band in enumerate(laplacian_pyramid(image, settings.levels)):
            height, width = band.shape[:2]
            if height < size or width < size:
                low = size * 2 ** (settings.levels - 1)
                raise EvalInputError(
                    f"{what} is {image.shape[1]}x{image.shape[0]}: too small for {settings.levels} pyramid levels "
                    f"of {size}x{size} patches (needs about {low} pixels a side)"
                )
            windows = np.lib.stride_tricks.sliding_window_view(band, (size, size), axis=(0, 1))  # (h', w', 3, p, p)
            ys = rng.integers(0, height - size + 1, settings.patches_per_image)
            xs = rng.integers(0, width - size + 1, settings.patches_per_image)
            patches = windows[ys, xs].transpose(0, 2, 3, 1)  # (n, p, p, 3)
            per_level[level].append(patches.reshape(len(ys), -1))
    return [np.concatenate(level).astype(np.float32) for level in per_level]


def _normalise(descriptors: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    channels = len(mean)
    shaped = descriptors.reshape(len(descriptors), -1, channels)
    return ((shaped - mean) / std).reshape(len(descriptors), -1)


def _channel_stats(descriptors: np.ndarray, channels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std over every patch and patch position of one level."""
    values = descriptors.reshape(-1, channels).astype(np.float64)
    return values.mean(axis=0).astype(np.float32), np.maximum(values.std(axis=0), 1e-6).astype(np.float32)


@dataclass(frozen=True)
class StyleDistance:
    """SWD of one image set against the paintings: per pyramid level (finest first) and their mean."""

    per_level: tuple[float, ...]
    images: int

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_level))


@dataclass(frozen=True)
class StyleReport:
    """Everything ``vidgan eval style`` reports."""

    paintings_path: str
    output_path: str
    input_path: str | None
    paintings: int
    output: StyleDistance
    input: StyleDistance | None
    settings: SwdSettings
    seconds: float
    perceptual: PerceptualDistance | NotMeasured = NotMeasured("not computed")
    colour: ColourDistance | NotMeasured = NotMeasured("not computed")
    edges: EdgeCorrelation | NotMeasured = NotMeasured("not computed")

    @property
    def ratio(self) -> float | None:
        """SWD(output) / SWD(input): below 1, the output's patch statistics moved toward the paintings."""
        if self.input is None or self.input.mean <= 0:
            return None
        return self.output.mean / self.input.mean

    def to_dict(self) -> dict[str, Any]:
        def distance(d: StyleDistance | None) -> dict[str, Any] | None:
            return None if d is None else {"swd": d.mean, "per_level": list(d.per_level), "images": d.images}

        return {
            "metric": "swd",
            "paintings": self.paintings_path,
            "output": self.output_path,
            "input": self.input_path,
            "painting_images": self.paintings,
            "output_swd": distance(self.output),
            "input_swd": distance(self.input),
            "ratio": self.ratio,
            "perceptual": self.perceptual.to_dict(),
            "lab_colour": self.colour.to_dict(),
            "edge_correlation": self.edges.to_dict(),
            "settings": asdict(self.settings),
            "seconds": self.seconds,
        }


def _style_images(path: str | Path, count: int, long_side: int) -> list[np.ndarray]:
    return [_prepare(frame, long_side) for frame in sample_frames(path, count, error=EvalInputError)]


def style_distance(
    paintings: str | Path,
    output: str | Path,
    input: str | Path | None = None,  # noqa: A002 - the CLI's name for it
    *,
    settings: SwdSettings = SwdSettings(),
    loss_net: str | os.PathLike[str] | None = None,
) -> StyleReport:
    """Multi-scale SWD of ``output`` (and ``input``) against a folder of paintings, after Karras et al. (2018).

    Per pyramid level: random 7x7 patches of every image; every set normalised by the *paintings'*
    per-channel mean and std at that level (so colour counts, unlike Karras's per-set normalisation);
    the larger set randomly subsampled to the smaller's size; SWD over ``repeats x directions`` random
    unit projections. Random streams are fixed by ``settings.seed`` and shared between output and
    input (same positions, projections and painting subsample), so identical inputs score identically.

    The same sampled images also give the measures of :mod:`vidgan.eval.look`: the perceptual
    distance with the VGG19 at ``loss_net`` (else ``$VIDGAN_LOSS_NET``; neither: not measured),
    the Lab colour distance, and with ``input`` the edge correlation of frame pairs.
    """
    started = time.perf_counter()
    if not os.path.isdir(paintings):
        if not os.path.exists(paintings):
            raise InputNotFoundError(f"paintings folder {paintings} does not exist")
        raise EvalInputError(f"{paintings} is not a folder of paintings")
    painting_images = _style_images(paintings, settings.max_paintings, settings.long_side)
    reference = patch_descriptors(painting_images, settings=settings, rng=np.random.default_rng([settings.seed, 0]),
                                  what=f"a painting in {paintings}")
    stats = [_channel_stats(level) for level in reference]
    reference = [_normalise(level, *stat) for level, stat in zip(reference, stats)]

    def distance(images: list[np.ndarray], path: str | Path) -> StyleDistance:
        own = patch_descriptors(images, settings=settings, rng=np.random.default_rng([settings.seed, 1]),
                                what=f"a frame of {path}")
        per_level = []
        for level, (ref, mine, stat) in enumerate(zip(reference, own, stats)):
            mine = _normalise(mine, *stat)
            count = min(len(ref), len(mine))
            ref_part = _subsample(ref, count, np.random.default_rng([settings.seed, 2, level]))
            mine_part = _subsample(mine, count, np.random.default_rng([settings.seed, 3, level]))
            directions = _random_directions(ref.shape[1], settings.directions * settings.repeats,
                                            np.random.default_rng([settings.seed, 4, level]))
            per_level.append(sliced_wasserstein(ref_part, mine_part, directions))
        return StyleDistance(per_level=tuple(per_level), images=len(images))

    output_images = _style_images(output, settings.max_frames, settings.long_side)
    input_images = None if input is None else _style_images(input, settings.max_frames, settings.long_side)
    output_distance = distance(output_images, output)
    input_distance = None if input is None or input_images is None else distance(input_images, input)
    return StyleReport(
        paintings_path=str(paintings), output_path=str(output), input_path=None if input is None else str(input),
        paintings=len(painting_images), output=output_distance, input=input_distance, settings=settings,
        perceptual=measure_perceptual(painting_images, output_images, input_images, loss_net=loss_net,
                                      seed=settings.seed),
        colour=measure_colour(painting_images, output_images, input_images, seed=settings.seed),
        edges=measure_edges(output_images, input_images, mismatch=_frame_mismatch(output, input)),
        seconds=time.perf_counter() - started,
    )


def _frame_mismatch(output: str | Path, input: str | Path | None) -> str | None:  # noqa: A002
    """Why OUT's and INPUT's sampled frames are not the same moments (different frame counts), or None."""
    if input is None:
        return None
    out_count = count_frames(output, error=EvalInputError)
    in_count = count_frames(input, error=EvalInputError)
    if out_count == in_count:
        return None
    return f"{output} has {out_count} frames but {input} has {in_count}: frames do not pair up"
