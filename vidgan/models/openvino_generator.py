"""The stylize generator run by OpenVINO on the CPU (the ``vidgan[fast]`` extra).

Why: on a 2-core CPU OpenVINO runs the lite generator at 640x360 in about 14 ms against torch's
19-23 ms (channels-last fp32), and the full one at 1280x720 2.5x faster; ONNX Runtime gained
nothing reliable over torch there. The generator is exported per input size (the stride padding
is then a constant, and a static shape is what OpenVINO's CPU plugin runs fastest) through ONNX,
because OpenVINO's torch front end has no ``aten::logit``. Each export is kept as OpenVINO IR in
a per-user cache folder keyed by the weights, the torch and OpenVINO versions and the size, so
only the first run at a size pays the few seconds it takes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

log = logging.getLogger(__name__)

#: What the exported models need besides openvino itself (torch.onnx.export's exporter).
REQUIRED_MODULES = ("openvino", "onnx", "onnxscript")
CACHE_SUBDIR = "openvino"
_IR_NAME = "generator.xml"


def available() -> bool:
    """True when the ``vidgan[fast]`` extra is installed."""
    return all(importlib.util.find_spec(name) is not None for name in REQUIRED_MODULES)


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/vidgan/openvino`` (``~/.cache`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vidgan" / CACHE_SUBDIR


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def state_sha256(model: nn.Module) -> str:
    """A key for weights that are not in a file (tests, untrained generators)."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class _ThreeInputs(nn.Module):
    """The generator with its recurrent inputs always given (zeros on a first frame, as it does itself)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, warped: torch.Tensor, confidence: torch.Tensor) -> torch.Tensor:
        return self.model(x, warped, confidence)


class OpenVinoGenerator:
    """Callable like the generator (x, warped previous or None, confidence or None) -> (1,3,H,W) float32."""

    def __init__(self, model: nn.Module, weights_sha256: str, *, threads: int | None = None,
                 cache: Path | None = None) -> None:
        import openvino

        self._openvino = openvino
        self._core = openvino.Core()
        self._model = _ThreeInputs(model.float().eval())
        self._recurrent = bool(getattr(getattr(model, "config", None), "recurrent", True))
        key = f"{weights_sha256}-torch{torch.__version__}-openvino{openvino.get_version()}"
        self.folder = (cache or cache_root()) / hashlib.sha256(key.encode()).hexdigest()[:32]
        self._config = {"INFERENCE_NUM_THREADS": threads or torch.get_num_threads(),
                        "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
        self._compiled: dict[tuple[int, int], Any] = {}

    def __call__(self, x: torch.Tensor, warped: torch.Tensor | None = None,
                 confidence: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[0] != 1:
            raise ValueError("the OpenVINO generator runs one frame at a time")
        if warped is None:
            warped, confidence = torch.zeros_like(x), torch.zeros_like(x[:, :1])
        elif confidence is None:
            raise TypeError("a warped previous output needs its confidence")
        compiled = self._compiled.get(tuple(x.shape[-2:]))
        if compiled is None:
            compiled = self._compiled[tuple(x.shape[-2:])] = self._load(*x.shape[-2:])
        inputs = [t.detach().float().contiguous().numpy() for t in (x, warped, confidence)]
        return torch.from_numpy(compiled(inputs)[0].copy())

    def _load(self, height: int, width: int) -> Any:
        """The compiled model at one size, from the cache; a missing or unreadable entry is (re)built."""
        entry = self.folder / f"{width}x{height}"
        if (entry / _IR_NAME).exists():
            try:
                return self._core.compile_model(self._core.read_model(str(entry / _IR_NAME)), "CPU", self._config)
            except Exception as exc:  # noqa: BLE001 - whatever is wrong with the files, they are rebuilt
                log.warning("stylize: cached OpenVINO model %s is unreadable (%s); rebuilding it", entry, exc)
                shutil.rmtree(entry, ignore_errors=True)
        self._export(height, width, entry)
        return self._core.compile_model(self._core.read_model(str(entry / _IR_NAME)), "CPU", self._config)

    def _export(self, height: int, width: int, entry: Path) -> None:
        """Write the IR into a fresh folder, then rename it into place: readers never see half a model."""
        log.info("stylize: exporting the generator for OpenVINO at %dx%d into %s", width, height, entry)
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=entry.parent))
        try:
            example = (torch.rand(1, 3, height, width), torch.rand(1, 3, height, width),
                       torch.rand(1, 1, height, width))
            onnx_path = staging / "generator.onnx"
            with torch.no_grad():
                torch.onnx.export(self._model, example, str(onnx_path), input_names=["x", "warped", "confidence"],
                                  output_names=["styled"], dynamo=True, optimize=True, verbose=False)
            self._openvino.save_model(self._core.read_model(str(onnx_path)), str(staging / _IR_NAME),
                                      compress_to_fp16=False)
            for extra in staging.glob("generator.onnx*"):
                extra.unlink()
            try:
                os.replace(staging, entry)
            except OSError:  # another process put the same entry in place first
                if not (entry / _IR_NAME).exists():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
