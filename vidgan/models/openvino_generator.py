"""The stylize generator run by OpenVINO on the CPU.

Why: on a 2-core CPU OpenVINO's CPU plugin runs the generator's small convolutions well ahead of
torch's oneDNN path (see docs/benchmarks.md). The generator is converted per input size (the
stride padding is then a constant, and a static shape is what the CPU plugin runs fastest) with
``torch.export`` and ``openvino.convert_model`` (no ONNX step). OpenVINO's torch front ends have
lacked ``aten::logit``, so the export runs under :class:`_ExportRewrites`, which spells it with
``log`` and ``log1p`` (the same function; the model itself is untouched, so the torch engine's
output does not change). Each conversion is kept as OpenVINO IR with a checksum manifest in a
per-user cache folder keyed by the architecture and weights, the torch and OpenVINO versions and
the size, so only the first run at a size pays the few seconds it takes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

log = logging.getLogger(__name__)

CACHE_SUBDIR = "openvino"
#: Bump when the conversion changes what it writes: older cache entries are then not reused.
EXPORT_VERSION = 2  # 2: instance normalisation as moments (one MVN)
_IR_NAME = "generator.xml"
_MANIFEST_NAME = "manifest.json"
#: The stage's precision -> OpenVINO's inference precision hint.
PRECISION_HINTS = {torch.float32: "f32", torch.bfloat16: "bf16"}


def available() -> bool:
    """True when OpenVINO is installed."""
    return importlib.util.find_spec("openvino") is not None


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/vidgan/openvino`` (``~/.cache`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vidgan" / CACHE_SUBDIR


def model_sha256(model: nn.Module) -> str:
    """What the converted graph depends on: the architecture (its config, which the weights do not
    pin: e.g. the upsampling mode) and every weight."""
    digest = hashlib.sha256(repr(getattr(model, "config", type(model).__name__)).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _logit_as_logs(x: torch.Tensor, eps: float | None = None) -> torch.Tensor:
    if eps is not None:
        x = x.clamp(eps, 1 - eps)
    return torch.log(x) - torch.log1p(-x)


def _instance_norm_as_moments(input: torch.Tensor, running_mean: torch.Tensor | None = None,
                              running_var: torch.Tensor | None = None, weight: torch.Tensor | None = None,
                              bias: torch.Tensor | None = None, use_input_stats: bool = True,
                              momentum: float = 0.1, eps: float = 1e-5) -> torch.Tensor:
    """Instance normalisation spelt as its mean and variance, which OpenVINO fuses into one MVN
    operation; traced as ``F.instance_norm`` it became a chain of reductions and element-wise steps.
    At 640x360 in bf16 on 2 AMD EPYC cores: lite 17.2 -> 16.0 ms, full 100.8 -> 95.7 ms, and nearer
    torch's fp32 output (mean difference 0.135 of an 8-bit level instead of 0.159)."""
    if not use_input_stats:  # running statistics: not what the generators use; traced as it is
        return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
    mean = input.mean(dim=(2, 3), keepdim=True)
    centred = input - mean
    normalised = centred / torch.sqrt((centred * centred).mean(dim=(2, 3), keepdim=True) + eps)
    if weight is not None:
        normalised = normalised * weight[None, :, None, None]
    if bias is not None:
        normalised = normalised + bias[None, :, None, None]
    return normalised


#: torch functions OpenVINO's torch front end cannot convert, or converts into slower graphs ->
#: the same function in ops it handles well.
EXPORT_REWRITES: dict[Callable[..., Any], Callable[..., Any]] = {
    torch.logit: _logit_as_logs,
    F.instance_norm: _instance_norm_as_moments,
}


class _ExportRewrites(torch.overrides.TorchFunctionMode):
    """While converting: calls to a function in :data:`EXPORT_REWRITES` trace its rewrite instead."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return EXPORT_REWRITES.get(func, func)(*args, **(kwargs or {}))


class _ThreeInputs(nn.Module):
    """The generator with its recurrent inputs always given (zeros on a first frame, as it does itself)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, warped: torch.Tensor, confidence: torch.Tensor) -> torch.Tensor:
        return self.model(x, warped, confidence)


class OpenVinoGenerator:
    """Callable like the generator: (x, warped previous or None, confidence or None) -> (1,3,H,W) float32.

    One frame at a time (the stage's batch); each new H x W is converted (or read from the cache)
    and compiled once, then kept.
    """

    def __init__(self, model: nn.Module, *, threads: int | None = None, precision: torch.dtype = torch.float32,
                 cache: Path | None = None) -> None:
        import openvino

        if precision not in PRECISION_HINTS:
            raise ValueError(f"OpenVINO runs the generator in {sorted(map(str, PRECISION_HINTS))}, not {precision}")
        self._openvino = openvino
        self._core = openvino.Core()
        self._model = _ThreeInputs(_cpu_float_copy(model))
        key = (f"{model_sha256(model)}-torch{torch.__version__}-openvino{openvino.get_version()}"
               f"-export{EXPORT_VERSION}")
        self.folder = (cache or cache_root()) / hashlib.sha256(key.encode()).hexdigest()[:32]
        self._config = {"INFERENCE_NUM_THREADS": threads or torch.get_num_threads(),
                        "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": PRECISION_HINTS[precision]}
        self._requests: dict[tuple[int, int], Any] = {}
        self._preparing: dict[tuple[int, int], Future[Any]] = {}  # sizes compiling on the worker thread
        self._worker: ThreadPoolExecutor | None = None
        self.conversions = 0  # how many sizes were converted (not read from the cache): for tests and logs

    def __call__(self, x: torch.Tensor, warped: torch.Tensor | None = None,
                 confidence: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[0] != 1:
            raise ValueError("the OpenVINO generator runs one frame at a time")
        if warped is None:
            warped, confidence = torch.zeros_like(x), torch.zeros_like(x[:, :1])
        elif confidence is None:
            raise TypeError("a warped previous output needs its confidence")
        height, width = x.shape[-2:]
        request = self._requests.get((height, width))
        if request is None:
            request = self._requests[(height, width)] = self._load(height, width).create_infer_request()
        # The output is written straight into a fresh tensor: it outlives the next inference.
        styled = torch.empty((1, 3, height, width), dtype=torch.float32)
        request.set_output_tensor(0, self._openvino.Tensor(styled.numpy(), shared_memory=True))
        request.infer([_as_array(t) for t in (x, warped, confidence)], share_inputs=True)
        return styled

    def prepare(self, height: int, width: int) -> Future[Any]:
        """Convert and compile the generator for ``height`` x ``width`` on a worker thread; the
        caller keeps running meanwhile (a live stream, on torch). :meth:`ready` tells when it is done."""
        future = self._preparing.get((height, width))
        if future is None:
            if self._worker is None:
                self._worker = ThreadPoolExecutor(1, thread_name_prefix="vidgan-openvino")
            future = self._preparing[(height, width)] = self._worker.submit(self._load, height, width)
        return future

    def ready(self, height: int, width: int) -> bool:
        """True once the size is compiled (by a call or by :meth:`prepare`). A background conversion
        that failed raises its error here, once."""
        if (height, width) in self._requests:
            return True
        future = self._preparing.get((height, width))
        if future is None or not future.done():
            return False
        del self._preparing[(height, width)]
        self._requests[(height, width)] = future.result().create_infer_request()
        return True

    def _load(self, height: int, width: int) -> Any:
        """The compiled model at one size, from the cache; a missing or damaged entry is (re)built."""
        entry = self.folder / f"{width}x{height}"
        started = time.perf_counter()
        if (entry / _MANIFEST_NAME).exists():
            try:
                compiled = self._compile(entry)
                log.info("stylize: OpenVINO generator for %dx%d compiled from the cache in %.1f s",
                         width, height, time.perf_counter() - started)
                return compiled
            except Exception as exc:  # noqa: BLE001 - whatever is wrong with the files, they are rebuilt
                log.warning("stylize: cached OpenVINO model %s is unusable (%s); rebuilding it", entry, exc)
                shutil.rmtree(entry, ignore_errors=True)
        example = (torch.rand(1, 3, height, width), torch.rand(1, 3, height, width), torch.rand(1, 1, height, width))
        converted = self._converted(example)
        for node, name in zip(converted.inputs, ("x", "warped", "confidence")):
            node.get_tensor().set_names({name})
        self.conversions += 1
        try:
            self._store(converted, entry)
            compiled = self._compile(entry)
            where = f"cached in {entry}"
        except (OSError, RuntimeError) as exc:  # a read-only or full cache folder: run it, uncached
            log.warning("stylize: cannot cache the OpenVINO generator in %s (%s); converting again next time",
                        entry, exc)
            compiled = self._core.compile_model(converted, "CPU", self._config)
            where = "not cached"
        log.info("stylize: OpenVINO generator for %dx%d converted and compiled in %.1f s (%s)",
                 width, height, time.perf_counter() - started, where)
        return compiled

    def _compile(self, entry: Path) -> Any:
        manifest = json.loads((entry / _MANIFEST_NAME).read_text())
        for name, digest in manifest.items():
            if _file_sha256(entry / name) != digest:
                raise ValueError(f"{name} does not match its checksum")
        return self._core.compile_model(self._core.read_model(str(entry / _IR_NAME)), "CPU", self._config)

    def _converted(self, example: tuple[torch.Tensor, ...]) -> Any:
        """The OpenVINO model of the generator at the example's size: through ``torch.export``, or
        through OpenVINO's own trace where torch.export cannot take the module (``torch.jit.trace``
        is deprecated, so it is the fallback)."""
        with torch.no_grad(), _ExportRewrites(), warnings.catch_warnings():
            # torch's and OpenVINO's notes on their own internals (deprecations) say nothing to a user
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                return self._openvino.convert_model(torch.export.export(self._model, example))
            except Exception as exc:  # noqa: BLE001 - any failure of the first route tries the second
                log.info("stylize: torch.export of the generator failed (%s); tracing it instead", exc)
            # the trace fixes the stride padding of this size as a constant, as intended
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            return self._openvino.convert_model(self._model, example_input=example)

    def _store(self, converted: Any, entry: Path) -> None:
        """Write the IR and its manifest into a fresh folder, then rename it into place: readers
        never see half a model."""
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=entry.parent))
        try:
            self._openvino.save_model(converted, str(staging / _IR_NAME), compress_to_fp16=False)
            files = sorted(path.name for path in staging.iterdir())
            (staging / _MANIFEST_NAME).write_text(json.dumps({name: _file_sha256(staging / name) for name in files}))
            try:
                os.replace(staging, entry)
            except OSError:  # another process put the same entry in place first
                if not (entry / _MANIFEST_NAME).exists():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _cpu_float_copy(model: nn.Module) -> nn.Module:
    """An fp32 CPU copy in eval mode to trace: the stage's own module is left as it is."""
    import copy

    return copy.deepcopy(model).float().cpu().eval()


def _as_array(tensor: torch.Tensor) -> Any:
    return tensor.detach().float().contiguous().numpy()
