"""``vidgan sheet``: a PNG contact sheet, each input beside its stylization in every style.

The quickest way for a person to judge styles: one row per photo or video frame, one column
per style, labelled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidgan.errors import InputNotFoundError, OutputError, UnsupportedInputError
from vidgan.io.images import is_image, try_read_image


def _read_inputs(paths: list[str], frames_per_video: int) -> list[tuple[str, np.ndarray]]:
    """(label, RGB uint8) for each image, and ``frames_per_video`` evenly spaced frames of each video."""
    from vidgan.io.source import VideoSource

    images: list[tuple[str, np.ndarray]] = []
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise InputNotFoundError(f"sheet input {name} does not exist")
        if is_image(path):
            rgb = try_read_image(path)
            if rgb is None:
                raise UnsupportedInputError(f"sheet input {name} is not a readable image")
            images.append((path.name, rgb))
            continue
        source = VideoSource(str(path))
        try:
            total = source.info.frames or 100
            wanted = {int(total * (i + 1) / (frames_per_video + 1)) for i in range(frames_per_video)}
            for index, item in enumerate(f for f in source.demux() if not hasattr(f, "stream")):
                if index in wanted:
                    images.append((f"{path.name} #{index}", item.to_rgb24()))
                if index >= max(wanted):
                    break
        finally:
            source.close()
    return images


def _fit(image: np.ndarray, height: int) -> np.ndarray:
    import cv2

    scale = height / image.shape[0]
    return cv2.resize(image, (max(1, round(image.shape[1] * scale)), height), interpolation=cv2.INTER_AREA)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    import cv2

    out = image.copy()
    cv2.rectangle(out, (0, 0), (min(out.shape[1], 8 + 9 * len(text)), 22), (0, 0, 0), thickness=-1)
    cv2.putText(out, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def make_sheet(inputs: list[str], styles: list[str], output: Path, *, height: int = 256,
               frames_per_video: int = 2, device: str = "cpu", preset: str = "auto") -> Path:
    """Write the sheet to ``output`` (PNG) and return it."""
    import cv2
    import torch

    from vidgan.graph.stage import StageContext
    from vidgan.options import build_options
    from vidgan.stages.stylize import StylizeStage

    stages = [StylizeStage(build_options("stylize", StylizeStage.Options,
                                         [("style", s), ("motion", "none"), ("temporal", "0"), ("preset", preset)]),
                           StageContext(device=device, realtime=True)) for s in styles]
    rows = []
    for label, rgb in _read_inputs(inputs, frames_per_video):
        rgb = _fit(rgb, height)
        tensor = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float().div(255).to(device)
        cells = [_label(rgb, label)]
        for style, stage in zip(styles, stages):
            stage.reset()
            out = stage.stylize_tensor(tensor)[0].permute(1, 2, 0).clamp(0, 1).mul(255).round()
            cells.append(_label(out.byte().cpu().numpy(), style))
        rows.append(np.concatenate(cells, axis=1))
    if not rows:
        raise UnsupportedInputError("sheet: no input images or frames")
    width = max(row.shape[1] for row in rows)
    rows = [np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0))) for row in rows]
    sheet = np.concatenate(rows, axis=0)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(output), sheet[..., ::-1]):
        raise OutputError(f"cannot write {output}")
    return output
