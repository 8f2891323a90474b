"""vidgan.eval.perceptual: Gram statistics of a random-weight VGG on synthetic images."""

from __future__ import annotations

import numpy as np
import pytest

from tests.eval.synthetic import blobs, random_loss_net, stripes
from vidgan.eval.perceptual import crop, gram_distance, gram_statistics, image_pyramid
from vidgan.models.lossnet import load_loss_net


@pytest.fixture
def net(tmp_path):
    return load_loss_net(random_loss_net(tmp_path / "vgg.safetensors"))


def as_float(images):
    return [i.astype(np.float32) / 255 for i in images]


def test_pyramid_and_crops():
    image = np.zeros((100, 61, 3), np.float32)
    assert [level.shape[:2] for level in image_pyramid(image)] == [(100, 61), (50, 30), (25, 15)]
    rng = np.random.default_rng(0)
    assert crop(image, 64, rng).shape[:2] == (64, 61)
    assert crop(image, 256, rng).shape[:2] == (100, 61)


def test_statistics_are_three_levels_of_five_grams(net):
    stats = gram_statistics(net, as_float([stripes(0)]), np.random.default_rng(0))
    assert len(stats) == 3 and [g.shape for g in stats[0]] == [(64, 64), (64, 64), (128, 128), (128, 128), (256, 256)]


def test_identical_sets_are_at_zero_and_nothing_is_at_one(net):
    paintings = as_float([stripes(seed) for seed in range(2)])
    reference = gram_statistics(net, paintings, np.random.default_rng(0))
    same = gram_distance(reference, gram_statistics(net, paintings, np.random.default_rng(0)), 2)
    assert same.mean == 0.0 and len(same.per_layer) == 5
    zeros = [[np.zeros_like(g) for g in level] for level in reference]
    assert gram_distance(reference, zeros, 2).mean == pytest.approx(1.0)


def test_a_similar_style_is_closer_than_an_unrelated_one(net):
    reference = gram_statistics(net, as_float([stripes(seed) for seed in range(3)]), np.random.default_rng(0))

    def distance(images):
        return gram_distance(reference, gram_statistics(net, as_float(images), np.random.default_rng(0)),
                             len(images)).mean

    similar = distance([np.roll(stripes(seed), (13, 29), axis=(0, 1)) for seed in range(3)])
    assert similar < 0.2 * distance([blobs(seed) for seed in range(3)])


def test_crops_are_deterministic_for_a_seed(net):
    big = as_float([np.tile(stripes(0), (2, 2, 1))])  # 320x400: cropped to 256x256 at full size
    first = gram_statistics(net, big, np.random.default_rng(5))
    again = gram_statistics(net, big, np.random.default_rng(5))
    assert all(np.array_equal(a, b) for a, b in zip(first[0], again[0]))
