"""Small synthetic media for the evaluation tests: textures that optical flow locks on to, and painting sets.

Every builder writes into the folder it is given (a test's ``tmp_path``) and returns the path.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

SIZE = (128, 96)  # width, height


# -- media ---------------------------------------------------------------------------------------
def texture(seed: int, height: int, width: int, cell: int = 4) -> np.ndarray:
    """A random colour texture with detail every few pixels: something optical flow can lock on to."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((height // cell + 1, width // cell + 1, 3)).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return (np.clip(smooth, 0, 1) * 255).round().astype(np.uint8)


def moving_square(frames: int = 12, size: tuple[int, int] = SIZE, step: tuple[int, int] = (2, 1)) -> list[np.ndarray]:
    """A textured square sliding over a still textured background."""
    width, height = size
    background, square = texture(1, height, width), texture(2, 32, 32)
    out = []
    for t in range(frames):
        frame = background.copy()
        x, y = 20 + step[0] * t, 30 + step[1] * t
        frame[y:y + 32, x:x + 32] = square
        out.append(frame)
    return out


def restyle(frame: np.ndarray) -> np.ndarray:
    """A fixed per-pixel "style": swap channels and bend the tones. Temporally stable by construction."""
    shifted = frame[..., ::-1].astype(np.float32) / 255.0
    return (np.sqrt(shifted) * 255).round().astype(np.uint8)


def flicker(frames: list[np.ndarray], sigma: float = 0.05, seed: int = 0) -> list[np.ndarray]:
    """Per-frame Gaussian noise (0-1 scale): what an unstable per-frame stylizer looks like."""
    rng = np.random.default_rng(seed)
    return [np.clip(f + rng.normal(0, 255 * sigma, f.shape), 0, 255).round().astype(np.uint8) for f in frames]


def write_video(path: Path, frames: list[np.ndarray], *, rate: int = 25) -> Path:
    """H.264 yuv420p (near-lossless) with PyAV."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate, options={"crf": "8"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def write_images(folder: Path, images: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(images):
        cv2.imwrite(str(folder / f"{index:04d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return folder



def stripes(seed: int, height: int = 160, width: int = 200) -> np.ndarray:
    """Diagonal stripes in warm colours with grain: one "painting style"."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    wave = 0.5 + 0.5 * np.sin((xx + yy) * 0.6 + rng.uniform(0, 6))
    palette = np.array([[0.9, 0.6, 0.1], [0.2, 0.1, 0.5]], np.float32)
    image = wave[..., None] * palette[0] + (1 - wave[..., None]) * palette[1]
    image += rng.normal(0, 0.03, image.shape)
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


def blobs(seed: int, height: int = 160, width: int = 200) -> np.ndarray:
    """Soft green-grey blobs: nothing like the stripes."""
    smooth = texture(seed, height, width, cell=24).astype(np.float32) / 255
    grey = smooth.mean(axis=2, keepdims=True)
    image = 0.3 + 0.4 * grey * np.array([0.5, 1.0, 0.6], np.float32)
    return (image * 255).round().astype(np.uint8)



def make_clips(folder: Path) -> dict[str, Path]:
    """An original video, a temporally stable restyle of it and a flickering one."""
    original = moving_square()
    stable = [restyle(f) for f in original]
    return {
        "original": write_video(folder / "original.mp4", original),
        "stable": write_video(folder / "stable.mp4", stable),
        "flicker": write_video(folder / "flicker.mp4", flicker(stable)),
    }


def make_style_sets(folder: Path) -> dict[str, Path]:
    """Four striped "paintings", translated copies of them, and unrelated blobs."""
    sources = [stripes(seed) for seed in range(4)]
    return {
        "paintings": write_images(folder / "paintings", sources),
        "translated": write_images(folder / "translated", [np.roll(s, (13, 29), axis=(0, 1)) for s in sources]),
        "unrelated": write_images(folder / "unrelated", [blobs(seed) for seed in range(4)]),
    }


def random_loss_net(path: Path, seed: int = 0) -> Path:
    """A loss-network file of the right layout with He-scaled random weights (no real VGG in the tests)."""
    import torch
    from safetensors.torch import save_file

    from vidgan.models.lossnet import VGGFeatures

    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, tensor in VGGFeatures().state_dict().items():
        fan_in = tensor[0].numel() if tensor.dim() > 1 else 1
        scale = (2 / fan_in) ** 0.5 if tensor.dim() > 1 else 0.01
        tensors[name.removeprefix("convs.")] = torch.randn(tensor.shape, generator=generator) * scale
    save_file(tensors, str(path))
    return path
