"""Aligned (photo, painted) crops from a pairs folder made by ``vidgan train teach``: the paired target
of a distilled style.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch

from vidgan.errors import TrainingDataError
from vidgan.io.images import try_read_image

log = logging.getLogger("vidgan")


class PairedCrops:
    """Aligned random crops of (photo, painted) pairs from a folder made by :func:`teach_folder`.

    Crops are cut at native scale (the pairs are already at the training size) with the same
    window and flip on both sides.
    """

    def __init__(self, folder: str | Path, crop: int) -> None:
        folder = Path(folder)
        painted = sorted((folder / "painted").glob("*.png")) if (folder / "painted").is_dir() else []
        self.pairs: list[np.ndarray] = []
        for target in painted:
            photo, styled = try_read_image(folder / "photos" / target.name), try_read_image(target)
            if photo is None or styled is None or photo.shape != styled.shape or min(photo.shape[:2]) < crop:
                log.warning("skipping pair %s: missing, unreadable, mismatched or smaller than the crop", target.name)
                continue
            self.pairs.append(np.concatenate((photo, styled), axis=2))
        if not self.pairs:
            raise TrainingDataError(f"no (photo, painted) pairs in {folder}; make them with vidgan train teach")
        self.crop = crop
        card = folder / "teacher.json"
        self.record: dict = json.loads(card.read_text()) if card.exists() else {}

    def __len__(self) -> int:
        return len(self.pairs)

    def sample_batch(self, batch_size: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(photos, painted): two (B, 3, crop, crop) float32 tensors in [0, 1], aligned."""
        out = np.empty((batch_size, self.crop, self.crop, 6), np.uint8)
        for i, index in enumerate(rng.integers(len(self.pairs), size=batch_size)):
            pair = self.pairs[index]
            top = int(rng.integers(pair.shape[0] - self.crop + 1))
            left = int(rng.integers(pair.shape[1] - self.crop + 1))
            window = pair[top:top + self.crop, left:left + self.crop]
            out[i] = window[:, ::-1] if rng.random() < 0.5 else window
        both = torch.from_numpy(out).permute(0, 3, 1, 2).float() / 255
        return both[:, :3].contiguous(), both[:, 3:].contiguous()
