"""``vidgan doctor``: what this machine offers and what vidgan will use on it.

Every fallback vidgan may take silently elsewhere (no NVDEC, no CuPy, no GPU) is visible here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
from fractions import Fraction
from typing import Any

import av
import av.codec.hwaccel

from vidgan.commands import COMMANDS
from vidgan.engine import resolve_device
from vidgan.ops import active_backend

_NVDEC_DECODERS = ("h264_cuvid", "hevc_cuvid", "av1_cuvid", "vp9_cuvid")
_NVENC_ENCODERS = ("h264_nvenc", "hevc_nvenc", "av1_nvenc")
_SOFTWARE_ENCODERS = ("libx264", "libx265", "libsvtav1", "ffv1")


def _module_version(name: str) -> str | None:
    try:
        module = importlib.import_module(name)
    except Exception:  # noqa: BLE001 - any import failure means "not usable"
        return None
    return getattr(module, "__version__", "unknown")


def _encoder_usable(name: str) -> bool:
    """True when the encoder exists and opens on a tiny frame (NVENC needs a real GPU for that)."""
    if name not in av.codecs_available:
        return False
    try:
        ctx = av.CodecContext.create(name, "w")
        if not isinstance(ctx, av.VideoCodecContext):
            return False
        ctx.width, ctx.height, ctx.pix_fmt = 256, 144, "yuv420p"
        ctx.time_base = Fraction(1, 25)
        ctx.open()
        return True
    except Exception:  # noqa: BLE001
        return False


def collect() -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available()
    gpu = torch.cuda.get_device_name(0) if cuda else None
    cupy_version = _module_version("cupy") if cuda else None
    numba_version = _module_version("numba")
    hwdevices = list(av.codec.hwaccel.hwdevices_available())
    nvdec = [d for d in _NVDEC_DECODERS if d in av.codecs_available]
    nvenc = [e for e in _NVENC_ENCODERS if _encoder_usable(e)] if cuda else []
    device = resolve_device("auto")
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_threads": os.cpu_count(),
        "torch": torch.__version__,
        "cuda_available": cuda,
        "gpu": gpu,
        "pyav": av.__version__,
        "libavcodec": ".".join(map(str, av.library_versions["libavcodec"])),
        "hwaccel_devices": hwdevices,
        "nvdec_decoders": nvdec,
        "nvenc_encoders_usable": nvenc,
        "software_encoders": [e for e in _SOFTWARE_ENCODERS if e in av.codecs_available],
        "cupy": cupy_version,
        "numba": numba_version,
        "ffmpeg_binary": shutil.which("ffmpeg"),
        "will_use": {
            "device": device,
            "decoder": "NVDEC (software fallback)" if device.startswith("cuda") and "cuda" in hwdevices else "software (libavcodec threads)",
            "encoder": nvenc[0] if nvenc else "libx264",
            "kernels": active_backend(device),
        },
    }


def render(report: dict[str, Any]) -> str:
    def show(value: Any) -> str:
        if value in (None, [], False):
            return "no"
        if value is True:
            return "yes"
        return ", ".join(value) if isinstance(value, list) else str(value)

    rows = [(key, show(value)) for key, value in report.items() if key != "will_use"]
    rows += [(f"will use: {key}", show(value)) for key, value in report["will_use"].items()]
    width = max(len(key) for key, _ in rows)
    return "\n".join(f"{key:<{width}}  {value}" for key, value in rows)


def cmd_doctor(args: argparse.Namespace) -> int:
    report = collect()
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


@COMMANDS.register("doctor")
def add_parser(sub: argparse._SubParsersAction) -> None:
    doctor = sub.add_parser("doctor", help="what this machine offers (CUDA, NVDEC/NVENC, CuPy, Numba) and what vidgan will use")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(func=cmd_doctor)
