"""The recurrent generator and the PatchGAN: shapes, ranges, the recurrent inputs, cost."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from vidgan.models.discriminator import DiscriminatorConfig, MultiScaleDiscriminator
from vidgan.models.stylizer import PRESETS, RecurrentStylizer, StylizerConfig, build_generator, count_macs


@pytest.mark.parametrize("size", [(1, 1), (17, 23), (64, 48), (37, 90)])
def test_output_matches_input_size_and_range(size):
    model = _trained_looking()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        y = model(x)
    assert y.shape == x.shape
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def test_missing_recurrent_inputs_mean_zeros():
    model = _trained_looking()
    x = torch.rand(1, 3, 24, 32)
    with torch.no_grad():
        assert torch.equal(model(x), model(x, torch.zeros_like(x), torch.zeros(1, 1, 24, 32)))


def _trained_looking(preset: str = "lite") -> RecurrentStylizer:
    """A generator whose head is not the zero of a fresh one (which makes it the identity)."""
    model = build_generator(preset).eval()
    torch.manual_seed(0)
    torch.nn.init.normal_(model.head.weight, std=0.1)
    return model


def test_untrained_generator_is_the_identity():
    model = build_generator("lite").eval()
    x = torch.rand(2, 3, 20, 36)
    with torch.no_grad():
        assert torch.allclose(model(x), x.clamp(1e-3, 1 - 1e-3), atol=1e-5)


def test_confidence_gates_the_warped_previous_output():
    model = _trained_looking()
    x = torch.rand(1, 3, 24, 32)
    with torch.no_grad():
        unused = model(x, torch.rand_like(x), torch.zeros(1, 1, 24, 32))
        used = model(x, torch.rand_like(x), torch.ones(1, 1, 24, 32))
    assert torch.equal(unused, model(x).detach())
    assert not torch.allclose(used, unused)


def test_warped_previous_without_its_confidence_is_refused():
    x = torch.rand(1, 3, 24, 32)
    with pytest.raises(TypeError, match="needs its confidence"):
        build_generator("lite")(x, torch.rand_like(x))


def test_non_recurrent_generator_takes_images_only():
    config = dataclasses.replace(PRESETS["lite"], recurrent=False)
    model = RecurrentStylizer(config)
    assert model.stem[0].in_channels == 3
    assert build_generator("lite").stem[0].in_channels == 7


def test_lite_is_designed_for_a_laptop_cpu():
    assert count_macs(build_generator("lite"), 360, 640) < 1.0e9
    assert count_macs(build_generator("full"), 360, 640) > 5 * count_macs(build_generator("lite"), 360, 640)


def test_config_round_trip_refuses_unknown_keys():
    data = dataclasses.asdict(PRESETS["full"])
    assert StylizerConfig.from_dict(data) == PRESETS["full"]
    with pytest.raises(ValueError, match="unknown generator settings"):
        StylizerConfig.from_dict({**data, "depth": 3})


def test_multiscale_patch_discriminator():
    disc = MultiScaleDiscriminator(DiscriminatorConfig(width=8, scales=2))
    scores = disc(torch.rand(2, 3, 64, 64))
    assert len(scores) == 2 and scores[0].shape[0] == 2 and scores[1].shape[-1] < scores[0].shape[-1]
