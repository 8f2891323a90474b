"""The VGG style and content terms: zero on equal statistics, gradients to the generator, every pyramid level."""

from __future__ import annotations

import torch

from tests.models.test_lossnet import random_vgg_file
from vidgan.models.lossnet import load_loss_net
from vidgan.models.stylizer import StylizerConfig, build_generator
from vidgan.train import perceptual


def _net(tmp_path):
    """Random filters scaled by their fan-in, so activations stay near 1 as in the normalised VGG."""
    torch.manual_seed(0)
    net = load_loss_net(random_vgg_file(tmp_path / "vgg.safetensors"))
    for conv in net.convs.values():
        conv.weight.div_(conv.weight[0].numel() ** 0.5)
        conv.bias.zero_()
    return net


def test_gram_term_is_zero_for_the_same_statistics_and_positive_otherwise(tmp_path):
    net = _net(tmp_path)
    painting = torch.rand(1, 3, 32, 32)
    bank = perceptual.GramBank(net, painting, (1.0, 0.5))
    same, _ = bank.distance(net, painting)
    assert float(same) < 1e-6 * float(bank.distance(net, torch.zeros(1, 3, 32, 32))[0])
    # A shuffled copy has the same colours but other local statistics: positive.
    shifted, _ = bank.distance(net, painting.flip(-1).transpose(-1, -2).contiguous().roll(7, dims=-1) * 0.5)
    assert float(shifted) > 0


def test_the_bank_averages_its_crops_chunk_by_chunk(tmp_path):
    net = _net(tmp_path)
    crops = torch.rand(5, 3, 24, 24)
    chunked = perceptual.GramBank(net, crops, (1.0,), chunk=2)
    whole = perceptual.GramBank(net, crops, (1.0,), chunk=8)
    for a, b in zip(chunked.targets[0], whole.targets[0], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4 * float(b.abs().max()))


def test_gradients_reach_the_generator(tmp_path):
    net = _net(tmp_path)
    generator = build_generator(StylizerConfig("lite", width=8, blocks=1))
    torch.nn.init.normal_(generator.head.weight, std=0.1)  # the head starts at zero (identity)
    bank = perceptual.GramBank(net, torch.rand(2, 3, 32, 32), (1.0, 0.5, 0.25))
    photo = torch.rand(2, 3, 32, 32)
    out = generator(photo)
    style, features = bank.distance(net, out)
    with torch.no_grad():
        target = net(photo)[perceptual.CONTENT_LAYERS["relu2_2"]]
    content = perceptual.content_loss(features[perceptual.CONTENT_LAYERS["relu2_2"]], target)
    (style + content).backward()
    grads = [p.grad for p in generator.parameters() if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0


def test_every_pyramid_level_is_used(tmp_path):
    net = _net(tmp_path)
    levels = perceptual.image_pyramid(torch.rand(1, 3, 64, 48), (1.0, 0.5, 0.25))
    assert [tuple(level.shape[-2:]) for level in levels] == [(64, 48), (32, 24), (16, 12)]
    painting, image = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    bank = perceptual.GramBank(net, painting, (1.0, 0.5, 0.25))
    grams = perceptual.pyramid_grams(net, image, bank.scales)
    for level in range(3):  # changing one level's target changes the term
        moved = [[t.clone() for t in targets] for targets in bank.targets]
        moved[level] = [t + 0.1 * t.abs().max() + 1e-3 for t in moved[level]]
        assert float(perceptual.style_loss(grams, moved)) > float(perceptual.style_loss(grams, bank.targets))


def test_record_names_the_file_and_its_digest(tmp_path):
    path = random_vgg_file(tmp_path / "vgg.safetensors")
    import hashlib

    record = perceptual.loss_net_record(path)
    assert record["file"] == "vgg.safetensors"
    assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "training time only" in record["use"]


def test_feature_distance_is_zero_on_itself_and_carries_gradient_to_the_output_only(tmp_path):
    net = load_loss_net(random_vgg_file(tmp_path / "vgg.safetensors"))
    target = torch.rand(1, 3, 24, 24)
    assert perceptual.feature_distance(net, target, target) == 0
    output = torch.rand(1, 3, 24, 24, requires_grad=True)
    distance = perceptual.feature_distance(net, output, target)
    distance.backward()
    assert distance > 0 and output.grad is not None and output.grad.abs().sum() > 0
