"""The style term (Laplacian pyramid, the patch-bank sliced Wasserstein distance) and adding loss terms."""

from __future__ import annotations

import pytest
import torch

from vidgan.train import losses


def _stripes(n: int, period: int, seed: int) -> torch.Tensor:
    """Diagonal colour stripes with a random phase: a 'painting' with one stroke direction."""
    gen = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="ij")
    phase = torch.rand(n, 1, 1, 1, generator=gen) * 6.28
    wave = torch.sin((x + y) * 6.28 / period + phase)
    return torch.cat(((wave + 1) / 2 * 0.8, 0.3 + 0.1 * wave, 0.9 - 0.3 * (wave + 1)), dim=1).clamp(0, 1)


def _smooth(n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.nn.functional.avg_pool2d(torch.rand(n, 3, 56, 56, generator=gen), 9, 1)


def test_pyramid_adds_back_up_to_the_image():
    image = torch.rand(2, 3, 40, 56)
    bands = losses.laplacian_pyramid(image, 4)
    assert [b.shape[-1] for b in bands] == [56, 28, 14, 7]
    current = bands[-1]
    for band in reversed(bands[:-1]):
        up = torch.nn.functional.interpolate(current, size=band.shape[-2:], mode="bilinear", align_corners=False)
        current = band + up
    assert torch.allclose(current, image, atol=1e-5)


def test_bank_distance_tells_the_style_from_other_images():
    torch.manual_seed(0)
    bank = losses.PatchBank(_stripes(16, 8, seed=1), levels=3, per_level=4096)
    same_style = float(bank.distance(_stripes(4, 8, seed=2), directions=64))
    other_period = float(bank.distance(_stripes(4, 20, seed=3), directions=64))
    smooth = float(bank.distance(_smooth(4, seed=4), directions=64))
    assert same_style < 0.5 * other_period
    assert same_style < 0.5 * smooth


def test_bank_distance_pulls_pixels_toward_the_style():
    torch.manual_seed(0)
    bank = losses.PatchBank(_stripes(16, 8, seed=1), levels=3, per_level=4096)
    image = _smooth(2, seed=5).requires_grad_(True)
    optimiser = torch.optim.Adam([image], lr=0.02)
    start = float(bank.distance(image.detach(), directions=64))
    for _ in range(60):
        loss = bank.distance(image, directions=32)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert float(bank.distance(image.detach(), directions=64)) < 0.6 * start


def test_sampled_distance_agrees_with_the_full_one():
    torch.manual_seed(0)
    bank = losses.PatchBank(_stripes(16, 8, seed=1), levels=3, per_level=4096)
    image = _stripes(4, 8, seed=2)
    full = float(bank.distance(image, directions=64, samples=10**9))
    bank.calls = 0  # the same directions again
    sampled = float(bank.distance(image, directions=64, samples=2048))
    assert abs(sampled - full) < 0.15 * full + 0.01


def test_directions_follow_the_call_count():
    bank = losses.PatchBank(_stripes(16, 8, seed=1), levels=3, per_level=4096, refresh=4,
                            generator=torch.Generator().manual_seed(3))
    image = _smooth(2, seed=5)
    torch.manual_seed(1)
    first = [float(bank.distance(image)) for _ in range(6)]
    bank.calls = 0
    torch.manual_seed(1)
    assert [float(bank.distance(image)) for _ in range(6)] == first
    bank.calls = 4  # resuming mid-run draws the pool that call 4 used, not a fresh one
    torch.manual_seed(2)
    again = float(bank.distance(image))
    bank.calls = 4
    torch.manual_seed(2)
    assert float(bank.distance(image)) == again


def test_moments_tell_the_style_and_pull_toward_it():
    torch.manual_seed(0)
    bank = losses.PatchBank(_stripes(16, 8, seed=1), levels=3, per_level=4096)
    assert float(bank.moments(_stripes(4, 8, seed=2))) < 0.5 * float(bank.moments(_smooth(4, seed=4)))
    image = _smooth(2, seed=5).requires_grad_(True)
    optimiser = torch.optim.Adam([image], lr=0.02)
    start = float(bank.moments(image.detach()))
    for _ in range(40):
        loss = bank.moments(image)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert float(bank.moments(image.detach())) < 0.6 * start


def test_structure_ignores_tone_and_fine_texture_but_not_layout():
    gen = torch.Generator().manual_seed(0)
    layout = torch.nn.functional.interpolate(torch.rand(2, 3, 6, 6, generator=gen), size=(48, 48), mode="bicubic")
    layout = layout.clamp(0, 1)
    darker = layout * 0.6 + 0.1
    textured = (layout + 0.05 * torch.sign(torch.sin(torch.arange(48.0) * 3.1))).clamp(0, 1)
    moved = torch.roll(layout, 16, dims=-1)
    assert float(losses.structure(darker, layout)) < 1e-4
    assert float(losses.structure(textured, layout)) < 0.2 * float(losses.structure(moved, layout))


def test_total_adds_tensor_terms_and_refuses_none():
    terms = [torch.tensor(0.5, requires_grad=True), torch.tensor(2.0, requires_grad=True)]
    result = losses.total(iter(terms))
    assert isinstance(result, torch.Tensor) and result.item() == 2.5
    result.backward()
    assert [t.grad.item() for t in terms] == [1.0, 1.0]
    assert losses.total([terms[0]]) is terms[0]
    with pytest.raises(ValueError, match="no loss terms"):
        losses.total([])


def test_census_ignores_brightness_and_sees_a_displaced_edge():
    image = torch.zeros(1, 3, 24, 24)
    image[..., :, 12:] = 0.6
    assert losses.census(image, image) == 0
    brighter = (image * 1.3 + 0.1).clamp(0, 1)
    shifted = torch.roll(image, 3, dims=-1)
    assert losses.census(brighter, image) < 1e-3 < losses.census(shifted, image)
    assert (brighter - image).abs().mean() > (shifted - image).abs().mean()  # L1 would say the opposite
