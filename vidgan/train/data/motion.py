"""Synthetic frame pairs with a *known* backward flow, made from still photos.

Both frames are bilinear resamplings of one source crop: the background moves by a random
homography plus a smooth elastic field, and pasted foreground patches move on their own, so
occlusions come from known geometry.

Convention (that of :mod:`vidgan.ops`): images (N, 3, H, W) float32 RGB in [0, 1]; flows
(N, 2, H, W) in pixels, channel 0 = dx, 1 = dy, *backward* from the current frame to the
previous one, so ``vidgan.ops.warp(previous, flow)`` reproduces ``current`` wherever
``valid`` (N, 1, H, W, float 0/1) is 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from vidgan.io.images import fit_short_side
from vidgan.train.data.crops import ImageCrops, cut, window
from vidgan.train.data.images import resize


@dataclass(frozen=True)
class MotionConfig:
    """Ranges of the random motion in :func:`synthetic_batch`; pixel amounts are at crop scale.

    The background moves by a homography (rotation, scale, translation, corner jitter for
    perspective) plus an elastic field (uniform node displacements on a coarse grid, bicubic
    upsampled); each occluder is a pasted patch whose own rotation, scale and translation differ
    from the background's by ``occluder_motion`` pixels, so covered and uncovered pixels are known.
    """

    max_translation: float = 8.0
    max_rotation: float = 3.0  # degrees
    scale: tuple[float, float] = (0.95, 1.05)
    perspective: float = 3.0  # corner jitter in pixels
    elastic: float = 2.5  # node displacement amplitude in pixels
    elastic_grid: int = 4  # nodes per side
    occluder_prob: float = 0.6  # chance that a pair has occluders at all
    max_occluders: int = 2
    occluder_size: tuple[float, float] = (0.2, 0.5)  # side, as a fraction of the crop
    occluder_motion: tuple[float, float] = (2.0, 10.0)  # pixels, relative to the background
    occluder_rotation: float = 10.0  # degrees
    occluder_scale: tuple[float, float] = (0.9, 1.1)

    def margin(self, crop: int) -> int:
        """Border around the crop that covers every background displacement this config can make.

        A bound per axis: translation, plus rotation and scale about the centre at the farthest
        pixel, plus the corner jitter (a little more inside the homography), plus elastic
        overshoot of bicubic upsampling.
        """
        half = (crop - 1) / 2
        theta = math.radians(self.max_rotation)
        scale_dev = max(abs(self.scale[0] - 1), abs(self.scale[1] - 1))
        turn = half * (scale_dev + self.scale[1] * (math.sin(theta) + 1 - math.cos(theta)))
        reach = self.max_translation + turn + 1.5 * self.perspective + 1.3 * self.elastic
        return int(math.ceil(reach)) + 1


@dataclass
class MotionPair:
    """Two frames and the backward flow between them (see the module docstring's convention)."""

    previous: torch.Tensor  # (3, h, w)
    current: torch.Tensor  # (3, h, w)
    flow_cur_to_prev: torch.Tensor  # (2, h, w): current[y, x] == previous[y + dy, x + dx]
    valid: torch.Tensor  # (1, h, w): 1 where that holds (inside the previous frame, not occluded)


@dataclass
class Occluder:
    """A foreground patch for :func:`render_pair`, drawn over the background in list order."""

    rgba: np.ndarray  # (ph, pw, 4) float32 in [0, 1]: colour and alpha
    top_left: tuple[int, int]  # (x, y) of the patch's pixel (0, 0) in the previous frame
    coords: np.ndarray  # (2, h, w): where each current pixel's patch content sits in the previous frame


def _all_taps(mask: np.ndarray, beyond: bool) -> np.ndarray:
    """``out[y, x]``: ``mask`` holds at all four bilinear taps whose top-left is (y, x); taps past
    the last row or column read ``beyond``."""
    rows = mask.copy()
    rows[:, :-1] &= mask[:, 1:]
    if not beyond:
        rows[:, -1] = False
    out = rows.copy()
    out[:-1] &= rows[1:]
    if not beyond:
        out[-1] = False
    return out


class _Taps:
    """The top-left bilinear tap of each sample point on a table, floored once and reused."""

    def __init__(self, x: np.ndarray, y: np.ndarray, width: int, height: int) -> None:
        x0, y0 = np.floor(x), np.floor(y)
        self.on = (x0 >= 0) & (x0 <= width - 1) & (y0 >= 0) & (y0 <= height - 1)
        self.index = (np.clip(y0, 0, height - 1) * width + np.clip(x0, 0, width - 1)).astype(np.intp)

    def read(self, table: np.ndarray, off: bool) -> np.ndarray:
        """``table`` at each tap; ``off`` where the tap is off the table."""
        value = table.ravel()[self.index]
        return value | ~self.on if off else value & self.on


def _render(
    source: np.ndarray, coords: np.ndarray, margin: int, occluders: Sequence[Occluder]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both frames (h, w, 3), the flow (2, h, w) and its validity (h, w) for one pair.

    The previous frame is ``source[margin:margin+h, margin:margin+w]`` with the occluders pasted
    at integer offsets; the current frame samples the background at ``coords + margin`` and each
    occluder at its own coordinates, bilinearly (OpenCV's remap, like ``vidgan.ops.warp``), and
    composites. The flow is that of the layer seen at each pixel. It is valid where that layer is
    seen alone, in the current frame and at all four bilinear taps in the previous one (checked
    on exact masks, so at most a one-pixel band is given up at layer edges), and the sample point
    lies inside the previous frame.
    """
    height, width = coords.shape[1:]
    previous = source[margin:margin + height, margin:margin + width].copy()
    current: np.ndarray = cv2.remap(source, coords[0] + margin, coords[1] + margin, cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    if not occluders:  # background only: valid wherever the sample point is inside the previous frame
        flow = np.stack((coords[0] - grid_x, coords[1] - grid_y))
        valid = (coords[0] >= 0) & (coords[0] <= width - 1) & (coords[1] >= 0) & (coords[1] <= height - 1)
        return previous, current, flow, valid

    layer_coords = [coords]
    alpha_before: list[np.ndarray] = []  # each occluder's alpha in the previous frame
    solid_now, clear_now = [np.ones((height, width), bool)], [np.zeros((height, width), bool)]
    top = np.zeros((height, width), np.intp)  # the layer each current pixel mostly shows
    for k, occ in enumerate(occluders, start=1):
        rgba = np.ascontiguousarray(occ.rgba, np.float32)
        ph, pw = rgba.shape[:2]
        x0, y0 = occ.top_left
        alpha = np.zeros((height, width), np.float32)
        ys, xs = slice(max(y0, 0), min(y0 + ph, height)), slice(max(x0, 0), min(x0 + pw, width))
        if ys.start < ys.stop and xs.start < xs.stop:
            patch = rgba[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
            alpha[ys, xs] = patch[..., 3]
            a = patch[..., 3:4]  # (1 - a) x + a y, exact where a is 0 or 1
            previous[ys, xs] = previous[ys, xs] * (1 - a) + patch[..., :3] * a
        alpha_before.append(alpha)
        layer = np.asarray(occ.coords, np.float32)
        px, py = layer[0] - x0, layer[1] - y0  # current pixels in patch coordinates
        sampled: np.ndarray = cv2.remap(rgba, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                        borderValue=0)
        a = sampled[..., 3:4]
        current *= 1 - a
        current += sampled[..., :3] * a
        top[sampled[..., 3] >= 0.5] = k
        ring = np.pad(rgba[..., 3], 1)  # zero ring: taps just outside the patch read transparent
        taps = _Taps(px + 1, py + 1, pw + 2, ph + 2)
        solid_now.append(taps.read(_all_taps(ring >= 1, False), off=False))
        clear_now.append(taps.read(_all_taps(ring <= 0, True), off=True))
        layer_coords.append(layer)

    shown = [top == k for k in range(len(layer_coords))]
    target = coords.copy()
    for k in range(1, len(layer_coords)):
        np.copyto(target, layer_coords[k], where=shown[k])
    flow = target - np.stack((grid_x, grid_y))
    clear_before = [a <= 0 for a in alpha_before]
    pure = np.zeros((height, width), bool)
    for k in np.flatnonzero(np.bincount(top.ravel(), minlength=len(layer_coords))).tolist():
        pure_now = solid_now[k].copy()
        pure_before = np.ones((height, width), bool) if k == 0 else alpha_before[k - 1] >= 1
        for j in range(k + 1, len(layer_coords)):
            pure_now &= clear_now[j]
            pure_before &= clear_before[j - 1]
        layer = layer_coords[k]
        seen_before = _Taps(layer[0], layer[1], width, height).read(_all_taps(pure_before, True), off=False)
        pure |= shown[k] & pure_now & seen_before
    inside = (target[0] >= 0) & (target[0] <= width - 1) & (target[1] >= 0) & (target[1] <= height - 1)
    return previous, current, flow, pure & inside


def _as_hwc_float(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """(3, H, W) tensor (float in [0, 1] or uint8) or (H, W, 3) array -> (H, W, 3) float32 array."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().permute(1, 2, 0).numpy()
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image, (3, H, W) tensor or (H, W, 3) array; got shape {image.shape}")
    return np.ascontiguousarray(_unit_float(image))


def render_pair(
    source: torch.Tensor | np.ndarray,
    coords: torch.Tensor | np.ndarray,
    margin: int,
    occluders: Sequence[Occluder] = (),
) -> MotionPair:
    """One frame pair from explicit geometry: the building block of :func:`synthetic_batch`.

    ``source`` ((3, L, L) tensor or (L, L, 3) array) is the background canvas; the previous
    frame is its crop ``margin`` pixels in from the top and left, as large as ``coords``
    (2, h, w), which gives for each current pixel its position (x, y) in the previous frame
    (pixel grid + backward flow). Exposed so hand-made motions (a pure shift, a known
    occlusion) go through the same code as the random ones.
    """
    coords = np.ascontiguousarray(coords.numpy() if isinstance(coords, torch.Tensor) else coords, np.float32)
    previous, current, flow, valid = _render(_as_hwc_float(source), coords, margin, occluders)
    return MotionPair(
        torch.from_numpy(np.ascontiguousarray(previous.transpose(2, 0, 1))),
        torch.from_numpy(np.ascontiguousarray(current.transpose(2, 0, 1))),
        torch.from_numpy(flow),
        torch.from_numpy(valid[None].astype(np.float32)),
    )


def _background_coords(crop: int, motion: MotionConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Previous-frame positions (2, crop, crop) of the current pixels, and the translation drawn."""
    centre = (crop - 1) / 2
    corners = np.array([[0, 0], [crop - 1, 0], [crop - 1, crop - 1], [0, crop - 1]], np.float64)
    translation = rng.uniform(-motion.max_translation, motion.max_translation, size=2)
    angle = math.radians(rng.uniform(-motion.max_rotation, motion.max_rotation))
    scale = rng.uniform(*motion.scale)
    rotation = scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = (corners - centre) @ rotation.T + centre + translation
    moved += rng.uniform(-motion.perspective, motion.perspective, size=(4, 2))
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), moved.astype(np.float32))
    ys, xs = np.mgrid[0:crop, 0:crop].astype(np.float64)
    mapped = homography @ np.stack((xs.ravel(), ys.ravel(), np.ones(crop * crop)))
    coords = (mapped[:2] / mapped[2]).reshape(2, crop, crop).astype(np.float32)
    if motion.elastic > 0:
        nodes = rng.uniform(-motion.elastic, motion.elastic, size=(motion.elastic_grid, motion.elastic_grid, 2))
        field = cv2.resize(nodes.astype(np.float32), (crop, crop), interpolation=cv2.INTER_CUBIC)
        coords += field.transpose(2, 0, 1)
    return coords, translation


def occluder_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """An anti-aliased ellipse or star-shaped polygon filling most of a size x size square (float 0..1)."""
    mask = np.zeros((size, size), np.uint8)
    shift = 4  # sub-pixel vertex precision: coordinates in 1/16 px
    centre = (size - 1) / 2
    reach = size / 2 - 2  # keep the soft edge inside the patch so its colours are real
    if rng.random() < 0.5:
        axes = rng.uniform(0.55, 1.0, size=2) * reach
        cv2.ellipse(mask, (round(centre * 16), round(centre * 16)), (round(axes[0] * 16), round(axes[1] * 16)),
                    rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA, shift)
    else:
        count = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * np.pi, size=count))
        radii = rng.uniform(0.5, 1.0, size=count) * reach
        points = np.stack((centre + radii * np.cos(angles), centre + radii * np.sin(angles)), axis=1)
        cv2.fillPoly(mask, [np.round(points * 16).astype(np.int32)], 255, cv2.LINE_AA, shift)
    return mask.astype(np.float32) / 255.0


def _random_occluder(
    pool: Sequence[np.ndarray], rng: np.random.Generator, crop: int, zoom: float,
    background_shift: np.ndarray, motion: MotionConfig,
) -> Occluder:
    """A patch of a random pool image, at the background's zoom, moving differently from it."""
    side = max(4, round(rng.uniform(*motion.occluder_size) * crop))
    donor = pool[int(rng.integers(len(pool)))]
    rgb = _unit_float(resize(window(donor, side * zoom, rng), side, side))
    rgba = np.concatenate((rgb, occluder_mask(side, rng)[..., None]), axis=2)
    top_left = np.round(rng.uniform(0, crop - 1, size=2) - (side - 1) / 2).astype(int)
    centre_before = top_left + (side - 1) / 2
    direction = rng.uniform(0, 2 * np.pi)
    offset = rng.uniform(*motion.occluder_motion) * np.array([math.cos(direction), math.sin(direction)])
    centre_now = centre_before - (background_shift + offset)  # its flow at the centre: shift + offset
    angle = math.radians(rng.uniform(-motion.occluder_rotation, motion.occluder_rotation))
    scale = rng.uniform(*motion.occluder_scale)
    cos, sin = scale * math.cos(angle), scale * math.sin(angle)
    ys, xs = np.mgrid[0:crop, 0:crop].astype(np.float32)
    dx, dy = xs - centre_now[0], ys - centre_now[1]
    coords = np.stack((centre_before[0] + cos * dx - sin * dy, centre_before[1] + sin * dx + cos * dy)).astype(np.float32)
    return Occluder(rgba, (int(top_left[0]), int(top_left[1])), coords)


def _synthesize(
    sources: Sequence[np.ndarray],
    pool: Sequence[np.ndarray],
    rng: np.random.Generator,
    crop: int,
    scale: tuple[float, float],
    flip: bool,
    motion: MotionConfig,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    batch = len(sources)
    margin = motion.margin(crop)
    size = crop + 2 * margin
    previous = np.empty((batch, crop, crop, 3), np.float32)
    current = np.empty_like(previous)
    flow = np.empty((batch, 2, crop, crop), np.float32)
    valid = np.empty((batch, 1, crop, crop), np.float32)
    for b, image in enumerate(sources):
        # A source wider than the crop by the margin, at the zoom a plain crop would have.
        source, zoom = cut(image, rng, size, scale, flip, window_scale=size / crop)
        coords, shift = _background_coords(crop, motion, rng)
        count = 0
        if motion.max_occluders > 0 and rng.random() < motion.occluder_prob:
            count = int(rng.integers(1, motion.max_occluders + 1))
        occluders = [_random_occluder(pool, rng, crop, zoom, shift, motion) for _ in range(count)]
        previous[b], current[b], flow[b], valid[b, 0] = _render(_unit_float(source), coords, margin, occluders)
    return (torch.from_numpy(np.ascontiguousarray(previous.transpose(0, 3, 1, 2))),
            torch.from_numpy(np.ascontiguousarray(current.transpose(0, 3, 1, 2))),
            torch.from_numpy(flow), torch.from_numpy(valid))


def _unit_float(image: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1]; float images pass through as float32."""
    if image.dtype == np.uint8:
        return np.divide(image, np.float32(255), dtype=np.float32)
    return image.astype(np.float32, copy=False)


def synthetic_batch(
    bank: ImageCrops,
    batch_size: int,
    rng: np.random.Generator,
    motion: MotionConfig | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch of synthetic frame pairs from the photos in ``bank``, at ``bank.crop`` pixels.

    Returns ``(previous, current, flow, valid)``: (B, 3, c, c), (B, 3, c, c), (B, 2, c, c),
    (B, 1, c, c), float32, contiguous, on the CPU. Backgrounds and occluder patches come from
    the bank (occluders from any of its images) with its scale jitter and flips; deterministic
    for a given generator state. Runs on the calling thread with OpenCV and NumPy only.
    """
    motion = motion or MotionConfig()
    sources = [bank.images[i] for i in rng.integers(len(bank.images), size=batch_size)]
    return _synthesize(sources, bank.images, rng, bank.crop, bank.scale, bank.flip, motion)


def synthetic_pair(
    image: torch.Tensor | np.ndarray,
    rng: np.random.Generator,
    crop: int = 128,
    motion: MotionConfig | None = None,
    *,
    scale: tuple[float, float] = (0.5, 1.0),
    flip: bool = True,
) -> MotionPair:
    """One synthetic pair cut from ``image``: a (3, H, W) tensor (float in [0, 1] or uint8) or an
    (H, W, 3) array. Occluder patches come from the same image. See :func:`synthetic_batch`."""
    array = image.detach().cpu().permute(1, 2, 0).numpy() if isinstance(image, torch.Tensor) else image
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"synthetic_pair: expected an RGB image; got shape {tuple(image.shape)}")
    array = np.ascontiguousarray(array if array.dtype == np.uint8 else array.astype(np.float32))
    if min(array.shape[:2]) < crop:
        array = fit_short_side(array, crop, min_side=crop)
    previous, current, flow, valid = _synthesize([array], [array], rng, int(crop), scale, flip, motion or MotionConfig())
    return MotionPair(previous[0], current[0], flow[0], valid[0])
