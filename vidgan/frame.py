"""Frame: pixels (as a libav frame or a torch tensor) plus timing and colour metadata.

A frame converts lazily, only when the next consumer needs the other form, so a chain of
libavfilter stages never touches torch and a chain of model stages never touches swscale.

Convention:
    tensor form: float32, shape (1, 3, H, W), RGB in [0, 1], on any device.
    timing: ``pts`` counts ``time_base`` units (a Fraction); seconds are ``pts * time_base``.
    colour: the YUV matrix / range / primaries / transfer of the source, kept so the
    encoder writes them back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING

import av
import numpy as np

if TYPE_CHECKING:
    import torch

# libav enum values (AVColorSpace / AVColorRange) that the conversions need.
COLORSPACE_BT709 = 1
COLORSPACE_UNSPECIFIED = 2
COLORSPACE_BT470BG = 5
COLORSPACE_SMPTE170M = 6
COLORSPACE_BT2020_NCL = 9
RANGE_UNSPECIFIED = 0
RANGE_LIMITED = 1
RANGE_FULL = 2

_FULL_RANGE_FORMATS = {"yuvj420p", "yuvj422p", "yuvj444p"}
# Planar YUV layouts whose planes the GPU path uploads as they are (chroma shift, bit depth).
GPU_YUV_LAYOUTS: dict[str, tuple[int, int, int]] = {
    "yuv420p": (1, 1, 8),
    "yuvj420p": (1, 1, 8),
    "yuv422p": (1, 0, 8),
    "yuv444p": (0, 0, 8),
    "yuv420p10le": (1, 1, 10),
    "nv12": (1, 1, 8),
}


@dataclass(frozen=True, slots=True)
class ColorInfo:
    """Colour metadata of a stream, as libav enum values (0/2 mean unspecified)."""

    colorspace: int = COLORSPACE_UNSPECIFIED
    color_range: int = RANGE_UNSPECIFIED
    primaries: int = 2
    trc: int = 2

    @classmethod
    def of(cls, frame: av.VideoFrame) -> ColorInfo:
        return cls(
            colorspace=int(frame.colorspace),
            color_range=int(frame.color_range),
            primaries=int(frame.color_primaries),
            trc=int(frame.color_trc),
        )

    def matrix_for(self, height: int) -> int:
        """The YUV matrix to convert with: the tagged one, else BT.709 for HD and BT.601 below."""
        if self.colorspace in (COLORSPACE_BT709, COLORSPACE_BT470BG, COLORSPACE_SMPTE170M, COLORSPACE_BT2020_NCL):
            return self.colorspace
        return COLORSPACE_BT709 if height >= 720 else COLORSPACE_SMPTE170M

    def full_range_for(self, pix_fmt: str) -> bool:
        return self.color_range == RANGE_FULL or pix_fmt in _FULL_RANGE_FORMATS


@dataclass(slots=True)
class Frame:
    """One video frame travelling through a pipeline. Holds ``av`` pixels, tensor pixels, or both."""

    pts: int | None
    time_base: Fraction
    color: ColorInfo
    _av: av.VideoFrame | None = None
    _tensor: torch.Tensor | None = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_av(cls, frame: av.VideoFrame, *, color: ColorInfo | None = None) -> Frame:
        time_base = Fraction(frame.time_base) if frame.time_base is not None else Fraction(1, 25)
        return cls(pts=frame.pts, time_base=time_base, color=color or ColorInfo.of(frame), _av=frame)

    def with_tensor(self, tensor: torch.Tensor) -> Frame:
        """A frame with the same timing and colour whose pixels are ``tensor`` (1,3,H,W in [0,1])."""
        if tensor.ndim != 4 or tensor.shape[:2] != (1, 3):
            raise ValueError(f"frame tensors are (1, 3, H, W); got {tuple(tensor.shape)}")
        return replace(self, _av=None, _tensor=tensor)

    def with_av(self, frame: av.VideoFrame) -> Frame:
        frame.pts, frame.time_base = self.pts, self.time_base
        return replace(self, _av=frame, _tensor=None)

    def with_timing(self, pts: int | None, time_base: Fraction) -> Frame:
        if self._av is not None:
            self._av.pts, self._av.time_base = pts, time_base
        return replace(self, pts=pts, time_base=time_base)

    # -- properties ---------------------------------------------------------------------------
    @property
    def width(self) -> int:
        if self._av is not None:
            return self._av.width
        return int(self._held_tensor().shape[-1])

    @property
    def height(self) -> int:
        if self._av is not None:
            return self._av.height
        return int(self._held_tensor().shape[-2])

    @property
    def seconds(self) -> float | None:
        return None if self.pts is None else float(self.pts * self.time_base)

    @property
    def has_av(self) -> bool:
        return self._av is not None

    @property
    def has_tensor(self) -> bool:
        return self._tensor is not None

    # -- conversions --------------------------------------------------------------------------
    def _held_tensor(self) -> torch.Tensor:
        """The tensor form, for when the frame holds no libav form (a frame always holds one of the two)."""
        assert self._tensor is not None, "a frame holds av pixels, tensor pixels, or both"
        return self._tensor

    def _held_av(self) -> av.VideoFrame:
        """The libav form, for when the frame holds no tensor form."""
        assert self._av is not None, "a frame holds av pixels, tensor pixels, or both"
        return self._av

    def to_av(self) -> av.VideoFrame:
        """The libav form; made from the tensor (RGB, 8 bit) if that is all the frame holds."""
        if self._av is None:
            self._av = _tensor_to_av(self._held_tensor(), self.color)
            self._av.pts, self._av.time_base = self.pts, self.time_base
        return self._av

    def to_tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The tensor form on ``device``; on CUDA the YUV planes are uploaded and converted there."""
        import torch

        device = torch.device(device)
        if self._tensor is None or self._tensor.device != device:
            if self._tensor is not None:
                self._tensor = self._tensor.to(device, non_blocking=True)
            else:
                self._tensor = _av_to_tensor(self._held_av(), self.color, device)
        return self._tensor

    def to_rgb24(self) -> np.ndarray:
        """(H, W, 3) uint8 RGB on the host, for I/O edges such as frei0r, previews and tests."""
        if self._tensor is not None and self._av is None:
            return _tensor_to_rgb24(self._tensor)
        return _av_to_rgb(self.to_av(), self.color, "rgb24")


def _av_to_rgb(frame: av.VideoFrame, color: ColorInfo, fmt: str) -> np.ndarray:
    matrix = color.matrix_for(frame.height)
    src_range = RANGE_FULL if color.full_range_for(frame.format.name) else RANGE_LIMITED
    if frame.format.name in ("rgb24", "rgb48le") and fmt == frame.format.name:
        return frame.to_ndarray()
    rgb = frame.reformat(format=fmt, src_colorspace=matrix, src_color_range=src_range, dst_color_range=RANGE_FULL)
    return rgb.to_ndarray()


def _av_to_tensor(frame: av.VideoFrame, color: ColorInfo, device: torch.device) -> torch.Tensor:
    import torch

    name = frame.format.name
    if device.type == "cuda" and name in GPU_YUV_LAYOUTS:
        from vidgan import ops

        planes = _yuv_planes(frame)
        pinned = [torch.from_numpy(p).pin_memory() for p in planes]
        on_device = [p.to(device, non_blocking=True) for p in pinned]
        if name == "nv12":  # interleaved UV goes up as one plane; the kernel reads the two views in place
            y, uv = on_device
            on_device = [y, uv[:, 0::2], uv[:, 1::2]]
        _, _, bits = GPU_YUV_LAYOUTS[name]
        return ops.yuv_to_rgb(
            *on_device,
            matrix=color.matrix_for(frame.height),
            full_range=color.full_range_for(name),
            bits=bits,
        ).unsqueeze(0)
    deep = frame.format.components[0].bits > 8
    rgb = _av_to_rgb(frame, color, "rgb48le" if deep else "rgb24")
    scale = 1.0 / (65535.0 if deep else 255.0)
    host = torch.from_numpy(rgb.astype(np.float32) if deep else rgb)
    if device.type == "cuda":
        host = host.pin_memory()
    tensor = host.to(device, non_blocking=True).permute(2, 0, 1).unsqueeze(0)
    return tensor.float().mul_(scale).contiguous()


def _yuv_planes(frame: av.VideoFrame) -> list[np.ndarray]:
    """Y, U, V planes as 2-D arrays; for NV12, Y and the interleaved UV plane (H/2, W)."""
    name = frame.format.name
    shift_x, shift_y, bits = GPU_YUV_LAYOUTS[name]
    dtype = np.uint16 if bits > 8 else np.uint8
    width, height = frame.width, frame.height
    chroma_w = (width + (1 << shift_x) - 1) >> shift_x
    chroma_h = (height + (1 << shift_y) - 1) >> shift_y

    def plane(index: int, w: int, h: int, channels: int = 1) -> np.ndarray:
        p = frame.planes[index]
        itemsize = np.dtype(dtype).itemsize
        raw = np.frombuffer(memoryview(p), dtype=dtype).reshape(h, p.line_size // itemsize)
        return raw[:, : w * channels]

    y = np.ascontiguousarray(plane(0, width, height))
    if name == "nv12":
        return [y, np.ascontiguousarray(plane(1, chroma_w, chroma_h, channels=2))]
    return [y, np.ascontiguousarray(plane(1, chroma_w, chroma_h)), np.ascontiguousarray(plane(2, chroma_w, chroma_h))]


def _tensor_to_rgb24(tensor: torch.Tensor) -> np.ndarray:
    import torch

    rgb = tensor[0].detach().clamp(0.0, 1.0).mul(255.0).round_().to(dtype=torch.uint8)
    return rgb.permute(1, 2, 0).contiguous().cpu().numpy()


def _tensor_to_av(tensor: torch.Tensor, color: ColorInfo) -> av.VideoFrame:
    """On CUDA convert to yuv420p on the device and download 1.5 bytes a pixel; else RGB on the host."""
    height, width = tensor.shape[-2:]
    if tensor.is_cuda and width % 2 == 0 and height % 2 == 0:
        from vidgan import ops

        matrix = color.matrix_for(height)
        full_range = color.color_range == RANGE_FULL
        y, u, v = ops.rgb_to_yuv420(tensor[0], matrix=matrix, full_range=full_range)
        packed = __import__("torch").cat([y.flatten(), u.flatten(), v.flatten()]).cpu().numpy()
        frame = av.VideoFrame.from_ndarray(packed.reshape(height * 3 // 2, width), format="yuv420p")
        frame.colorspace = matrix
        frame.color_range = RANGE_FULL if full_range else RANGE_LIMITED
        return frame
    return av.VideoFrame.from_ndarray(_tensor_to_rgb24(tensor), format="rgb24")
