"""Render vidgan's bundled sample clip: a procedurally drawn landscape with motion, plus audio.

No third-party footage: every pixel and sample comes from this script, so the clip can ship
with the project and be regenerated bit-for-bit (``python samples/make_sample.py``). It has
what the filters need to show their worth: parallax layers that occlude each other (flow and
occlusion), fine texture (style), a camera pan, and a hard scene cut halfway (scene-cut
detection), with a stereo audio track to check sync.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 25, 4
SAMPLE_RATE = 48000


def _value_noise(shape: tuple[int, int], cell: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise in [0, 1]: bilinear interpolation of a coarse random grid."""
    gh, gw = shape[0] // cell + 2, shape[1] // cell + 2
    grid = rng.random((gh, gw)).astype(np.float32)
    ys = np.arange(shape[0], dtype=np.float32) / cell
    xs = np.arange(shape[1], dtype=np.float32) / cell
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def _fractal(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    layers = [(_value_noise(shape, cell, rng), 1.0 / i) for i, cell in enumerate((64, 24, 8, 3), 1)]
    total = sum(weight for _, weight in layers)
    return sum(noise * weight for noise, weight in layers) / total


class Scene:
    """Two scenes drawn on wide canvases; the camera pans and layers move at their own speeds."""

    def __init__(self, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        wide = (HEIGHT, WIDTH * 2)
        self.texture = _fractal(wide, rng)
        self.detail = _fractal(wide, rng)
        x = np.arange(wide[1], dtype=np.float32)
        self.far_ridge = 150 + 35 * np.sin(x / 97.0) + 18 * np.sin(x / 31.0 + 1.0)
        self.near_ridge = 245 + 25 * np.sin(x / 61.0 + 2.0) + 10 * np.sin(x / 17.0)
        self.trees = rng.uniform(0, wide[1], 14)
        self.yy, self.xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)

    def _landscape(self, t: float) -> np.ndarray:
        yy, xx = self.yy, self.xx
        sky_top, sky_bottom = np.array([0.25, 0.45, 0.85]), np.array([0.95, 0.75, 0.55])
        mix = (yy / HEIGHT)[..., None]
        img = sky_top * (1 - mix) + sky_bottom * mix
        sun = np.exp(-(((xx - 470 + 10 * t) ** 2 + (yy - 90) ** 2) / (2 * 28.0**2)))[..., None]
        img = img * (1 - sun) + np.array([1.0, 0.93, 0.6]) * sun
        cloud_shift = int(30 * t) % (WIDTH * 2)
        clouds = np.roll(self.texture, -cloud_shift, axis=1)[:, :WIDTH]
        cloud_mask = np.clip((clouds - 0.55) * 4, 0, 1)[..., None] * (yy < 170)[..., None]
        img = img * (1 - 0.8 * cloud_mask) + 0.97 * cloud_mask * 0.8
        for ridge, speed, color, tex in (
            (self.far_ridge, 20, np.array([0.35, 0.45, 0.55]), 0.15),
            (self.near_ridge, 60, np.array([0.25, 0.5, 0.2]), 0.35),
        ):
            offset = int(speed * t)
            profile = ridge[offset : offset + WIDTH]
            mask = (yy > profile[None, :])[..., None]
            shade = (np.roll(self.detail, -offset, axis=1)[:, :WIDTH] - 0.5)[..., None] * tex
            img = np.where(mask, color + shade, img)
        for tree_x in self.trees:
            cx = (tree_x - 120 * t) % (WIDTH * 2) - WIDTH * 0.25
            trunk = (np.abs(xx - cx) < 5) & (yy > 250) & (yy < 330)
            crown = ((xx - cx) ** 2 / 30.0**2 + (yy - 235) ** 2 / 45.0**2) < 1
            img[trunk] = (0.35, 0.22, 0.1)
            leaf = 0.25 + 0.3 * self.detail[:, : WIDTH][crown]
            img[crown] = np.stack([leaf * 0.5, leaf + 0.15, leaf * 0.4], axis=-1)
        return img

    def _harbour(self, t: float) -> np.ndarray:
        yy, xx = self.yy, self.xx
        mix = (yy / HEIGHT)[..., None]
        img = np.array([0.1, 0.1, 0.3]) * (1 - mix) + np.array([0.8, 0.4, 0.3]) * mix
        water = yy > 210
        waves = 0.08 * np.sin(xx / 9.0 + yy / 3.0 - 6 * t)[water]
        img[water] = np.stack([0.1 + waves, 0.25 + waves, 0.45 + waves], axis=-1)
        for i, (speed, y) in enumerate(((70, 215), (-45, 250))):
            bx = (100 + 200 * i + speed * t) % WIDTH
            hull = (np.abs(xx - bx) < 55 - (yy - y)) & (yy > y) & (yy < y + 22)
            sail = (xx > bx - 5) & (xx < bx + 30 - (y - yy) * 0.3) & (yy < y) & (yy > y - 80)
            img[hull] = (0.45, 0.2, 0.1)
            img[sail] = (0.95, 0.92, 0.85)
        moon = ((xx - 120) ** 2 + (yy - 70) ** 2) < 22**2
        img[moon] = (1.0, 0.98, 0.85)
        return img

    def frame(self, index: int) -> np.ndarray:
        t = index / FPS
        cut = FPS * SECONDS // 2
        img = self._landscape(t) if index < cut else self._harbour(t - cut / FPS)
        return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def _audio(seconds: float) -> np.ndarray:
    """A chord that changes at the scene cut, stereo, int16 planar (2, N)."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    first = t < seconds / 2
    freqs = np.where(first[:, None], [220.0, 277.2, 329.6], [196.0, 246.9, 293.7])
    tone = np.sin(2 * np.pi * freqs * t[:, None]).sum(axis=1) / 3
    envelope = np.minimum(1, np.minimum(t, seconds - t) * 8)
    left = 0.4 * tone * envelope
    right = 0.4 * np.roll(tone, 240) * envelope
    return (np.stack([left, right]) * 32767).astype(np.int16)


def render(path: Path) -> None:
    scene = Scene()
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=FPS, options={"crf": "26", "preset": "slow"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.codec_context.colorspace, video.codec_context.color_range = 6, 1  # BT.601, limited
        audio = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        for index in range(FPS * SECONDS):
            frame = av.VideoFrame.from_ndarray(scene.frame(index), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        samples = _audio(SECONDS)
        chunk = 1024
        for start in range(0, samples.shape[1], chunk):
            piece = np.ascontiguousarray(samples[:, start : start + chunk])
            frame = av.AudioFrame.from_ndarray(piece, format="s16p", layout="stereo")
            frame.sample_rate, frame.pts = SAMPLE_RATE, start
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode(None):
            out.mux(packet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path(__file__).with_name("landscape.mp4"))
    render(parser.parse_args().output)


if __name__ == "__main__":
    main()
