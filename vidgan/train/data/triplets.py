"""Frame triplets (I0, It, I1) for interpolation training: from clips, and synthetic layered ones from photos.

Clip triplets are frames i, i + k, i + 2k with k drawn from ``skips`` (larger k, larger motion),
random crops, flips, time reversal and a small colour jitter. Synthetic triplets move a photo
behind a shaped patch of another by whole pixels, so their flows are exact; for clip triplets
DIS flows from the true middle frame are the privileged motion the network is distilled toward.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from vidgan.errors import TrainingDataError
from vidgan.io.frames import iter_frames
from vidgan.io.images import fit_short_side, try_read_image
from vidgan.models.flow import create_dis, dense_flow
from vidgan.train.data.files import find_images
from vidgan.train.data.motion import occluder_mask

if TYPE_CHECKING:
    import cv2

log = logging.getLogger("vidgan")


def clip_frames(path: str | Path, *, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """The frames of a training clip (video or frame folder); what cannot be read is a TrainingDataError."""
    return iter_frames(path, max_frames=max_frames, error=TrainingDataError)


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
        self._dis: cv2.DISOpticalFlow | None = None  # created on first use
        self.clips: list[list[np.ndarray]] = []
        for source in sources:
            frames: list[np.ndarray] = []
            mismatch = ""
            try:
                for index, frame in enumerate(clip_frames(source, max_frames=max_frames)):
                    if index == 0:
                        first = frame.shape[:2]
                    elif frame.shape[:2] != first:
                        mismatch = _size_mismatch(source, index, frame.shape[:2], first)
                        break
                    frames.append(fit_short_side(frame, image_side, min_side=1))
            except Exception as exc:  # noqa: BLE001 - an unreadable source is skipped and counted
                log.warning("skipping %s: %s", source, exc)
                continue
            if mismatch:  # not skipped: triplets across a resize would teach false motion
                raise TrainingDataError(mismatch)
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

    def _teacher_flows(self, stacks: np.ndarray, skip: AbstractSet[int] = frozenset()) -> torch.Tensor:
        import cv2

        if self._dis is None:
            self._dis = create_dis("medium")
        result = np.zeros((len(stacks), 4, *stacks.shape[1:3]), dtype=np.float32)
        for index, stack in enumerate(stacks):
            if index in skip:
                continue
            gray = [cv2.cvtColor(np.ascontiguousarray(stack[..., c:c + 3]), cv2.COLOR_RGB2GRAY) for c in (0, 3, 6)]
            for slot, end in ((0, gray[0]), (2, gray[2])):
                result[index, slot:slot + 2] = dense_flow(self._dis, gray[1], end).transpose(2, 0, 1)
        return torch.from_numpy(result)


def _size_mismatch(source: str, index: int, size: tuple[int, ...], first: tuple[int, ...]) -> str:
    return (f"{source}: frame {index + 1} is {size[1]}x{size[0]} but the first frame is {first[1]}x{first[0]}; "
            "the frames of one clip must share one size")


def _load_photos(folders: tuple[str, ...], image_side: int) -> list[np.ndarray]:
    photos = []
    for path in find_images(folders):
        image = try_read_image(path)
        if image is None:
            log.warning("skipping unreadable image %s", path)
            continue
        photos.append(fit_short_side(image, image_side, min_side=1))
    if not photos:
        raise TrainingDataError(f"no readable photos in {', '.join(folders)}")
    return photos


def _shape_mask(side: int, rng: np.random.Generator) -> np.ndarray:
    """The stylizer's occluder shapes (ellipses, star polygons), hard-edged so the motion stays exact."""
    return occluder_mask(side, rng) >= 0.5


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
