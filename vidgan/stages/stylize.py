"""``stylize``: paint every frame in a trained style without flicker.

Per frame, at the processing scale: estimate the motion from the previous input frame
(backward flow and its confidence), warp the previous stylized output to now, run the recurrent
generator on (frame, warped previous output, confidence), then blend the warped previous output
back in where the motion is trusted (``temporal``), upscale, and mix with the input
(``strength``). A scene cut resets the recurrence so nothing is dragged across it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from vidgan.device import Precision, resolve_precision
from vidgan.errors import FilterOptionError, VidganError
from vidgan.frame import Frame
from vidgan.graph.registry import register_filter
from vidgan.graph.spec import FilterCall
from vidgan.graph.stage import Stage, StageContext
from vidgan.models.flow import FLOW_QUALITIES, DisPreset
from vidgan.options import check_options, create_options, live_option_names, option, options_as_filter_args
from vidgan.stages.stylize_engine import EngineName, GeneratorForward, GeneratorRequest, build_forward, resolve_engine

if TYPE_CHECKING:
    import torch

    from vidgan.models.motion import MotionEstimate

# torch is imported when a stylize filter is built, not when the registry loads: the CLI and
# pure libavfilter chains start without it.

#: Processing short side of both presets: the short side their training images are kept at
#: (``image_side``), so strokes come out at the size they were learned and measured at. At 720 the
#: full preset's strokes were half as large, 4x as slow, and flickered 1.9x as much on a 720p clip
#: (docs/benchmarks.md); ``scale=`` still asks for another.
DEFAULT_SCALE = 360
#: motion=dis quality -> (OpenCV DIS preset, short side DIS works at): the shared table.
FLOW_PRESETS = FLOW_QUALITIES
FlowPreset = DisPreset
#: What live front ends (OBS via serve, ``vidgan live``) run under the user's live options: DIS's
#: fast preset, which keeps up with a camera on a CPU core.
LIVE_SETTING: dict[str, Any] = {"flow": "fast"}


@register_filter("stylize")
class StylizeStage(Stage):
    """Stylize a video with a recurrent CycleGAN generator (built-in or trained style)."""

    @dataclass(frozen=True)
    class Options:
        style: str = option("van_gogh", live=True, help="style name (vidgan styles) or .safetensors path")
        strength: float = option(1.0, min=0.0, max=1.0, live=True, help="0..1 mix of stylized over original")
        temporal: float = option(0.9, min=0.0, max=1.0, live=True,
                                 help="0..1 weight of the motion-compensated blend")
        photometric: float = option(0.02, min=0.0, max=1.0, help=(
            "motion=dis: also trust the motion where the warped previous frame matches this one within "
            "this mean grey-level difference (0..1 of full scale; 0: the forward-backward check alone)"))
        motion: str = option("dis", help="motion backend: dis, none")
        flow: FlowPreset = option("medium", help="motion=dis quality: fast (live) or medium")
        scale: int = option(0, min=0, live=True, help="processing short side in px (0: preset default)")
        preset: Literal["auto", "lite", "full"] = option("auto", help=(
            "auto (full where the style has it, for files and on CUDA; lite live on the CPU), lite or full"))
        precision: Precision = option("auto", help=(
            "auto (fp16 on CUDA; bf16 on CPUs with native bf16, else fp32), fp32, bf16 or fp16 (CUDA)"))
        compile: bool = option(False, help="torch.compile the generator (slow first frame; engine=torch)")
        # auto by default: OpenVINO runs the generator 1.4-1.7x faster than torch on the CPU (what
        # both presets' frame-rate goals need). It converts the generator on the first frame of each
        # new size (2-5 s, once: the result is cached on disk); a file waits for it, a live stream
        # runs torch meanwhile.
        engine: EngineName = option("auto", help=(
            "what runs the generator: auto (OpenVINO on the CPU when installed, else torch), torch, "
            "or openvino (converts once per frame size, cached on disk)"))
        overlap: Literal["auto", "0", "1"] = option("auto", help=(
            "estimate frame t+1's motion while frame t is stylized (one frame of delay): "
            "auto (on CUDA for files, off live and on the CPU), 1 or 0"))

        def __post_init__(self) -> None:
            check_options(self)

    def __init__(self, options: Options, context: StageContext) -> None:
        import torch

        from vidgan.models.motion import get_motion
        from vidgan.models.scenecut import SceneCutDetector
        from vidgan.models.zoo import find_style, generator_margin, load_generator

        self.options = options
        self.device = torch.device(context.device)
        # Files want the quality preset; a live stream on the CPU needs the one that keeps up.
        entry = find_style(options.style, options.preset,
                           prefer_full=not context.realtime or self.device.type == "cuda")
        self.preset = entry.preset
        self.margin = generator_margin(entry.card)
        self.model = load_generator(entry, self.device)
        self.dtype = resolve_precision(options.precision, self.device)
        if self.device.type == "cuda":
            self.model = self.model.to(self.dtype)
        # channels-last on the CPU too: oneDNN's convolutions run about 1.6x faster in it (lite, 640x360)
        self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # stubs lack memory_format
        self.engine = resolve_engine(options.engine, self.device, compile=options.compile)
        self._forward: GeneratorForward = build_forward(
            self.engine, GeneratorRequest(self.model, self.device, self.dtype, options.compile, context.realtime))
        try:
            flow_options: dict[str, object] = {}
            if options.motion == "dis":
                dis_preset, short_side = FLOW_PRESETS[options.flow]
                flow_options = {"preset": dis_preset, "max_short_side": short_side,
                                "photometric": options.photometric}
            self.motion = get_motion(options.motion, **flow_options)
        except VidganError as exc:
            raise FilterOptionError(f"stylize: {exc}") from None
        self.scene_cuts = SceneCutDetector()
        self.short_side = options.scale or DEFAULT_SCALE
        self._previous_input: torch.Tensor | None = None
        self._previous_output: torch.Tensor | None = None
        # auto: on CUDA, where the generator runs on the GPU and DIS on a CPU core, so the two overlap.
        # On a 2-core CPU both want the same cores: 90 frames at 640x360 took 9.8-10.9 s either way.
        self.overlap = options.overlap == "1" or (
            options.overlap == "auto" and not context.realtime and self.device.type == "cuda")
        # The frame held back while its motion is estimated on a worker thread (overlap only).
        self._held: tuple[Frame, torch.Tensor, torch.Tensor, Callable[[], MotionEstimate | None]] | None = None
        self._motion_thread = ThreadPoolExecutor(1, thread_name_prefix="vidgan-motion") if self.overlap else None

    def describe(self) -> str:
        o = self.options
        flow = f"/{o.flow}" if o.motion == "dis" else ""
        return f"stylize({o.style}, {self.preset}, motion={o.motion}{flow}, scale={self.short_side}, {self.engine})"

    def _to_processing(self, image: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        height, width = image.shape[-2:]
        factor = self.short_side / min(height, width)
        if factor >= 1.0:
            return image
        size = (max(1, round(height * factor)), max(1, round(width * factor)))
        return F.interpolate(image, size=size, mode="area")

    def reset(self) -> None:
        if self._held is not None:
            self._held[3]()  # let a running estimate finish before the motion state is reset
        self._held = None
        self._previous_input = self._previous_output = None
        self.motion.reset()
        self.scene_cuts.reset()

    def stylize_tensor(self, image: torch.Tensor) -> torch.Tensor:
        """(1,3,H,W) in [0,1] -> stylized (1,3,H,W), continuing the recurrence from the last call."""
        import torch

        with torch.no_grad():
            return self._stylize(image)

    def _start_motion(self, small: torch.Tensor) -> Callable[[], MotionEstimate | None]:
        """Begin estimating ``small``'s motion from the previous input; returns how to get the result.
        Scene cuts and size changes reset the motion state here, on the caller's thread, when no
        estimate is running."""
        import torch

        previous, self._previous_input = self._previous_input, small
        cut = self.scene_cuts.is_cut(small)
        if previous is None:
            return lambda: None
        if cut or previous.shape != small.shape:
            self.motion.reset()
            return lambda: None

        def estimate() -> MotionEstimate:
            with torch.no_grad():  # grad mode is per thread
                return self.motion.estimate(previous, small)

        if self._motion_thread is None:
            result = estimate()
            return lambda: result
        future = self._motion_thread.submit(estimate)
        return future.result

    def _generate(self, image: torch.Tensor, small: torch.Tensor, estimate: MotionEstimate | None) -> torch.Tensor:
        import torch.nn.functional as F

        previous = self._previous_output
        warped, confidence = self._warp_previous(previous, estimate)
        styled = self._run_generator(small, warped, confidence)
        styled = self._blend_previous(styled, previous, estimate)
        self._previous_output = styled
        if styled.shape[-2:] != image.shape[-2:]:
            styled = F.interpolate(styled, size=image.shape[-2:], mode="bilinear", align_corners=False)
        if self.options.strength < 1.0:
            styled = image + self.options.strength * (styled - image)
        return styled.clamp_(0.0, 1.0)

    @staticmethod
    def _warp_previous(
        previous: torch.Tensor | None, estimate: MotionEstimate | None
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The generator's recurrent inputs: the previous output warped to now, and the confidence in it."""
        from vidgan import ops

        if previous is None or estimate is None:
            return None, None
        warped, inside = ops.warp(previous, estimate.flow_cur_to_prev, border="edge")
        return warped, estimate.confidence * inside

    def _run_generator(
        self, small: torch.Tensor, warped: torch.Tensor | None, confidence: torch.Tensor | None
    ) -> torch.Tensor:
        """The generator at the stage's precision; float32 out."""
        import torch

        net_in: tuple[torch.Tensor | None, ...] = tuple(
            None if t is None else _reflect_margin(t, self.margin) for t in (small, warped, confidence))
        if self.device.type == "cuda" and self.dtype != torch.float32:
            net_in = tuple(
                None if t is None else t.to(self.dtype).contiguous(memory_format=torch.channels_last) for t in net_in
            )
        try:
            styled = self._forward(*net_in).float()
            if any(self.margin):
                top, _, _, left = self.margin
                styled = styled[..., top : top + small.shape[-2], left : left + small.shape[-1]]
            return styled.contiguous()
        except torch.cuda.OutOfMemoryError:
            raise VidganError(
                f"CUDA out of memory stylizing {small.shape[-1]}x{small.shape[-2]} with the {self.preset} model; "
                "lower the processing size (stylize=scale=480) or use preset=lite"
            ) from None

    def _blend_previous(
        self, styled: torch.Tensor, previous: torch.Tensor | None, estimate: MotionEstimate | None
    ) -> torch.Tensor:
        """The previous output, warped to now, blended in where the motion is trusted (``temporal``)."""
        from vidgan import ops

        if previous is None or estimate is None or self.options.temporal == 0:
            return styled
        return ops.temporal_blend(styled, previous, estimate.flow_cur_to_prev, estimate.confidence,
                                  self.options.temporal)

    def _stylize(self, image: torch.Tensor) -> torch.Tensor:
        small = self._to_processing(image)
        return self._generate(image, small, self._start_motion(small)())

    def process(self, frame: Frame) -> list[Frame]:
        import torch

        image = frame.to_tensor(self.device)
        if not self.overlap:
            return [frame.with_tensor(self.stylize_tensor(image))]
        with torch.no_grad():
            small = self._to_processing(image)
            out: list[Frame] = []
            if self._held is not None:
                # The held frame's motion has been estimated while the last generator ran; start this
                # frame's now, so it runs while the held frame is stylized.
                held_frame, held_image, held_small, held_motion = self._held
                estimate = held_motion()
                self._held = (frame, image, small, self._start_motion(small))
                out.append(held_frame.with_tensor(self._generate(held_image, held_small, estimate)))
            else:
                self._held = (frame, image, small, self._start_motion(small))
            return out

    def flush(self) -> list[Frame]:
        import torch

        if self._held is None:
            return []
        held_frame, held_image, held_small, held_motion = self._held
        self._held = None
        with torch.no_grad():
            return [held_frame.with_tensor(self._generate(held_image, held_small, held_motion()))]



def live_options(**values: Any) -> StylizeStage.Options:
    """The stylizer as live front ends run it: the user's values (the live options) over
    :data:`LIVE_SETTING`; a value the options refuse raises :class:`FilterOptionError`."""
    return create_options("stylize", StylizeStage.Options, {**LIVE_SETTING, **values})


def live_chain(options: StylizeStage.Options | None = None) -> str:
    """The ``-vf`` chain of a live stylizer (:func:`live_options`); the live options are always
    spelled out, so a log line says what the user's controls were set to."""
    options = live_options() if options is None else options
    return str(FilterCall("stylize", options_as_filter_args(options, always=live_option_names(type(options)))))


def _reflect_margin(tensor: torch.Tensor, margin: tuple[int, int, int, int]) -> torch.Tensor:
    """``tensor`` (N, C, H, W) extended by its reflection (replication where a side is too short to reflect)."""
    import torch.nn.functional as F

    top, right, bottom, left = margin
    if not any(margin):
        return tensor
    height, width = tensor.shape[-2:]
    mode = "reflect" if max(top, bottom) < height and max(left, right) < width else "replicate"
    return F.pad(tensor, (left, right, top, bottom), mode=mode)
