"""Motion backends: the registry, the flow convention, confidence at occlusions, the DIS working scale."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from vidgan import ops
from vidgan.errors import VidganError
from vidgan.models import motion
from vidgan.models.motion import (
    DisMotion,
    MotionBackend,
    MotionEstimate,
    MotionOptionError,
    UnknownMotionError,
    estimate_from_flows,
    get_motion,
    motion_names,
    photometric_match,
    register_motion,
)

MARGIN = 16  # pixels left out at each border: what enters or leaves the frame has no match


def texture(height: int, width: int, seed: int, sigma: float = 2.0) -> np.ndarray:
    """(H, W, 3) float32 smooth random colour texture in [0, 1]: DIS needs gradients at several scales."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((height, width, 3)).astype(np.float32), (0, 0), sigma)
    return (noise - noise.min()) / (noise.max() - noise.min())


def to_frame(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].contiguous()


def translated_pair(height: int, width: int, dx: int, dy: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """(previous, current) where the content moves ``dx`` px right and ``dy`` px down."""
    pad = max(abs(dx), abs(dy)) + 1
    big = texture(height + 2 * pad, width + 2 * pad, seed)
    previous = big[pad : pad + height, pad : pad + width]
    current = big[pad - dy : pad - dy + height, pad - dx : pad - dx + width]
    return to_frame(previous), to_frame(current)


def interior(tensor: torch.Tensor) -> torch.Tensor:
    return tensor[..., MARGIN:-MARGIN, MARGIN:-MARGIN]


# -- registry -----------------------------------------------------------------------------------


def test_builtin_backends_are_registered():
    assert {"dis", "none"} <= set(motion_names())
    assert isinstance(get_motion("dis"), DisMotion)
    assert get_motion("none").name == "none"


def test_unknown_backend_lists_the_valid_names_and_a_guess():
    expected = r"unknown motion backend 'dsi'; did you mean 'dis'\?; available: .*dis, none"
    with pytest.raises(UnknownMotionError, match=expected):
        get_motion("dsi")
    with pytest.raises(LookupError):
        get_motion("raft")
    with pytest.raises(VidganError):
        get_motion("raft")


def test_unknown_option_is_named_with_the_valid_ones():
    expected = r"'dis': unknown option 'presett'; did you mean 'preset'\?; valid options: preset, max_short_side"
    with pytest.raises(MotionOptionError, match=expected):
        get_motion("dis", presett="fast")
    with pytest.raises(MotionOptionError, match=r"'none': unknown option 'preset'; valid options: none"):
        get_motion("none", preset="fast")


def test_bad_option_values_are_refused():
    with pytest.raises(MotionOptionError, match=r"preset='slow' is not one of ultrafast, fast, medium"):
        get_motion("dis", preset="slow")
    with pytest.raises(MotionOptionError, match=r"max_short_side must be an integer >= 32; got 16"):
        get_motion("dis", max_short_side=16)
    with pytest.raises(ValueError):  # a VidganError that callers may also catch as ValueError
        get_motion("dis", max_short_side=12.5)


def test_a_new_backend_is_a_pure_addition(monkeypatch):
    monkeypatch.setattr(motion.MOTION_BACKENDS, "_entries", dict(motion.MOTION_BACKENDS._entries))

    @register_motion("constant")
    class ConstantMotion(MotionBackend):
        def __init__(self, *, dx: float = 0.0) -> None:
            self.dx = dx

        def estimate(self, previous: torch.Tensor, current: torch.Tensor) -> MotionEstimate:
            flow = torch.zeros(1, 2, *current.shape[-2:])
            flow[:, 0] = self.dx
            return estimate_from_flows(flow, -flow)

    assert "constant" in motion_names()
    backend = get_motion("constant", dx=1.5)
    assert backend.name == "constant"
    frame = torch.rand(1, 3, 8, 10)
    assert float(backend.estimate(frame, frame).flow_cur_to_prev[0, 0].mean()) == 1.5
    with pytest.raises(ValueError, match="'constant' is already registered .*ConstantMotion"):
        register_motion("constant")(ConstantMotion)
    with pytest.raises(TypeError, match="is not a MotionBackend subclass"):
        register_motion("other")(object)


# -- inputs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dis", "none"])
def test_inputs_are_checked(name):
    backend = get_motion(name)
    frame = torch.rand(1, 3, 40, 48)
    with pytest.raises(ValueError, match=r"current must be \(1, 3, H, W\); got shape \(3, 40, 48\)"):
        backend.estimate(frame, frame[0])
    with pytest.raises(ValueError, match=r"previous must be \(1, 3, H, W\); got shape \(2, 3, 40, 48\)"):
        backend.estimate(frame.repeat(2, 1, 1, 1), frame)
    with pytest.raises(ValueError, match=r"differ in size; reset\(\) the backend"):
        backend.estimate(frame, torch.rand(1, 3, 40, 50))
    with pytest.raises(TypeError, match="must be a float tensor"):
        backend.estimate(frame, (frame * 255).to(torch.uint8))


# -- none ---------------------------------------------------------------------------------------


def test_none_backend_returns_zero_flow_and_zero_confidence():
    previous, current = translated_pair(40, 56, 3, 2)
    estimate = get_motion("none").estimate(previous, current)
    assert estimate.flow_cur_to_prev.shape == (1, 2, 40, 56)
    assert estimate.confidence.shape == (1, 1, 40, 56)
    assert estimate.flow_cur_to_prev.dtype == estimate.confidence.dtype == torch.float32
    assert not estimate.flow_cur_to_prev.any() and not estimate.confidence.any()


# -- DIS: flow -----------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["ultrafast", "fast", "medium"])
def test_dis_recovers_a_translation_in_the_warp_convention(preset):
    previous, current = translated_pair(96, 128, dx=3, dy=2)  # content moves 3 px right, 2 px down
    estimate = get_motion("dis", preset=preset).estimate(previous, current)
    flow = estimate.flow_cur_to_prev
    assert flow.shape == (1, 2, 96, 128) and flow.dtype == torch.float32 and flow.is_contiguous()
    # Backward flow: current[y, x] = previous[y - 2, x - 3], so (dx, dy) = (-3, -2).
    assert abs(float(interior(flow[:, 0]).median()) + 3.0) < 0.3
    assert abs(float(interior(flow[:, 1]).median()) + 2.0) < 0.3
    warped, _ = ops.warp(previous, flow)
    assert float(interior((warped - current).abs()).mean()) < 0.01


def test_dis_working_scale_rescales_the_vectors():
    backend = DisMotion(max_short_side=60)  # 180x240 runs at 60x80: vectors x3 on the way back
    assert backend.working_size(180, 240) == (60, 80)
    assert backend.working_size(50, 70) == (50, 70)
    previous, current = translated_pair(180, 240, dx=6, dy=-3)
    flow = backend.estimate(previous, current).flow_cur_to_prev
    assert flow.shape == (1, 2, 180, 240)
    assert abs(float(interior(flow[:, 0]).median()) + 6.0) < 0.5
    assert abs(float(interior(flow[:, 1]).median()) - 3.0) < 0.5


def test_dis_confidence_is_high_for_a_pure_translation():
    previous, current = translated_pair(96, 128, dx=3, dy=2)
    confidence = get_motion("dis").estimate(previous, current).confidence
    assert confidence.shape == (1, 1, 96, 128)
    assert float(confidence.min()) >= 0.0 and float(confidence.max()) <= 1.0
    assert float(interior(confidence).mean()) > 0.9


def test_dis_confidence_is_low_where_a_moving_square_uncovers_the_background():
    height, width, side, shift = 160, 192, 64, 8
    background, square = texture(height, width, seed=2), texture(side, side, seed=3)
    top = left = (height - side) // 2
    previous, current = background.copy(), background.copy()
    previous[top : top + side, left : left + side] = square
    current[top : top + side, left + shift : left + shift + side] = square  # 8 px to the right
    confidence = get_motion("dis").estimate(to_frame(previous), to_frame(current)).confidence[0, 0]
    # Background the square covered in the previous frame: no match there, so no trust.
    uncovered = confidence[top + 4 : top + side - 4, left + 1 : left + shift - 1]
    static = confidence[4 : top - 8, 4:-4]
    moved = confidence[top + 8 : top + side - 8, left + shift + 8 : left + shift + side - 8]
    assert float(uncovered.mean()) < 0.5
    assert float(static.mean()) > 0.9
    assert float(moved.mean()) > 0.8


def test_identical_frames_give_zero_flow_full_confidence():
    frame = to_frame(texture(64, 80, seed=5))
    estimate = get_motion("dis").estimate(frame, frame.clone())
    assert float(estimate.flow_cur_to_prev.abs().max()) < 0.05
    assert float(interior(estimate.confidence).min()) > 0.99


# -- photometric confidence ---------------------------------------------------------------------


def gray_translated_pair(dx: int, dy: int, height: int = 64, width: int = 80) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(previous, current, exact backward flow) of a translation, as 8-bit grey levels."""
    previous, current = (np.ascontiguousarray(t[0, 0].numpy() * 255).astype(np.uint8)
                         for t in translated_pair(height, width, dx, dy))
    flow = np.empty((height, width, 2), np.float32)
    flow[..., 0], flow[..., 1] = -dx, -dy
    return previous, current, flow


def test_photometric_match_is_one_for_an_exact_warp_and_zero_outside_the_frame():
    previous, current, flow = gray_translated_pair(3, 2)
    match = photometric_match(previous, current, flow, 0.02)
    assert match.dtype == np.float32 and match.shape == current.shape
    assert float(match[2 + 2 :, 3 + 2 :].min()) == 1.0  # away from the window's reach into the outside
    # the left columns' and top rows' sample points leave the previous frame (content moved right, down)
    assert float(match[:, :3].max()) == 0.0 and float(match[:2].max()) == 0.0


def test_photometric_match_is_zero_where_the_warp_does_not_explain_the_frame():
    previous, current, flow = gray_translated_pair(3, 2)
    current = current.copy()
    current[20:44, 30:60] = 255 - current[20:44, 30:60]
    match = photometric_match(previous, current, flow, 0.02)
    assert float(match[24:40, 34:56].max()) == 0.0
    assert float(match[48:60, 20:70].min()) == 1.0


def test_dis_photometric_only_raises_the_confidence():
    previous, current = translated_pair(96, 128, dx=3, dy=2)
    current = current.clone()
    current[..., 40:70, 50:90] = 1.0 - current[..., 40:70, 50:90]  # a patch the motion cannot explain
    plain = DisMotion(preset="medium", max_short_side=96).estimate(previous, current)
    raised = DisMotion(preset="medium", max_short_side=96, photometric=0.02).estimate(previous, current)
    assert torch.equal(plain.flow_cur_to_prev, raised.flow_cur_to_prev)
    assert torch.all(raised.confidence >= plain.confidence)
    assert float(raised.confidence[..., 48:62, 60:80].max()) < 0.5  # the unexplained patch stays untrusted


@pytest.mark.parametrize("value", [-0.1, 1.5, "0.02", True])
def test_dis_photometric_must_be_a_fraction(value):
    with pytest.raises(MotionOptionError, match="photometric must be a number in"):
        DisMotion(photometric=value)


@pytest.mark.parametrize("shape", [(17, 23), (8, 40), (10, 40), (31, 400), (400, 31)])
def test_frames_too_small_for_dis_get_no_motion(shape):
    # OpenCV rejects the smallest of these and crashes the process on some of the wide ones.
    frame = torch.rand(1, 3, *shape)
    estimate = get_motion("dis").estimate(frame, frame)
    assert estimate.flow_cur_to_prev.shape == (1, 2, *shape)
    assert not estimate.confidence.any()


def test_wide_and_tall_frames_at_the_minimum_size_run():
    for shape in [(32, 400), (400, 32), (32, 32)]:
        frame = torch.rand(1, 3, *shape)
        assert get_motion("dis").estimate(frame, frame).flow_cur_to_prev.shape == (1, 2, *shape)


# -- DIS: per-stream cache ------------------------------------------------------------------------


@pytest.fixture
def luma_calls(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = motion._luma_u8

    def counting(frame: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
        calls.append(id(frame))
        return real(frame, size)

    monkeypatch.setattr(motion, "_luma_u8", counting)
    return calls


def test_each_frame_of_a_stream_is_converted_once(luma_calls):
    frames = [to_frame(texture(48, 64, seed=s)) for s in range(4)]
    backend = get_motion("dis")
    for previous, current in zip(frames, frames[1:]):
        backend.estimate(previous, current)
    assert luma_calls == [id(f) for f in frames]


def test_cache_is_dropped_on_reset_and_on_in_place_change(luma_calls):
    a, b, c = (to_frame(texture(48, 64, seed=s)) for s in range(3))
    backend = get_motion("dis")
    backend.estimate(a, b)
    backend.reset()
    backend.estimate(b, c)  # b converted again after the reset
    c.mul_(0.5)  # same tensor, new contents
    backend.estimate(c, a)
    assert luma_calls == [id(a), id(b), id(b), id(c), id(c), id(a)]


def test_cached_and_fresh_estimates_agree():
    a, b, c = (to_frame(texture(48, 64, seed=s)) for s in range(3))
    streaming = get_motion("dis")
    streaming.estimate(a, b)
    cached = streaming.estimate(b, c)
    fresh = get_motion("dis").estimate(b, c)
    assert torch.equal(cached.flow_cur_to_prev, fresh.flow_cur_to_prev)
    assert torch.equal(cached.confidence, fresh.confidence)


# -- host and accelerator paths agree (the torch path is what CUDA frames take) -------------------


@pytest.mark.parametrize("size", [(36, 64), (45, 80), (90, 160)])
def test_luma_host_and_torch_paths_agree(size):
    frame = to_frame(texture(90, 160, seed=7))
    host = motion._downscaled_luma_host(frame, size)
    device = motion._downscaled_luma_torch(frame, size)
    assert host.shape == device.shape == size and host.dtype == device.dtype == np.float32
    assert np.abs(host - device).max() < 1e-4
    expected = cv2.cvtColor((frame[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8), cv2.COLOR_RGB2GRAY)
    if size == (90, 160):
        assert np.abs(host * 255 - expected).max() <= 1.0


@pytest.mark.parametrize("small", [(30, 40), (45, 80), (90, 160)])
def test_flow_upsampling_host_and_torch_paths_agree(small):
    rng = np.random.default_rng(0)
    flows = tuple(rng.normal(size=(*small, 2)).astype(np.float32) for _ in range(2))
    host = motion._upsample_flows_host(flows, (90, 160))
    device = motion._upsample_flows_torch(flows, (90, 160), torch.device("cpu"))
    assert host.shape == device.shape == (2, 2, 90, 160)
    assert float((host - device).abs().max()) < 1e-4
    uniform = (np.full((*small, 2), 1.0, dtype=np.float32),)  # 1 px at the working scale
    scaled = motion._upsample_flows_host(uniform, (90, 160))
    assert torch.allclose(scaled[0, 0], torch.tensor(160 / small[1]))
    assert torch.allclose(scaled[0, 1], torch.tensor(90 / small[0]))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_frames_give_cuda_results_matching_the_cpu():
    previous, current = translated_pair(120, 160, dx=3, dy=2)
    on_cpu = get_motion("dis").estimate(previous, current)
    on_gpu = get_motion("dis").estimate(previous.cuda(), current.cuda())
    assert on_gpu.flow_cur_to_prev.is_cuda and on_gpu.confidence.is_cuda
    assert float(interior(on_gpu.flow_cur_to_prev.cpu() - on_cpu.flow_cur_to_prev).abs().median()) < 0.05
