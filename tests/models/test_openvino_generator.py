"""The generator through OpenVINO: the same function as torch's, converted once per size and cached."""

from __future__ import annotations

import pytest
import torch

from vidgan.models.stylizer import build_generator

pytest.importorskip("openvino")

from vidgan.models.openvino_generator import OpenVinoGenerator  # noqa: E402 - after the skip

#: Max abs difference allowed against torch, on outputs in [0, 1] (measured: about 2e-7; the two
#: sum the convolutions in different orders).
TOLERANCE = 1e-5
ODD_SIZES = [(37, 53), (50, 71)]  # neither a multiple of the stride 4: the padding is traced per size


def _random_generator(seed: int = 0):
    torch.manual_seed(seed)
    model = build_generator("lite").eval()
    with torch.no_grad():
        for parameter in model.parameters():  # a fresh head is zero (the identity): make every layer count
            parameter.normal_(0.0, 0.1)
    return model


def _inputs(height: int, width: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(1, 3, height, width, generator=gen), torch.rand(1, 3, height, width, generator=gen),
            torch.rand(1, 1, height, width, generator=gen))


@pytest.fixture(scope="module")
def model():
    return _random_generator()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("openvino-cache")


@pytest.fixture(scope="module")
def generator(model, cache):
    return OpenVinoGenerator(model, cache=cache)


@pytest.mark.parametrize("height,width", ODD_SIZES)
def test_matches_torch_at_odd_sizes(model, generator, height, width):
    x, warped, confidence = _inputs(height, width)
    with torch.no_grad():
        expected = model(x, warped, confidence)
    got = generator(x, warped, confidence)
    assert got.shape == expected.shape == (1, 3, height, width) and got.dtype == torch.float32
    assert (got - expected).abs().max() < TOLERANCE


def test_missing_recurrent_inputs_are_zeros_as_in_torch(model, generator):
    x, _, _ = _inputs(*ODD_SIZES[0], seed=2)
    zeros = (torch.zeros_like(x), torch.zeros_like(x[:, :1]))
    with torch.no_grad():
        expected = model(x)
    first = generator(x)
    assert torch.equal(first, generator(x, *zeros))
    assert (first - expected).abs().max() < TOLERANCE
    x, warped, confidence = _inputs(*ODD_SIZES[0], seed=3)
    assert not torch.allclose(generator(x, warped, confidence), generator(x), atol=1e-3)  # the inputs count
    with pytest.raises(TypeError, match="needs its confidence"):
        generator(x, warped)


def test_outputs_outlive_the_next_frame(generator):
    first_in, second_in = _inputs(*ODD_SIZES[0], seed=4)[0], _inputs(*ODD_SIZES[0], seed=5)[0]
    first = generator(first_in)
    kept = first.clone()
    generator(second_in)
    assert torch.equal(first, kept)


def test_a_second_construction_reads_the_cache(model, generator, cache):
    x, warped, confidence = _inputs(*ODD_SIZES[1])
    expected = generator(x, warped, confidence)
    again = OpenVinoGenerator(model, cache=cache)
    assert again.folder == generator.folder
    assert torch.equal(again(x, warped, confidence), expected)
    assert again.conversions == 0


def test_other_weights_get_their_own_entry(generator, cache):
    assert OpenVinoGenerator(_random_generator(seed=7), cache=cache).folder != generator.folder


@pytest.mark.parametrize("damaged", ["generator.bin", "generator.xml", "manifest.json"])
def test_a_damaged_cache_entry_is_rebuilt(model, tmp_path, damaged):
    x, warped, confidence = _inputs(*ODD_SIZES[0])
    first = OpenVinoGenerator(model, cache=tmp_path)
    expected = first(x, warped, confidence)
    entry = first.folder / f"{ODD_SIZES[0][1]}x{ODD_SIZES[0][0]}"
    path = entry / damaged
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    rebuilt = OpenVinoGenerator(model, cache=tmp_path)
    assert torch.equal(rebuilt(x, warped, confidence), expected)
    assert rebuilt.conversions == 1
    assert OpenVinoGenerator(model, cache=tmp_path)._load(*ODD_SIZES[0]) is not None  # the entry is whole again


def test_one_frame_at_a_time(generator):
    with pytest.raises(ValueError, match="one frame at a time"):
        generator(torch.rand(2, 3, 8, 8))


def test_the_cache_lives_under_xdg_cache_home(monkeypatch, tmp_path):
    from vidgan.models.openvino_generator import cache_root

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "vidgan" / "openvino"


def test_an_unwritable_cache_still_runs(model, tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    x, warped, confidence = _inputs(*ODD_SIZES[0])
    generator = OpenVinoGenerator(model, cache=blocker)
    with torch.no_grad():
        expected = model(x, warped, confidence)
    assert (generator(x, warped, confidence) - expected).abs().max() < TOLERANCE
    assert "cannot cache the OpenVINO generator" in caplog.text


def test_instance_norm_rewrite_is_instance_norm():
    """The export's spelling of instance normalisation (mean and variance, for OpenVINO's MVN) is the
    same function as torch's, with and without the learned scale and shift."""
    from vidgan.models.openvino_generator import EXPORT_REWRITES

    rewrite = EXPORT_REWRITES[torch.nn.functional.instance_norm]
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(2, 5, 9, 13, generator=gen) * 4 - 1
    weight, bias = torch.rand(5, generator=gen) + 0.5, torch.rand(5, generator=gen) - 0.5
    for args in ({}, {"weight": weight, "bias": bias}):
        expected = torch.nn.functional.instance_norm(x, eps=1e-5, **args)
        assert torch.allclose(rewrite(x, eps=1e-5, **args), expected, atol=1e-5)
