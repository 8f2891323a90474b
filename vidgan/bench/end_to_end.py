"""End-to-end stylize rows shared by ``vidgan bench`` and ``python -m vidgan.bench.stylize``: decode ->
stylize -> encode of one clip, per preset and engine, next to a naive per-frame loop in the same run.

Why warmed: a stream pays its model load and, with OpenVINO, one conversion per size once (seconds,
cached on disk after); a 30-frame benchmark would otherwise mostly time that. So each pipeline is
built and run on two frames first, reset, and then the clock runs over the whole clip on the
transcoder's own threads (``run_pipeline``: decode, stylize and encode overlap as in ``vidgan run``).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import av
import numpy as np

from vidgan.bench.timing import timed
from vidgan.errors import VidganError
from vidgan.io.encode import EncodeOptions


@dataclass(frozen=True)
class EndToEndCase:
    """One row: a preset at the settings it is used with."""

    label: str
    preset: str
    flow: str  # the DIS quality the stage and its naive twin use
    precision: str = "auto"  # the stage's; the naive loop stays fp32


#: lite as live front ends run it (``LIVE_SETTING``: flow=fast); full at the file default (flow=medium),
#: and full in fp32: the default precision is bf16 on CPUs with native bf16, which full gains from most.
CASES = (EndToEndCase("lite, live: flow=fast", "lite", "fast"),
         EndToEndCase("full, file default", "full", "medium"),
         EndToEndCase("full, precision=fp32", "full", "medium", "fp32"))


@dataclass(frozen=True)
class EndToEndResult:
    case: EndToEndCase
    engine: str
    ms_per_frame: float | None  # None: the engine is not installed
    naive_ms: float | None  # the naive loop of the same preset and flow, decode and encode included
    note: str = ""


def style_for(preset: str, tmp: Path) -> tuple[str, str]:
    """(style argument, label): van_gogh at ``preset`` if it ships, else an untrained generator of
    that preset saved under ``tmp`` (the same architecture, so the same cost)."""
    import torch

    from vidgan.models.stylizer import build_generator
    from vidgan.models.zoo import find_style, save_style

    try:
        find_style("van_gogh", preset)
        return "van_gogh", f"van_gogh {preset}"
    except VidganError:
        pass
    path = tmp / f"untrained_{preset}.safetensors"
    if not path.exists():
        torch.manual_seed(0)
        save_style(build_generator(preset), {"kind": "stylizer", "preset": preset, "training": {"steps": 0}},
                   tmp, f"untrained_{preset}")
    return str(path), f"untrained {preset} (same cost)"


def encode_options() -> EncodeOptions:

    return EncodeOptions(codec="libx264", preset="veryfast", crf=23)


def transcode_warmed_ms(clip: Path, out: Path, chain: str, device: str) -> float:
    """ms per input frame of ``clip`` -> ``chain`` -> libx264 ``out``, the pipeline warmed first."""
    from vidgan.engine.transcoder import run_pipeline
    from vidgan.frame import Frame
    from vidgan.graph.pipeline import Pipeline
    from vidgan.graph.stage import StageContext
    from vidgan.io.encode import VideoSink
    from vidgan.io.source import VideoSource

    pipeline = Pipeline.from_chain(chain, StageContext(device=device))
    with av.open(str(clip)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            pipeline.process(Frame.from_av(frame))
            if index == 1:
                break
    pipeline.flush()
    for stage in pipeline.stages:  # the stylize stage starts its recurrence again
        reset = getattr(stage, "reset", None)
        if reset is not None:
            reset()
    source = VideoSource(str(clip), device=device)
    pipeline.set_input_rate(source.info.frame_rate)
    sink = VideoSink(str(out), encode_options(), source, overwrite=True, frame_rate=pipeline.output_rate)
    report = run_pipeline(source, pipeline, sink)
    return report.seconds * 1e3 / report.frames_in


def naive_ms(frames: list[av.VideoFrame], style: str, preset: str, flow: str, device: str,
             warmup: int = 2) -> float:
    """The same recurrent stylization written the obvious way, per frame: OpenCV YUV->RGB on the host,
    OpenCV DIS flow on the frame's grey levels, the torch reference warp, the generator in fp32
    (torch), a plain blend, and RGB->YUV back with OpenCV; no fused kernels, no reuse, no overlap.
    Decode and encode are not in it (the caller adds its own)."""
    import cv2
    import torch

    from vidgan.io.images import fit_short_side
    from vidgan.models.flow import FLOW_QUALITIES, create_dis, dense_flow
    from vidgan.models.zoo import find_style, load_generator
    from vidgan.ops import reference

    model = load_generator(find_style(style, preset), device)
    height, width = frames[0].height, frames[0].width
    dis = create_dis(FLOW_QUALITIES[flow][0])
    previous_grey: np.ndarray | None = None
    previous_output: torch.Tensor | None = None

    def run(frame: av.VideoFrame) -> None:
        nonlocal previous_grey, previous_output
        rgb = cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2RGB_I420)
        rgb = fit_short_side(rgb, 360)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        image = torch.from_numpy(rgb).to(device).permute(2, 0, 1)[None].float() / 255
        warped: torch.Tensor | None = None
        confidence: torch.Tensor | None = None
        if previous_grey is not None and previous_output is not None:
            flow_field = dense_flow(dis, grey, previous_grey)  # current -> previous
            flow_t = torch.from_numpy(flow_field).to(device).permute(2, 0, 1)[None]
            warped, inside = reference.warp(previous_output, flow_t, border="edge")
            confidence = inside
        with torch.no_grad():
            out = model(image, warped, confidence)
        if warped is not None and confidence is not None:
            out = out * (1 - 0.8 * confidence) + warped * (0.8 * confidence)
        previous_grey, previous_output = grey, out
        full = torch.nn.functional.interpolate(out, size=(height, width), mode="bilinear")
        back = (full[0].clamp(0, 1) * 255).byte().permute(1, 2, 0).cpu().numpy()
        cv2.cvtColor(back, cv2.COLOR_RGB2YUV_I420)

    for frame in frames[:warmup]:
        run(frame)
    return statistics.median(timed(partial(run, frame), device) * 1e3 for frame in frames[warmup:] or frames)


def decode_encode_ms(clip: Path, tmp: Path) -> tuple[list[av.VideoFrame], float, float]:
    """The clip's decoded frames, and ms per frame to decode it and to encode it (libx264 veryfast)."""
    with av.open(str(clip)) as container:
        started = time.perf_counter()
        decoded = list(container.decode(video=0))
        decode_ms = (time.perf_counter() - started) * 1e3 / len(decoded)
    with tempfile.TemporaryDirectory(dir=tmp) as folder, av.open(str(Path(folder) / "e.mp4"), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = decoded[0].width, decoded[0].height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        started = time.perf_counter()
        for frame in decoded:
            copy = frame.reformat(format="yuv420p")
            copy.pts = None  # the encoder restamps them
            for packet in stream.encode(copy):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        encode_ms = (time.perf_counter() - started) * 1e3 / len(decoded)
    return decoded, decode_ms, encode_ms


def run_end_to_end(clip: Path, tmp: Path, device: str, *, engines: tuple[str, ...] | None = None,
                   cases: tuple[EndToEndCase, ...] = CASES,
                   log: Callable[[str], None] = lambda _: None) -> list[EndToEndResult]:
    """Every case with every engine (on CUDA torch only), each with the naive loop of its preset."""
    from vidgan.stages.stylize_engine import ENGINES

    if engines is None:
        engines = ("torch",) if device.startswith("cuda") else tuple(ENGINES)
    decoded, decode_ms, encode_ms = decode_encode_ms(clip, tmp)
    results = []
    naive_of: dict[tuple[str, str], float] = {}  # cases differing only in precision share one naive loop
    for case in cases:
        style, label = style_for(case.preset, tmp)
        if (case.preset, case.flow) not in naive_of:
            naive_of[case.preset, case.flow] = (decode_ms + naive_ms(decoded, style, case.preset, case.flow, device)
                                                + encode_ms)
        naive = naive_of[case.preset, case.flow]
        for engine in engines:
            if not ENGINES[engine].available():
                results.append(EndToEndResult(case, engine, None, naive, f"{engine} is not installed"))
                continue
            chain = f"stylize=style={style}:preset={case.preset}:flow={case.flow}:engine={engine}"
            if case.precision != "auto":
                chain += f":precision={case.precision}"
            log(f"end to end: {chain}")
            ms = transcode_warmed_ms(clip, tmp / f"e2e-{case.preset}-{engine}.mp4", chain, device)
            results.append(EndToEndResult(case, engine, ms, naive, f"{label}, {precision_name(case.precision, device)}"))
    return results


def precision_name(requested: str, device: str) -> str:
    """What a case's precision ran as: ``auto`` resolved, so a row says which it was."""
    import torch

    from vidgan.device import resolve_precision

    dtype = resolve_precision(requested, torch.device(device))
    resolved = {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "fp32")
    return f"precision {requested} = {resolved}" if requested == "auto" else f"precision {resolved}"
