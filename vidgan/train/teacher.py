"""An optimisation teacher for style training: paint each photo by gradient descent on its pixels.

Why: on a CPU a small generator learns a style from distribution-matching losses (adversarial,
patch statistics) far too slowly to be useful in hours; optimising one image's pixels against
the paintings' patch bank (Gatys et al. 2016, with the sliced Wasserstein patch distance of
:class:`vidgan.train.losses.PatchBank` in place of a pretrained network's Gram matrices) paints
a photo in seconds. A folder of (photo, painted) pairs made once by :func:`teach_folder` then
gives the generator a paired target, which it learns as fast as any regression: the
feed-forward stylizer distils the optimiser (Johnson et al. 2016; Ulyanov et al. 2016).

Layout of a pairs folder: ``photos/NAME.png`` and ``painted/NAME.png``, the same size: windows of
each photo at the training short side, cut at native scale (the optimiser's cost grows with the
pixels, so it paints the windows the student will crop from, not whole photos). Files are written atomically, so a folder being filled can be
trained from, and an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from vidgan.progress import Progress, ProgressMode
from vidgan.train import data, losses
from vidgan.train.config import TeacherConfig
from vidgan.train.data.paired import PairedCrops

__all__ = ["PairedCrops", "Palette", "Teacher", "TeacherConfig", "build_teacher", "paint", "teach_folder"]

log = logging.getLogger("vidgan")

_EPS = 1e-3


@dataclass(frozen=True)
class Palette:
    """Mean and spread of the paintings' colours in CIE Lab (Reinhard et al. 2001)."""

    mean: np.ndarray
    spread: np.ndarray

    @classmethod
    def of(cls, images: torch.Tensor) -> Palette:
        lab = _lab(images).reshape(-1, 3)
        return cls(lab.mean(axis=0), lab.std(axis=0) + 1e-3)

    def apply(self, images: torch.Tensor, amount: float) -> torch.Tensor:
        """Move each image's Lab mean and spread ``amount`` of the way to the palette's."""
        out = []
        for lab in _lab(images):
            flat = lab.reshape(-1, 3)
            mean, spread = flat.mean(axis=0), flat.std(axis=0) + 1e-3
            moved = (lab - mean) / spread * (spread + amount * (self.spread - spread)) + mean + amount * (self.mean - mean)
            rgb = cv2.cvtColor(moved.astype(np.float32), cv2.COLOR_LAB2RGB)
            out.append(torch.from_numpy(np.clip(rgb, 0.0, 1.0)).permute(2, 0, 1))
        return torch.stack(out)


def _lab(images: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) RGB in [0, 1] -> (N, H, W, 3) float32 Lab."""
    rgb = images.permute(0, 2, 3, 1).float().numpy()
    return np.stack([cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2LAB) for image in rgb])


@dataclass
class Teacher:
    bank: losses.PatchBank
    palette: Palette
    config: TeacherConfig
    paintings: int  # how many painting files the bank was cut from


def build_teacher(style: Sequence[str], config: TeacherConfig, device: torch.device | str = "cpu") -> Teacher:
    """The paintings' patch bank and palette, from native-scale crops (brush strokes keep their size)."""
    files = data.find_images(style)
    paintings = data.ImageCrops(files, crop=config.crop, short_side=config.image_side,
                                scale=(config.crop / config.image_side,) * 2)
    rng = np.random.default_rng([config.seed, 7])
    crops = torch.cat([paintings.sample_batch(32, rng) for _ in range(max(1, config.bank_crops // 32))])
    bank = losses.PatchBank(crops, generator=torch.Generator().manual_seed(config.seed)).to(device)
    return Teacher(bank, Palette.of(crops), config, len(files))


def paint(photo: torch.Tensor, teacher: Teacher) -> torch.Tensor:
    """(N, 3, H, W) in [0, 1] -> each photo painted: palette moved, then texture optimised.

    Colours move globally (a per-image Lab transfer): matching the low-pass band patch by patch
    on a small window scatters the whole palette over it in blobs. The texture bands are then
    optimised against the bank, from the recoloured photo, in logit space (values stay in
    range), with the layout term holding where light and dark are.
    """
    config, bank = teacher.config, teacher.bank
    start = teacher.palette.apply(photo, config.colour)
    logits = torch.logit(start.float().clamp(_EPS, 1 - _EPS)).detach().requires_grad_(True)
    optimiser = torch.optim.Adam([logits], lr=config.lr)
    for _ in range(config.steps):
        painted = torch.sigmoid(logits)
        # one image at a time in the style term, so each one has to carry the style on its own
        loss = sum(bank.distance(painted[i:i + 1], directions=config.directions, samples=config.samples,
                                 levels=config.texture_levels) for i in range(len(logits)))
        loss = loss + config.layout * len(logits) * losses.structure(painted, photo)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return torch.sigmoid(logits.detach())


def _write_png(path: Path, rgb: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".partial.png")
    if not cv2.imwrite(str(tmp), np.ascontiguousarray(rgb[..., ::-1])):
        raise OSError(f"could not write {tmp}")
    os.replace(tmp, path)


def teach_folder(content: Sequence[str], style: Sequence[str], out: Path, config: TeacherConfig, *,
                 limit: int | None = None, progress: ProgressMode = "auto") -> int:
    """Paint the content photos (up to ``limit``) into ``out``; returns how many pairs it holds.

    Photos already painted are skipped, so a run can be stopped and started again.
    """
    torch.manual_seed(config.seed)
    rng = np.random.default_rng([config.seed, 11])
    teacher = build_teacher(style, config)
    paths = data.find_images(content)
    # a seeded random order, so that a partial run (--limit, or stopped early) covers every folder
    paths = [paths[i] for i in np.random.default_rng(config.seed).permutation(len(paths))][:limit]
    (out / "photos").mkdir(parents=True, exist_ok=True)
    (out / "painted").mkdir(parents=True, exist_ok=True)
    record = {"teacher": dataclasses.asdict(config), "content_folders": [str(c) for c in content],
              "style_folders": [str(s) for s in style], "style_images": teacher.paintings}
    (out / "teacher.json").write_text(json.dumps(record, indent=2) + "\n")  # read into the student's model card
    names = _unique_names(paths)
    meter = Progress(len(paths), mode=progress, desc="paint", unit="image")
    skipped = 0
    try:
        for index, (path, name) in enumerate(zip(paths, names)):
            windows = rng.random((config.pieces, 2))  # drawn for every photo: reruns cut the same windows
            targets = [out / "painted" / f"{name}_{k}.png" for k in range(config.pieces)]
            if not all(t.exists() for t in targets):
                image = data.try_read_image(path)
                if image is None:
                    log.warning("skipping unreadable image: %s", path)
                    skipped += 1
                    continue
                image = data.fit_short_side(image, config.image_side, min_side=config.piece)
                side = config.piece
                pieces = np.stack([image[int(fy * (image.shape[0] - side)):][:side, int(fx * (image.shape[1] - side)):][:, :side]
                                   for fy, fx in windows])
                photos = torch.from_numpy(pieces).permute(0, 3, 1, 2).float() / 255
                painted = (paint(photos, teacher).permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
                for k, target in enumerate(targets):
                    _write_png(out / "photos" / target.name, pieces[k])
                    _write_png(target, painted[k])
            meter.update(index + 1)
    finally:
        meter.close()
    if skipped:
        log.warning("skipped %d unreadable image(s)", skipped)
    return len(list((out / "painted").glob("*.png")))


def _unique_names(paths: Sequence[Path]) -> list[str]:
    """File stems made unique across folders (two folders may both hold 1.jpg)."""
    names, seen = [], set()
    for path in paths:
        name = f"{path.parent.name}_{path.stem}"
        while name in seen:
            name += "_"
        seen.add(name)
        names.append(name)
    return names
