"""vidgan.models.flow: one DIS preset table and factory for every flow user."""

from __future__ import annotations

import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest

from vidgan.errors import UnknownFlowPresetError, UnknownNameError
from vidgan.models.flow import DIS_PRESETS, FLOW_QUALITIES, create_dis, dense_flow, dis_preset, thread_dis


def _pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    coarse = rng.random((12, 16)).astype(np.float32)
    grey = (cv2.resize(coarse, (128, 96), interpolation=cv2.INTER_CUBIC).clip(0, 1) * 255).astype(np.uint8)
    return grey, np.roll(grey, 3, axis=1)


def test_presets_are_opencvs():
    assert DIS_PRESETS == ("ultrafast", "fast", "medium")
    assert dis_preset("ultrafast") == cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST
    assert dis_preset("fast") == cv2.DISOPTICAL_FLOW_PRESET_FAST
    assert dis_preset("medium") == cv2.DISOPTICAL_FLOW_PRESET_MEDIUM


def test_unknown_preset_suggests_one():
    with pytest.raises(UnknownFlowPresetError, match=r"unknown DIS preset 'meduim'; did you mean 'medium'\?"):
        create_dis("meduim")
    assert issubclass(UnknownFlowPresetError, UnknownNameError)


@pytest.mark.parametrize("preset", DIS_PRESETS)
def test_factory_matches_opencvs_own_preset(preset):
    first, second = _pair()
    ours = create_dis(preset).calc(first, second, None)
    theirs = cv2.DISOpticalFlow_create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{preset.upper()}")).calc(first, second, None)
    np.testing.assert_array_equal(ours, theirs)
    assert np.median(ours[..., 0]) == pytest.approx(3, abs=0.5)


def test_dense_flow_is_dis_from_scratch_first_to_second():
    first, second = _pair()
    flow = dense_flow(create_dis("fast"), first, second)
    np.testing.assert_array_equal(flow, create_dis("fast").calc(first, second, None))
    assert flow.shape == (*first.shape, 2) and flow.dtype == np.float32
    assert np.median(flow[..., 0]) == pytest.approx(3, abs=0.5)  # first(x) ~ second(x + 3)
    assert np.median(dense_flow(create_dis("fast"), second, first)[..., 0]) == pytest.approx(-3, abs=0.5)


def test_each_thread_gets_its_own_instance_reused():
    mine = thread_dis("medium")
    assert thread_dis("medium") is mine and thread_dis("fast") is not mine
    seen = []
    worker = threading.Thread(target=lambda: seen.append(thread_dis("medium")))
    worker.start()
    worker.join()
    assert seen[0] is not mine


def test_stylize_qualities():
    assert {name: tuple(q) for name, q in FLOW_QUALITIES.items()} == {
        "ultrafast": ("ultrafast", 180), "fast": ("fast", 180), "medium": ("medium", 320)}
    assert all(q.preset in DIS_PRESETS for q in FLOW_QUALITIES.values())


def test_tables_load_without_opencv():
    code = "import sys, vidgan.models.flow, vidgan.io.images; print('cv2' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
