"""YUV <-> RGB in plain torch: the twins of the CUDA colour kernels, and the path for layouts
those kernels do not cover (4:2:2, 4:4:4, 10-bit). On CPU the engine converts with swscale.

Convention:
    RGB tensors are float, (3, H, W) or (N, 3, H, W), values in [0, 1].
    YUV planes are integer tensors (uint8, or int16/uint16 holding ``bits``-bit samples);
    chroma planes are subsampled by 1 or 2 in each direction (4:2:0, 4:2:2, 4:4:4).
    ``matrix`` is a libav AVColorSpace value: 1 = BT.709, 5/6 = BT.601, 9 = BT.2020 (non-constant).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vidgan.ops.kernel_table import register_kernel

# (Kr, Kb) luma weights per AVColorSpace value.
_LUMA_WEIGHTS: dict[int, tuple[float, float]] = {
    1: (0.2126, 0.0722),  # BT.709
    5: (0.299, 0.114),  # BT.470BG (= BT.601 625)
    6: (0.299, 0.114),  # SMPTE 170M (= BT.601 525)
    9: (0.2627, 0.0593),  # BT.2020 non-constant luminance
}


def luma_weights(matrix: int) -> tuple[float, float]:
    try:
        return _LUMA_WEIGHTS[matrix]
    except KeyError:
        raise ValueError(f"unsupported YUV matrix {matrix}; supported: {sorted(_LUMA_WEIGHTS)}") from None


def _upsample_to(plane: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Nearest-neighbour chroma upsampling (what swscale's unscaled converters do)."""
    if plane.shape[-2:] == (height, width):
        return plane
    rep_y = -(-height // plane.shape[-2])
    rep_x = -(-width // plane.shape[-1])
    return plane.repeat_interleave(rep_y, dim=-2).repeat_interleave(rep_x, dim=-1)[..., :height, :width]


@register_kernel("yuv_to_rgb", "torch")
def yuv_to_rgb(
    y: torch.Tensor,
    u: torch.Tensor,
    v: torch.Tensor,
    *,
    matrix: int = 1,
    full_range: bool = False,
    bits: int = 8,
) -> torch.Tensor:
    """Planar Y'CbCr -> RGB (3, H, W) float32 in [0, 1], on the planes' device."""
    if y.ndim != 2 or u.ndim != 2 or v.ndim != 2:
        raise ValueError(f"expected 2-D planes; got Y {tuple(y.shape)}, U {tuple(u.shape)}, V {tuple(v.shape)}")
    if u.shape != v.shape:
        raise ValueError(f"U and V planes differ in shape: {tuple(u.shape)} vs {tuple(v.shape)}")
    if u.stride(-1) != 1:  # NV12's interleaved chroma, passed as two strided views
        u, v = u.contiguous(), v.contiguous()
    kr, kb = luma_weights(matrix)
    kg = 1.0 - kr - kb
    scale = float(1 << (bits - 8))
    height, width = y.shape
    yf = y.float()
    uf = _upsample_to(u, height, width).float()
    vf = _upsample_to(v, height, width).float()
    if full_range:
        peak = float((1 << bits) - 1)
        luma = yf / peak
        cb = (uf - 128.0 * scale) / peak
        cr = (vf - 128.0 * scale) / peak
    else:
        luma = (yf - 16.0 * scale) / (219.0 * scale)
        cb = (uf - 128.0 * scale) / (224.0 * scale)
        cr = (vf - 128.0 * scale) / (224.0 * scale)
    r = luma + 2.0 * (1.0 - kr) * cr
    b = luma + 2.0 * (1.0 - kb) * cb
    g = (luma - kr * r - kb * b) / kg
    return torch.stack((r, g, b)).clamp_(0.0, 1.0)


@register_kernel("rgb_to_yuv420", "torch")
def rgb_to_yuv420(
    rgb: torch.Tensor, *, matrix: int = 1, full_range: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RGB (3, H, W) in [0, 1] -> 8-bit Y (H, W), U and V (H/2, W/2) uint8 planes; H and W even.

    Chroma is the 2x2 box average (MPEG-2 siting is close enough for 8-bit output).
    """
    if rgb.ndim != 3 or rgb.shape[0] != 3:
        raise ValueError(f"expected an RGB tensor (3, H, W); got {tuple(rgb.shape)}")
    height, width = rgb.shape[-2:]
    if height % 2 or width % 2:
        raise ValueError(f"4:2:0 needs even width and height; got {width}x{height}")
    kr, kb = luma_weights(matrix)
    kg = 1.0 - kr - kb
    r, g, b = rgb.float().clamp(0.0, 1.0).unbind(0)
    luma = kr * r + kg * g + kb * b
    cb = (b - luma) / (2.0 * (1.0 - kb))
    cr = (r - luma) / (2.0 * (1.0 - kr))
    cb = F.avg_pool2d(cb[None, None], 2)[0, 0]
    cr = F.avg_pool2d(cr[None, None], 2)[0, 0]
    if full_range:
        y8, u8, v8 = luma * 255.0, cb * 255.0 + 128.0, cr * 255.0 + 128.0
    else:
        y8, u8, v8 = luma * 219.0 + 16.0, cb * 224.0 + 128.0, cr * 224.0 + 128.0

    def to_u8(plane: torch.Tensor) -> torch.Tensor:
        return plane.round_().clamp_(0.0, 255.0).to(torch.uint8)

    return to_u8(y8), to_u8(u8), to_u8(v8)
