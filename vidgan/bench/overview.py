"""``vidgan bench``: where the time goes per resolution, next to references measured in the same run.

It makes its own clip (a moving test pattern with film grain, H.264, encoded here with PyAV) and
times each step of the pipeline on it, per frame: decode, upload (to a tensor on the device,
colour conversion included), each stage (stylize and interpolate, each model that has weights),
each kernel, download, encode, and the whole run end to end, stylize per preset (lite at the live
settings, full at the file default) and per engine (torch, OpenVINO). References, same run, same
clip: the ``ffmpeg`` CLI transcoding it, each kernel's plain-torch twin, and a naive per-frame loop
(OpenCV colour conversion and DIS flow on the host, the torch reference warp, the generator in fp32,
no reuse, no overlap), with the same decode and encode.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import av
import numpy as np

from vidgan.bench.timing import cpu_model, timed
from vidgan.errors import VidganError

if TYPE_CHECKING:
    pass

T = TypeVar("T")


@dataclass
class Row:
    size: str
    step: str
    ms_per_frame: float | None
    reference: str = ""
    reference_ms: float | None = None
    note: str = ""

    @property
    def fps(self) -> float | None:
        return 1000.0 / self.ms_per_frame if self.ms_per_frame else None

    @property
    def speedup(self) -> float | None:
        if self.ms_per_frame and self.reference_ms:
            return self.reference_ms / self.ms_per_frame
        return None


def make_clip(path: Path, width: int, height: int, frames: int, fps: int = 30) -> None:
    """A moving gradient with grain, so the encoder and motion estimation have real work."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20"}
        for i in range(frames):
            r = (x * 255 // max(1, width - 1) + 3 * i) % 256
            g = (y * 255 // max(1, height - 1) + 2 * i) % 256
            b = ((x + y) // 8 * 16 + 5 * i) % 256
            rgb = np.stack([r, g, b], -1).astype(np.int16) + rng.integers(-12, 13, (height, width, 1))
            frame = av.VideoFrame.from_ndarray(np.clip(rgb, 0, 255).astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def per_frame_ms(items: Sequence[T], work: Callable[[T], object], device: str, warmup: int = 2) -> float:
    """Median ms of ``work(item)`` over ``items`` after ``warmup`` calls."""
    for item in items[:warmup]:
        work(item)
    return statistics.median(timed(partial(work, item), device) * 1e3 for item in items[warmup:] or items)


def _stage_rows(size: str, frames: list, device: str) -> list[Row]:
    from vidgan.frame import Frame
    from vidgan.graph.pipeline import Pipeline
    from vidgan.graph.stage import StageContext

    chains = [
        ("stylize lite", "stylize=preset=lite:flow=fast"),
        ("stylize full", "stylize=preset=full:flow=fast"),
        ("interpolate 2x dis", "interpolate=factor=2:model=dis"),
        ("interpolate 2x lite", "interpolate=factor=2:model=lite"),
        ("interpolate 2x full", "interpolate=factor=2:model=full"),
    ]
    rows = []
    tensors = [Frame.from_av(f).to_tensor(device) for f in frames]
    for name, chain in chains:
        try:
            pipeline = Pipeline.from_chain(chain, StageContext(device=device))
            ms = per_frame_ms([Frame.from_av(f).with_tensor(t) for f, t in zip(frames, tensors)],
                              pipeline.process, device, warmup=3)
            rows.append(Row(size, name, ms, note="per input frame"))
        except VidganError as exc:  # no weights for this model (yet): say so instead of a number
            rows.append(Row(size, name, None, note=" ".join(str(exc).split())[:90]))
    return rows


def _kernel_rows(size: str, width: int, height: int, device: str) -> list[Row]:
    import torch

    from vidgan import ops
    from vidgan.ops import reference

    g = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, height, width, generator=g).to(device)
    other = torch.rand(1, 3, height, width, generator=g).to(device)
    flow = (torch.randn(1, 2, height, width, generator=g) * 3).to(device)
    confidence = torch.rand(1, 1, height, width, generator=g).to(device)
    cases = [
        ("kernel warp", lambda _: ops.warp(image, flow), lambda _: reference.warp(image, flow)),
        ("kernel consistency", lambda _: ops.consistency(flow, -flow), lambda _: reference.consistency(flow, -flow)),
        ("kernel temporal_blend", lambda _: ops.temporal_blend(image, other, flow, confidence, 0.8),
         lambda _: reference.temporal_blend(image, other, flow, confidence, 0.8)),
    ]
    rows = []
    for name, fast, slow in cases:
        items = list(range(12))
        rows.append(Row(size, name, per_frame_ms(items, fast, device), "torch twin", per_frame_ms(items, slow, device)))
    return rows


def _end_to_end_rows(size: str, clip: Path, tmp: Path, device: str) -> list[Row]:
    """Decode -> stylize -> encode per preset and engine (:mod:`vidgan.bench.end_to_end`), each next
    to the naive loop of its preset; the first row is what ``-vf stylize=preset=lite:flow=fast`` runs
    by default (engine=auto)."""
    import torch

    from vidgan.bench.end_to_end import run_end_to_end
    from vidgan.stages.stylize_engine import resolve_engine

    results = run_end_to_end(clip, tmp, device)
    naive_label = "naive per-frame fp32 loop (same work)"
    auto = resolve_engine("auto", torch.device(device))
    rows = [Row(size, "end to end -vf stylize (lite)", r.ms_per_frame, naive_label, r.naive_ms,
                f"engine=auto: {auto}; {r.note}")
            for r in results if r.case.preset == "lite" and r.engine == auto]
    for r in results:
        step = f"end to end -vf stylize ({r.case.label}, engine={r.engine})"
        rows.append(Row(size, step, r.ms_per_frame, naive_label, r.naive_ms, r.note))
    return rows


def bench_size(width: int, height: int, *, device: str, frames: int, tmp: Path, use_ffmpeg: bool) -> list[Row]:
    from vidgan.engine import transcode
    from vidgan.frame import Frame
    from vidgan.io.encode import EncodeOptions

    size = f"{width}x{height}"
    clip = tmp / f"clip-{size}.mp4"
    make_clip(clip, width, height, frames)
    rows: list[Row] = []

    with av.open(str(clip)) as container:
        started = time.perf_counter()
        decoded = list(container.decode(video=0))
        decode_ms = (time.perf_counter() - started) * 1e3 / len(decoded)
    rows.append(Row(size, "decode (H.264, PyAV)", decode_ms))
    rows.append(Row(size, "upload + YUV->RGB", per_frame_ms(decoded, lambda f: Frame.from_av(f).to_tensor(device), device)))
    tensors = [Frame.from_av(f).to_tensor(device) for f in decoded[:8]]
    rows.append(Row(size, "download + RGB->YUV", per_frame_ms(
        tensors, lambda t: Frame.from_av(decoded[0]).with_tensor(t).to_av().reformat(format="yuv420p"), device)))
    rows += _stage_rows(size, decoded, device)
    rows += _kernel_rows(size, width, height, device)
    with tempfile.TemporaryDirectory(dir=tmp) as enc_dir:
        with av.open(str(Path(enc_dir) / "e.mp4"), "w") as out:
            stream = out.add_stream("libx264", rate=30)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"preset": "veryfast", "crf": "23"}
            started = time.perf_counter()
            for f in decoded:  # the last use of the decoded frames: the encoder restamps them
                f.pts = None
                for packet in stream.encode(f):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
            encode_ms = (time.perf_counter() - started) * 1e3 / len(decoded)
    rows.append(Row(size, "encode (libx264 veryfast)", encode_ms))

    options = EncodeOptions(codec="libx264", preset="veryfast", crf=23)
    ffmpeg_ms = None
    if use_ffmpeg and shutil.which("ffmpeg"):
        started = time.perf_counter()
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-nostdin", "-i", str(clip), "-c:v", "libx264",
                        "-preset", "veryfast", "-crf", "23", str(tmp / "ff.mp4")], check=True)
        ffmpeg_ms = (time.perf_counter() - started) * 1e3 / len(decoded)
    report = transcode(clip, tmp / "null.mp4", chain="null", encode=options, device=device, overwrite=True)
    rows.append(Row(size, "end to end -vf null", report.seconds * 1e3 / report.frames_in,
                    "ffmpeg CLI transcode" if ffmpeg_ms else "", ffmpeg_ms))
    rows += _end_to_end_rows(size, clip, tmp, device)
    return rows


def run_bench(sizes: list[tuple[int, int]], *, device: str, frames: int, use_ffmpeg: bool = True) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="vidgan-bench-") as tmp:
        for width, height in sizes:
            rows += bench_size(width, height, device=device, frames=frames, tmp=Path(tmp), use_ffmpeg=use_ffmpeg)
    return rows


def machine_line(device: str) -> str:
    import torch

    gpu = f", {torch.cuda.get_device_name(0)}" if device.startswith("cuda") else ""
    return (f"{cpu_model()} ({platform.machine()}), {os.cpu_count()} CPU threads{gpu}, {platform.system()} {platform.release()}; "
            f"torch {torch.__version__}, PyAV {av.__version__}")


def format_table(rows: list[Row]) -> str:
    lines = ["| size | step | ms/frame | fps | reference | ref ms/frame | speedup |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.ms_per_frame is None:
            lines.append(f"| {r.size} | {r.step} | - | - | {r.note} | | |")
            continue
        ref = f"{r.reference_ms:.2f}" if r.reference_ms else ""
        speed = f"{r.speedup:.2f}x" if r.speedup else ""
        lines.append(f"| {r.size} | {r.step} | {r.ms_per_frame:.2f} | {r.fps:.1f} | {r.reference} | {ref} | {speed} |")
    return "\n".join(lines)
