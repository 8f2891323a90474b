"""``vidgan train pack``: shrink training folders to the size training reads them at.

Training keeps every image at a short side of ``--image-side`` (360 by default) and crops from
there, so the full-size originals are wasted bytes. Packing resizes once (area averaging, never
upscaling) and re-encodes as high-quality JPEG, keeping the folder structure; a few hundred
photos and paintings then fit in a few megabytes, small enough to copy next to the code onto a
remote GPU machine. File names keep their stems, so frame folders keep their order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2

from vidgan.errors import TrainingDataError
from vidgan.io.images import fit_short_side, try_read_image
from vidgan.train.data.files import find_images


@dataclass(frozen=True)
class PackReport:
    images: int
    skipped: int
    bytes_in: int
    bytes_out: int


def pack_folder(source: Path, target: Path, *, short_side: int = 360, quality: int = 92) -> PackReport:
    """Write every readable image under ``source`` to the same relative path under ``target``.

    Names keep their stem and get ``.jpg``; unreadable files are skipped and counted.
    """
    source, target = Path(source), Path(target)
    if not source.is_dir():
        raise TrainingDataError(f"not a folder: {source}")
    if target.resolve() == source.resolve() or source.resolve() in target.resolve().parents:
        raise TrainingDataError(f"the packed copy must go outside the source folder: {target}")
    paths = find_images(source)
    images = skipped = bytes_in = bytes_out = 0
    for path in paths:
        image = try_read_image(path)
        if image is None:
            skipped += 1
            continue
        small = fit_short_side(image, short_side, min_side=1)
        out = target / path.relative_to(source).with_suffix(".jpg")
        out.parent.mkdir(parents=True, exist_ok=True)
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                                   [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise TrainingDataError(f"could not encode {path}")
        tmp = out.with_name(out.name + ".partial")
        tmp.write_bytes(encoded.tobytes())
        os.replace(tmp, out)
        images += 1
        bytes_in += path.stat().st_size
        bytes_out += out.stat().st_size
    return PackReport(images, skipped, bytes_in, bytes_out)
