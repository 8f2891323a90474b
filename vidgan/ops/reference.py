"""Plain-torch twins of vidgan's fused kernels: the oracle in tests and the autograd path in training.

Convention:
    images: (N, C, H, W) float; flows: (N, 2, H, W) float, in pixels, channel 0 = dx, 1 = dy.
    Backward warp: ``out[y, x] = image[y + dy[y, x], x + dx[y, x]]``, bilinear, pixel centres at
    integer coordinates. ``border="zeros"``: taps outside the image read 0; ``"edge"``: coordinates
    are clamped to the image. The valid mask is 1 where the sample point lies inside
    ``[0, W-1] x [0, H-1]`` and the flow is finite; a non-finite flow gives output 0, mask 0.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from vidgan.ops.kernel_table import register_kernel

Border = Literal["zeros", "edge"]

#: Forward-backward consistency thresholds of Sundaram et al. (ECCV 2010), as used for video style
#: transfer by Ruder et al. (GCPR 2016): occluded where |w + w_hat|^2 > OCC_RATIO (|w|^2 + |w_hat|^2) + OCC_BIAS,
#: a motion boundary where |grad u|^2 + |grad v|^2 > MB_RATIO |w|^2 + MB_BIAS.
OCC_RATIO, OCC_BIAS = 0.01, 0.5
MB_RATIO, MB_BIAS = 0.01, 0.002


def _sample_points(flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    _, _, height, width = flow.shape
    ys = torch.arange(height, device=flow.device, dtype=flow.dtype).view(1, height, 1)
    xs = torch.arange(width, device=flow.device, dtype=flow.dtype).view(1, 1, width)
    return xs + flow[:, 0], ys + flow[:, 1]


@register_kernel("warp", "torch")
def warp(image: torch.Tensor, flow: torch.Tensor, *, border: Border = "zeros") -> tuple[torch.Tensor, torch.Tensor]:
    """Backward bilinear warp; returns (warped (N,C,H,W), valid mask (N,1,H,W)) in the image's dtype."""
    _, _, height, width = image.shape
    sx, sy = _sample_points(flow.float())
    finite = torch.isfinite(sx) & torch.isfinite(sy)
    sx = torch.where(finite, sx, torch.zeros_like(sx))
    sy = torch.where(finite, sy, torch.zeros_like(sy))
    inside = (sx >= 0) & (sx <= width - 1) & (sy >= 0) & (sy <= height - 1) & finite
    # align_corners=False maps pixel centre i to (2i + 1) / size - 1, exact for any size including 1.
    grid = torch.stack(((2 * sx + 1) / width - 1, (2 * sy + 1) / height - 1), dim=-1)
    padding = "zeros" if border == "zeros" else "border"
    warped = F.grid_sample(image.float(), grid, mode="bilinear", padding_mode=padding, align_corners=False)
    warped = warped * finite.unsqueeze(1)
    return warped.to(image.dtype), inside.unsqueeze(1).to(image.dtype)


def _flow_gradient_energy(flow: torch.Tensor) -> torch.Tensor:
    """|grad u|^2 + |grad v|^2 with central differences (one-sided at the borders)."""
    padded = F.pad(flow, (1, 1, 1, 1), mode="replicate")
    dx = (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) / 2
    dy = (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) / 2
    width, height = flow.shape[-1], flow.shape[-2]
    if width > 1:  # one-sided differences span one pixel, not two
        dx[..., :, 0] *= 2
        dx[..., :, -1] *= 2
    if height > 1:
        dy[..., 0, :] *= 2
        dy[..., -1, :] *= 2
    return (dx**2 + dy**2).sum(dim=1)


def soft_threshold(ratio: torch.Tensor) -> torch.Tensor:
    """1 below half the hard threshold, 0 above 1.5x it, linear between (0.5 at the threshold)."""
    return (1.5 - ratio).clamp(0.0, 1.0)


@register_kernel("consistency", "torch")
def consistency(flow_fw: torch.Tensor, flow_bw: torch.Tensor) -> torch.Tensor:
    """Confidence (N,1,H,W) in [0, 1] that ``flow_fw`` (frame a -> b) is right at each pixel of a.

    ``flow_bw`` is the flow b -> a. Combines the forward-backward check (occlusions) and the
    motion-boundary test; each is softened by :func:`soft_threshold`, sample points outside
    frame b and non-finite flows get 0.
    """
    flow_fw, flow_bw = flow_fw.float(), flow_bw.float()
    back, inside = warp(flow_bw, flow_fw, border="edge")
    fw_sq = (flow_fw**2).sum(dim=1)
    bw_sq = (back**2).sum(dim=1)
    mismatch = ((flow_fw + back) ** 2).sum(dim=1)
    occlusion = soft_threshold(mismatch / (OCC_RATIO * (fw_sq + bw_sq) + OCC_BIAS))
    boundary = soft_threshold(_flow_gradient_energy(flow_fw) / (MB_RATIO * fw_sq + MB_BIAS))
    confidence = occlusion * boundary * inside[:, 0]
    confidence = torch.nan_to_num(confidence, nan=0.0)
    return confidence.unsqueeze(1)


@register_kernel("temporal_blend", "torch")
def temporal_blend(
    current: torch.Tensor,
    previous_output: torch.Tensor,
    flow: torch.Tensor,
    confidence: torch.Tensor,
    alpha: float,
) -> torch.Tensor:
    """``lerp(current, warp(previous_output, flow), w)`` with ``w = clamp(alpha * confidence * valid, 0, 1)``.

    ``flow`` maps the current frame to the previous one (backward flow); the warp clamps at the
    edges and pixels whose sample point leaves the image take the current frame as is. The
    kernels use ``torch.lerp``'s formula too, so the stylizer's blend is the same bit for bit.
    """
    warped, valid = warp(previous_output, flow, border="edge")
    weight = (alpha * confidence.float() * valid.float()).clamp(0.0, 1.0)
    return torch.lerp(current.float(), warped.float(), weight).to(current.dtype)


@register_kernel("splat_flow", "torch")
def splat_flow(flow_0to1: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Flow from time ``t`` back to frame 0, by forward-splatting ``-t * flow_0to1`` (average splatting).

    Each pixel x of frame 0 lands at ``x + t * F(x)`` and spreads ``-t * F(x)`` over the four
    nearest pixels with bilinear weights; the result is the weighted mean per target pixel.
    Returns (flow_t_to_0 (N,2,H,W), coverage (N,1,H,W)); pixels nothing lands on have flow 0 and
    coverage 0 (holes the caller fills). Non-finite flows are skipped.
    """
    n, _, height, width = flow_0to1.shape
    flow = flow_0to1.float()
    tx, ty = _sample_points(flow * t)
    finite = torch.isfinite(tx) & torch.isfinite(ty)
    tx = torch.where(finite, tx, torch.full_like(tx, -10.0))
    ty = torch.where(finite, ty, torch.full_like(ty, -10.0))
    values = torch.where(finite.unsqueeze(1), -t * flow, torch.zeros_like(flow))
    x0, y0 = tx.floor(), ty.floor()
    accum = torch.zeros(n, 3, height * width, device=flow.device, dtype=torch.float32)
    payload = torch.cat((values, torch.ones_like(values[:, :1])), dim=1)  # (N, 3, H, W)
    for ox in (0, 1):
        for oy in (0, 1):
            xi, yi = x0 + ox, y0 + oy
            weight = (1 - (tx - xi).abs()) * (1 - (ty - yi).abs())
            ok = finite & (xi >= 0) & (xi <= width - 1) & (yi >= 0) & (yi <= height - 1) & (weight > 0)
            index = (yi.clamp(0, height - 1) * width + xi.clamp(0, width - 1)).long().view(n, 1, -1)
            contrib = (payload * (weight * ok).unsqueeze(1)).view(n, 3, -1)
            accum.scatter_add_(2, index.expand(n, 3, -1), contrib)
    accum = accum.view(n, 3, height, width)
    coverage = accum[:, 2:3]
    flow_t0 = torch.where(coverage > 0, accum[:, :2] / coverage.clamp_min(1e-12), torch.zeros_like(accum[:, :2]))
    return flow_t0, coverage
