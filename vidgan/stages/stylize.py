"""``stylize``: paint every frame in a trained style without flicker.

Per frame, at the processing scale: estimate the motion from the previous input frame
(backward flow and its confidence), warp the previous stylized output to now, run the recurrent
generator on (frame, warped previous output, confidence), then blend the warped previous output
back in where the motion is trusted (``temporal``), upscale, and mix with the input
(``strength``). A scene cut resets the recurrence so nothing is dragged across it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vidgan.errors import FilterOptionError, VidganError
from vidgan.frame import Frame
from vidgan.graph.registry import register_filter
from vidgan.graph.stage import Stage, StageContext

if TYPE_CHECKING:
    import torch

# torch is imported when a stylize filter is built, not when the registry loads: the CLI and
# pure libavfilter chains start without it.

DEFAULT_SCALE = {"lite": 360, "full": 720}


@register_filter("stylize")
class StylizeStage(Stage):
    """Stylize a video with a recurrent CycleGAN generator (built-in or trained style)."""

    @dataclass(frozen=True)
    class Options:
        style: str = field(default="van_gogh", metadata={"help": "style name (vidgan styles) or .safetensors path"})
        strength: float = field(default=1.0, metadata={"help": "0..1 mix of stylized over original"})
        temporal: float = field(default=0.5, metadata={"help": "0..1 weight of the motion-compensated blend"})
        motion: str = field(default="dis", metadata={"help": "motion backend: dis, none"})
        scale: int = field(default=0, metadata={"help": "processing short side in px (0: preset default)"})
        preset: str = field(default="auto", metadata={"help": "auto (full on CUDA), lite or full"})

        def __post_init__(self) -> None:
            if not 0.0 <= self.strength <= 1.0:
                raise ValueError(f"strength must be in [0, 1]; got {self.strength}")
            if not 0.0 <= self.temporal <= 1.0:
                raise ValueError(f"temporal must be in [0, 1]; got {self.temporal}")
            if self.scale < 0:
                raise ValueError(f"scale (processing short side in pixels) must be >= 0; got {self.scale}")
            if self.preset not in ("auto", "lite", "full"):
                raise ValueError(f"preset must be auto, lite or full; got {self.preset!r}")

    def __init__(self, options: Options, context: StageContext) -> None:
        from vidgan.models.motion import get_motion
        from vidgan.models.scenecut import SceneCutDetector
        from vidgan.models.zoo import find_style, load_generator

        import torch

        self.options = options
        self.device = torch.device(context.device)
        entry = find_style(options.style, options.preset, prefer_full=self.device.type == "cuda")
        self.preset = entry.preset
        self.model = load_generator(entry, self.device)
        self.half = self.device.type == "cuda"
        if self.half:
            self.model = self.model.half()
        # channels-last on the CPU too: oneDNN's convolutions run about 1.6x faster in it (lite, 640x360)
        self.model = self.model.to(memory_format=torch.channels_last)
        try:
            self.motion = get_motion(options.motion)
        except VidganError as exc:
            raise FilterOptionError(f"stylize: {exc}") from None
        self.scene_cuts = SceneCutDetector()
        self.short_side = options.scale or DEFAULT_SCALE.get(self.preset, 360)
        self._previous_input: torch.Tensor | None = None
        self._previous_output: torch.Tensor | None = None

    def describe(self) -> str:
        o = self.options
        return f"stylize({o.style}, {self.preset}, motion={o.motion}, scale={self.short_side})"

    def _to_processing(self, image: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        height, width = image.shape[-2:]
        factor = self.short_side / min(height, width)
        if factor >= 1.0:
            return image
        size = (max(1, round(height * factor)), max(1, round(width * factor)))
        return F.interpolate(image, size=size, mode="area")

    def reset(self) -> None:
        self._previous_input = self._previous_output = None
        self.motion.reset()
        self.scene_cuts.reset()

    def stylize_tensor(self, image: torch.Tensor) -> torch.Tensor:
        """(1,3,H,W) in [0,1] -> stylized (1,3,H,W), continuing the recurrence from the last call."""
        import torch

        with torch.no_grad():
            return self._stylize(image)

    def _stylize(self, image: torch.Tensor) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        from vidgan import ops

        small = self._to_processing(image)
        cut = self.scene_cuts.is_cut(small)
        warped = confidence = flow = None
        if self._previous_input is not None and not cut and self._previous_input.shape == small.shape:
            estimate = self.motion.estimate(self._previous_input, small)
            flow = estimate.flow_cur_to_prev
            warped, inside = ops.warp(self._previous_output, flow, border="edge")
            confidence = estimate.confidence * inside
        elif self._previous_input is not None:
            self.motion.reset()
        net_in = (small, warped, confidence)
        if self.half:
            net_in = tuple(None if t is None else t.half().contiguous(memory_format=torch.channels_last) for t in net_in)
        try:
            styled = self.model(*net_in).float().contiguous()
        except torch.cuda.OutOfMemoryError:
            raise VidganError(
                f"CUDA out of memory stylizing {small.shape[-1]}x{small.shape[-2]} with the {self.preset} model; "
                "lower the processing size (stylize=scale=480) or use preset=lite"
            ) from None
        if warped is not None and self.options.temporal > 0:
            styled = ops.temporal_blend(styled, self._previous_output, flow, confidence, self.options.temporal)
        self._previous_input, self._previous_output = small, styled
        if styled.shape[-2:] != image.shape[-2:]:
            styled = F.interpolate(styled, size=image.shape[-2:], mode="bilinear", align_corners=False)
        if self.options.strength < 1.0:
            styled = image + self.options.strength * (styled - image)
        return styled.clamp_(0.0, 1.0)

    def process(self, frame: Frame) -> list[Frame]:
        return [frame.with_tensor(self.stylize_tensor(frame.to_tensor(self.device)))]
