"""What runs the stylize stage's generator: torch (any device) or OpenVINO (the CPU).

Why a choice: on a CPU, OpenVINO runs the generator about twice as fast as torch (the lite
preset's live frame rate depends on it), but torch is what the model is trained and checked in,
runs on CUDA and is needed for ``compile=1``. ``auto`` takes OpenVINO on the CPU when it is
installed, torch otherwise; ``engine=torch`` is the stage exactly as it was before the choice.
A live stream never waits for OpenVINO's conversion of a new frame size: torch paints its frames
until the conversion, on a worker thread, is done (:class:`WarmingOpenVino`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from vidgan.errors import FilterOptionError

if TYPE_CHECKING:
    import torch

    from vidgan.models.openvino_generator import OpenVinoGenerator
    from vidgan.models.stylizer import RecurrentStylizer

log = logging.getLogger(__name__)

EngineName = Literal["auto", "torch", "openvino"]
#: (x, warped previous or None, confidence or None) -> stylized, as the generator itself is called.
GeneratorForward = Callable[..., "torch.Tensor"]


@dataclass(frozen=True)
class GeneratorRequest:
    """What an engine needs to build the stage's generator call."""

    model: RecurrentStylizer  # on the stage's device, channels-last, at the stage's precision on CUDA
    device: torch.device
    dtype: torch.dtype
    compile: bool
    realtime: bool = False  # a live stream: no frame may wait for a conversion


def _torch_available() -> bool:
    return True


def _openvino_available() -> bool:
    from vidgan.models import openvino_generator

    return openvino_generator.available()


def _torch_forward(request: GeneratorRequest) -> GeneratorForward:
    import torch

    model: GeneratorForward = request.model
    if request.compile:
        # Inductor fuses the activations and the logit-space head into the convolutions' loops:
        # lite at 640x360 on 2 CPU cores 37 -> 30 ms, after ~30 s compiling on the first frame
        # (and again for each new frame size).
        model = torch.compile(request.model, dynamic=False)
    # On the CPU the weights stay fp32 and autocast runs the convolutions in bf16 (oneDNN).
    autocast = request.device.type == "cpu" and request.dtype == torch.bfloat16

    def forward(*inputs: torch.Tensor | None) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            return model(*inputs)

    return forward


def _openvino_forward(request: GeneratorRequest) -> GeneratorForward:
    from vidgan.models.openvino_generator import OpenVinoGenerator

    if request.device.type != "cpu":
        raise FilterOptionError(f"stylize: engine=openvino runs on the CPU, not {request.device.type}; use engine=torch")
    if request.compile:
        raise FilterOptionError("stylize: compile=1 is a torch option; use engine=torch with it")
    generator = OpenVinoGenerator(request.model, precision=request.dtype)
    if request.realtime:
        return WarmingOpenVino(generator, _torch_forward(request))
    return generator


class WarmingOpenVino:
    """A live stream's generator: each new frame size is converted for OpenVINO on a worker thread
    while torch paints the frames (the same model, within rounding), so no frame waits the 2-5 s of
    a first conversion; from the frame after it is ready, OpenVINO runs. A conversion that fails
    leaves torch running, with one warning."""

    def __init__(self, openvino: OpenVinoGenerator, torch_forward: GeneratorForward) -> None:
        self.openvino = openvino
        self._torch = torch_forward
        self._torch_only: set[tuple[int, int]] = set()

    def __call__(self, x: torch.Tensor, warped: torch.Tensor | None = None,
                 confidence: torch.Tensor | None = None) -> torch.Tensor:
        size = (int(x.shape[-2]), int(x.shape[-1]))
        if size not in self._torch_only:
            try:
                if self.openvino.ready(*size):
                    return self.openvino(x, warped, confidence)
                self.openvino.prepare(*size)
            except Exception as exc:  # noqa: BLE001 - any conversion failure keeps the stream on torch
                log.warning("stylize: OpenVINO could not take the generator at %dx%d (%s); staying on torch",
                            size[1], size[0], exc)
                self._torch_only.add(size)
        return self._torch(x, warped, confidence)


@dataclass(frozen=True)
class Engine:
    available: Callable[[], bool]
    build: Callable[[GeneratorRequest], GeneratorForward]
    install: str  # what to install when it is missing


ENGINES: dict[str, Engine] = {
    "torch": Engine(_torch_available, _torch_forward, "torch"),
    "openvino": Engine(_openvino_available, _openvino_forward, "openvino (pip install openvino)"),
}


def resolve_engine(requested: str, device: torch.device, *, compile: bool = False) -> str:
    """The engine ``requested`` names, or for ``auto``: OpenVINO on the CPU when it is installed
    (and torch.compile was not asked for), else torch. An engine asked for by name that is not
    installed is a one-line :class:`FilterOptionError`."""
    if requested == "auto":
        if device.type == "cpu" and not compile and ENGINES["openvino"].available():
            return "openvino"
        return "torch"
    engine = ENGINES.get(requested)
    if engine is None:
        raise FilterOptionError(f"stylize: engine must be one of auto, {', '.join(ENGINES)}; got {requested!r}")
    if not engine.available():
        raise FilterOptionError(f"stylize: engine={requested} is not installed; install {engine.install} "
                                "or use engine=auto")
    return requested


def build_forward(engine: str, request: GeneratorRequest) -> GeneratorForward:
    """The stage's generator call on ``engine`` (a name :func:`resolve_engine` returned)."""
    return ENGINES[engine].build(request)
