"""The loss-network loader: the layout it needs, and one-line errors for anything else."""

from __future__ import annotations

import pickle

import pytest
import torch
from safetensors.torch import save_file

from vidgan.errors import ModelFileError
from vidgan.models.lossnet import LAYERS, LOSS_NET_ENV, VGGFeatures, load_loss_net


def random_vgg_file(path, *, drop: str | None = None, reshape: str | None = None):
    tensors = {name.removeprefix("convs."): torch.randn_like(t) for name, t in VGGFeatures().state_dict().items()}
    if drop:
        del tensors[drop]
    if reshape:
        tensors[reshape] = torch.zeros(7)
    save_file(tensors, str(path))
    return path


def test_loads_and_gives_five_feature_maps(tmp_path):
    net = load_loss_net(random_vgg_file(tmp_path / "vgg.safetensors"))
    features = net(torch.rand(2, 3, 33, 20))
    assert len(features) == len(LAYERS) == 5
    assert [f.shape[1] for f in features] == [64, 64, 128, 128, 256]
    assert features[-1].shape[-2:] == (9, 5)  # two ceil-mode poolings
    assert not any(p.requires_grad for p in net.parameters())


def test_gradients_reach_the_input(tmp_path):
    net = load_loss_net(random_vgg_file(tmp_path / "vgg.safetensors"))
    image = torch.rand(1, 3, 16, 16, requires_grad=True)
    net(image)[-1].sum().backward()
    assert image.grad is not None and float(image.grad.abs().sum()) > 0


def test_path_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(LOSS_NET_ENV, str(random_vgg_file(tmp_path / "vgg.safetensors")))
    assert isinstance(load_loss_net(), VGGFeatures)
    monkeypatch.delenv(LOSS_NET_ENV)
    with pytest.raises(ModelFileError, match="no loss network given"):
        load_loss_net()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"drop": "16.weight"}, "missing 16.weight"),
    ({"reshape": "2.bias"}, r"wrong shape 2.bias \(7,\)"),
])
def test_wrong_tensors_are_one_line_errors(tmp_path, kwargs, message):
    with pytest.raises(ModelFileError, match=message) as info:
        load_loss_net(random_vgg_file(tmp_path / "vgg.safetensors", **kwargs))
    assert "\n" not in str(info.value)


def test_missing_and_pickled_files_are_refused(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_loss_net(tmp_path / "none.safetensors")
    pickled = tmp_path / "vgg.pth"
    pickled.write_bytes(pickle.dumps({"0.weight": [1, 2, 3]}))
    with pytest.raises(ModelFileError, match="not a readable safetensors file"):
        load_loss_net(pickled)
