"""Shared-memory slot <-> :class:`~vidgan.frame.Frame`, for the pixel formats the protocol carries.

The input slot is wrapped without a copy and handed to libav (which copies it into its own
aligned frame, as any decoder output would be); the result is converted back to the client's
format and colour matrix and written straight into the output slot.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from vidgan.frame import (
    COLORSPACE_BT709,
    COLORSPACE_SMPTE170M,
    RANGE_FULL,
    RANGE_LIMITED,
    ColorInfo,
    Frame,
)
from vidgan.serve.protocol import FrameLayout

#: protocol format -> (libav format, array shape for width w and height h)
_AV_FORMATS = {
    "nv12": ("nv12", lambda w, h: (h * 3 // 2, w)),
    "i420": ("yuv420p", lambda w, h: (h * 3 // 2, w)),
    "yuy2": ("yuyv422", lambda w, h: (h, w, 2)),
    "uyvy": ("yuyv422", lambda w, h: (h, w, 2)),  # byte-swizzled to YUYV on the way in and out
    "bgra": ("bgra", lambda w, h: (h, w, 4)),
    "rgba": ("rgba", lambda w, h: (h, w, 4)),
}
#: Byte order that turns U Y0 V Y1 into Y0 U Y1 V (and back: the swap is its own inverse).
_UYVY_SWAP = np.array([1, 0, 3, 2])


def _swap_uyvy(packed: np.ndarray) -> np.ndarray:
    quads = packed.reshape(packed.shape[0], -1, 4)
    return quads[:, :, _UYVY_SWAP].reshape(packed.shape)


def slot_view(buffer: memoryview, offset: int, layout: FrameLayout) -> np.ndarray:
    """The slot at ``offset`` as an array in the layout's shape, sharing memory with ``buffer``."""
    _, shape = _AV_FORMATS[layout.format]
    flat = np.ndarray((layout.frame_bytes,), dtype=np.uint8, buffer=buffer, offset=offset)
    return flat.reshape(shape(layout.width, layout.height))


def color_info(*, matrix: int, full_range: bool) -> ColorInfo:
    return ColorInfo(
        colorspace=COLORSPACE_BT709 if matrix == 709 else COLORSPACE_SMPTE170M,
        color_range=RANGE_FULL if full_range else RANGE_LIMITED,
    )


def frame_from_slot(
    pixels: np.ndarray, layout: FrameLayout, color: ColorInfo, *, pts: int, time_base: Fraction
) -> Frame:
    av_format, _ = _AV_FORMATS[layout.format]
    if layout.format == "uyvy":
        pixels = _swap_uyvy(pixels)
    video = av.VideoFrame.from_ndarray(pixels, format=av_format)
    video.pts, video.time_base = pts, time_base
    if av_format not in ("bgra", "rgba"):
        video.colorspace, video.color_range = color.colorspace, color.color_range
    return Frame(pts=pts, time_base=time_base, color=color, _av=video)


def write_frame_to_slot(frame: Frame, out: np.ndarray, source: np.ndarray, layout: FrameLayout, color: ColorInfo) -> None:
    """Convert ``frame`` to the client's format and matrix into ``out``; RGBA keeps the source alpha."""
    av_format, _ = _AV_FORMATS[layout.format]
    result = frame.to_av()
    if (result.width, result.height) != (layout.width, layout.height):
        raise ValueError(
            f"the chain turned {layout.width}x{layout.height} frames into {result.width}x{result.height}; "
            "a live filter keeps the frame size"
        )
    src_colorspace = frame.color.matrix_for(result.height)
    rgb_result = result.format.name in ("rgb24", "bgr24", "rgba", "bgra", "rgb48le")
    src_range = RANGE_FULL if rgb_result or frame.color.full_range_for(result.format.name) else RANGE_LIMITED
    if av_format in ("bgra", "rgba"):
        converted = result.reformat(
            format=av_format, src_colorspace=src_colorspace, src_color_range=src_range, dst_color_range=RANGE_FULL
        )
        pixels = converted.to_ndarray()
        out[..., :3] = pixels[..., :3]
        out[..., 3] = source[..., 3]
        return
    converted = result.reformat(
        format=av_format,
        src_colorspace=src_colorspace,
        src_color_range=src_range,
        dst_colorspace=color.colorspace,
        dst_color_range=color.color_range,
    )
    pixels = converted.to_ndarray()
    if layout.format == "uyvy":
        pixels = _swap_uyvy(pixels)
    np.copyto(out, pixels)
