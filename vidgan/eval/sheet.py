"""``vidgan sheet``: a contact sheet, each input beside its stylization by every style model.

The quickest way for a person to judge styles: one row per photo or video frame, one column per
style and preset, under a labelled header. Every input is centre-cropped to one aspect ratio so
all tiles have one size and the rows line up with no gaps. Each stylization comes from the real
``stylize`` stage at its preset's processing scale; a video frame is stylized after a few
warm-up frames of its clip, so the recurrence is as in use. JPEG output is fitted to a size
budget for the docs; PNG is written lossless.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidgan.errors import InputNotFoundError, OutputError, UnsupportedInputError
from vidgan.eval.stylized import StyleColumn, open_stage, stylize_frames
from vidgan.io.images import fit_short_side, is_image, try_read_image

__all__ = ["SheetLayout", "SheetRow", "encode_sheet", "make_sheet", "parse_aspect", "read_rows"]

SHEET_SUFFIXES = (".jpg", ".jpeg", ".png")
JPEG_QUALITIES = tuple(range(90, 39, -5))  # tried in turn until the sheet fits its byte budget


@dataclass(frozen=True)
class SheetRow:
    """One row: its label and the frames to stylize in order (warm-up frames, then the one shown)."""

    label: str
    frames: list[np.ndarray]

    @property
    def shown(self) -> np.ndarray:
        return self.frames[-1]


@dataclass(frozen=True)
class SheetLayout:
    """Tile geometry: every tile ``height`` px high and ``aspect`` (width/height) wide."""

    height: int = 256
    aspect: float = 4 / 3

    def __post_init__(self) -> None:
        if self.height < 16:
            raise UnsupportedInputError(f"sheet: row height must be at least 16 px; got {self.height}")
        if not 0.2 <= self.aspect <= 5:
            raise UnsupportedInputError(f"sheet: aspect ratio must be between 1:5 and 5:1; got {self.aspect:.3g}")

    @property
    def width(self) -> int:
        return 2 * max(1, round(self.height * self.aspect / 2))

    @property
    def header(self) -> int:
        return max(20, self.height // 9)


def parse_aspect(text: str) -> float:
    """``4:3``, ``16/9`` or ``1.5`` -> width / height."""
    for sep in (":", "/"):
        if sep in text:
            width, _, height = text.partition(sep)
            break
    else:
        width, height = text, "1"
    try:
        value = float(width) / float(height)
    except (ValueError, ZeroDivisionError):
        raise UnsupportedInputError(f"sheet: aspect ratio {text!r} is not W:H (e.g. 4:3)") from None
    if not value > 0:
        raise UnsupportedInputError(f"sheet: aspect ratio {text!r} is not W:H (e.g. 4:3)")
    return value


def read_rows(paths: Sequence[str], frames_per_video: int, warmup: int = 4) -> list[SheetRow]:
    """A row per image, and per each of ``frames_per_video`` evenly spaced frames of each video
    (with up to ``warmup`` frames before it)."""
    from vidgan.io.source import VideoSource

    if frames_per_video < 1:
        raise UnsupportedInputError(f"sheet: frames per video must be at least 1; got {frames_per_video}")
    if warmup < 0:
        raise UnsupportedInputError(f"sheet: warm-up frames must be 0 or more; got {warmup}")
    rows: list[SheetRow] = []
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise InputNotFoundError(f"sheet input {name} does not exist")
        if is_image(path):
            rgb = try_read_image(path)
            if rgb is None:
                raise UnsupportedInputError(f"sheet input {name} is not a readable image")
            rows.append(SheetRow(path.name, [rgb]))
            continue
        source = VideoSource(str(path))
        try:
            total = source.info.frames or 100
            wanted = {int(total * (i + 1) / (frames_per_video + 1)) for i in range(frames_per_video)}
            recent: deque[np.ndarray] = deque(maxlen=warmup + 1)
            for index, item in enumerate(f for f in source.demux() if not hasattr(f, "stream")):
                recent.append(item.to_rgb24())
                if index in wanted:
                    rows.append(SheetRow(f"{path.name} #{index}", list(recent)))
                if index >= max(wanted):
                    break
        finally:
            source.close()
    return rows


def _read_inputs(paths: list[str], frames_per_video: int) -> list[tuple[str, np.ndarray]]:
    """(label, RGB uint8) of each row's shown frame."""
    return [(row.label, row.shown) for row in read_rows(paths, frames_per_video, warmup=0)]


def centre_crop(image: np.ndarray, aspect: float) -> np.ndarray:
    """The largest centred window of ``image`` with width/height ``aspect``."""
    height, width = image.shape[:2]
    if width / height > aspect:
        keep = max(1, round(height * aspect))
        left = (width - keep) // 2
        return image[:, left:left + keep]
    keep = max(1, round(width / aspect))
    top = (height - keep) // 2
    return image[top:top + keep]


def _tile(image: np.ndarray, layout: SheetLayout) -> np.ndarray:
    import cv2

    size = (layout.width, layout.height)
    shrink = image.shape[0] > layout.height
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def _text_scale(text: str, width: int, height: int) -> tuple[float, int]:
    """The largest Hershey font scale (and its thickness) at which ``text`` fits ``width`` x ``height``."""
    import cv2

    scale = height / 32
    while scale > 0.25:
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        if w <= width - 8 and h <= height - 6:
            break
        scale *= 0.9
    return scale, 1 if scale < 0.9 else 2


def header_row(labels: Sequence[str], layout: SheetLayout) -> np.ndarray:
    """A dark strip with each column's label centred over it."""
    import cv2

    strip = np.full((layout.header, layout.width * len(labels), 3), 24, np.uint8)
    for column, text in enumerate(labels):
        scale, thickness = _text_scale(text, layout.width, layout.header)
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        origin = (column * layout.width + (layout.width - w) // 2, (layout.header + h) // 2)
        cv2.putText(strip, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), thickness, cv2.LINE_AA)
    return strip


def _row_label(tile: np.ndarray, text: str) -> np.ndarray:
    """The input's name in a small dark box in the tile's lower left corner."""
    import cv2

    out = tile.copy()
    box = max(14, tile.shape[0] // 14)
    scale, _ = _text_scale(text, tile.shape[1], box)
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    top = tile.shape[0] - box
    out[top:, :w + 8] = (out[top:, :w + 8] * 0.35).astype(np.uint8)
    cv2.putText(out, text, (4, top + (box + h) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def stylized_tile(stage, row: SheetRow, layout: SheetLayout) -> np.ndarray:
    """The row's shown frame stylized (after its warm-up frames), at the stage's scale, as a tile."""
    frames = [fit_short_side(centre_crop(frame, layout.aspect), stage.short_side) for frame in row.frames]
    last = deque(stylize_frames(stage, frames), maxlen=1)
    return _tile(last[0], layout)


def encode_sheet(sheet: np.ndarray, suffix: str, max_bytes: int) -> bytes:
    """PNG, or JPEG at the highest quality of :data:`JPEG_QUALITIES` that fits ``max_bytes`` (else the lowest)."""
    import cv2

    bgr = np.ascontiguousarray(sheet[..., ::-1])
    if suffix == ".png":
        ok, data = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
        return data.tobytes()
    encoded: np.ndarray | None = None
    for quality in JPEG_QUALITIES:
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
        if not ok:
            raise OutputError("sheet: the JPEG encoder failed")
        if encoded.size <= max_bytes:
            break
    assert encoded is not None
    return encoded.tobytes()


def _write_atomic(output: Path, data: bytes) -> None:
    from vidgan.io.output import AtomicOutput, describe_os_error

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        target = AtomicOutput(output, overwrite=True)
        try:
            target.temp_path.write_bytes(data)
            target.commit()
        except BaseException:
            target.discard()
            raise
    except OSError as exc:
        raise OutputError(describe_os_error(exc, output)) from None


def make_sheet(inputs: Sequence[str], columns: Sequence[StyleColumn], output: Path, *,
               height: int = 256, aspect: float = 4 / 3, frames_per_video: int = 2, warmup: int = 4,
               device: str = "cpu", max_bytes: int = 1_500_000) -> Path:
    """Write the sheet of ``inputs`` x ``columns`` (:func:`vidgan.eval.stylized.style_columns`) to
    ``output`` (.jpg/.jpeg or .png) and return it; nothing is left behind on an error."""
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise OutputError(f"sheet output {output} must end in {', '.join(SHEET_SUFFIXES)}")
    layout = SheetLayout(height=height, aspect=aspect)
    rows = read_rows(inputs, frames_per_video, warmup)
    if not rows:
        raise UnsupportedInputError("sheet: no input images or frames")
    stages = [open_stage(column.entry, device) for column in columns]
    lines = [header_row(["input"] + [column.label for column in columns], layout)]
    for row in rows:
        tiles = [_row_label(_tile(centre_crop(row.shown, layout.aspect), layout), row.label)]
        tiles += [stylized_tile(stage, row, layout) for stage in stages]
        lines.append(np.concatenate(tiles, axis=1))
    _write_atomic(output, encode_sheet(np.concatenate(lines, axis=0), suffix, max_bytes))
    return output
