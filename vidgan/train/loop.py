"""The one training loop every recipe runs on: progress, metrics, checkpoints, exact resume, export.

A :class:`Recipe` knows its data, networks and losses; :func:`run` does everything around them the
same way for every model kind:

- a progress bar (:mod:`vidgan.progress`: silent off a terminal, JSON lines with ``--json``);
- ``metrics.jsonl`` in the run folder, and TensorBoard scalars and sample images when the optional
  ``tensorboard`` package is installed;
- a divergence check: a non-finite metric stops the run with a one-line
  :class:`~vidgan.errors.TrainingDivergedError` naming the step, and the last checkpoint is kept;
- a checkpoint every ``checkpoint_every`` steps and at the end (:mod:`vidgan.train.checkpoint`),
  holding the step, the recipe's state and every random state, so a resumed run continues
  bit for bit where a straight one would be;
- the export: weights and model card written through temporary files (:mod:`vidgan.models.cards`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch

from vidgan.errors import TrainingDataError, TrainingDivergedError
from vidgan.progress import Progress, ProgressMode
from vidgan.train.checkpoint import CHECKPOINT_NAME, machine_description, read_checkpoint, write_checkpoint

log = logging.getLogger("vidgan")


class RunConfig(Protocol):
    """The fields of a training config the loop reads (every training config has them); a dataclass,
    written as JSON beside each checkpoint."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    @property
    def steps(self) -> int: ...

    @property
    def checkpoint_every(self) -> int: ...

    @property
    def out(self) -> str: ...


@dataclass
class Sample:
    """What a recipe shows now and then: metrics (logged) and images, (3, H, W) in [0, 1]."""

    metrics: dict[str, float] = field(default_factory=dict)
    images: dict[str, torch.Tensor] = field(default_factory=dict)


@runtime_checkable
class Recipe(Protocol):
    """One kind of training. ``rng`` is the recipe's only NumPy generator (checkpointed by the loop);
    torch's global generators are checkpointed too. ``sample() -> Sample`` is optional."""

    name: str
    device: torch.device
    rng: np.random.Generator

    def setup(self) -> None:
        """Load the data and build the networks and optimisers (called once, before any step)."""

    def step(self, step: int) -> dict[str, float]:
        """Train one step (``step`` counts from 0); returns its metrics."""

    def state_dict(self) -> dict[str, Any]:
        """Everything but the random states needed to continue exactly (tensors and plain values)."""

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def export(self, folder: Path, *, training: dict[str, Any]) -> Path:
        """Write the finished model with :func:`vidgan.models.cards.save_model`; ``training`` is the
        loop's part of the card's ``training`` record (steps, time, machine, resolved config)."""


def autocast(device: torch.device, dtype: torch.dtype) -> contextlib.AbstractContextManager:
    """Mixed precision in ``dtype`` (from :func:`vidgan.device.training_dtype`), or nothing for fp32."""
    return torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32)


def _random_states(recipe: Recipe) -> dict[str, Any]:
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": json.dumps(recipe.rng.bit_generator.state),
        "python": json.dumps(random.getstate()),
    }
    if recipe.device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(recipe.device)
    return states


def _restore_random_states(recipe: Recipe, states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"].cpu())
    recipe.rng.bit_generator.state = json.loads(states["numpy"])
    version, internal, gauss = json.loads(states["python"])
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in states and recipe.device.type == "cuda":
        torch.cuda.set_rng_state(states["cuda"].cpu(), recipe.device)


def save_checkpoint(recipe: Recipe, config: RunConfig, step: int, cpu_seconds: float = 0.0) -> Path:
    """The run's checkpoint after ``step`` steps, with the resolved config beside it. ``cpu_seconds``
    is the processor time of every session so far, for the model card."""
    payload = {"step": step, "config": json.dumps(dataclasses.asdict(config)), "recipe": recipe.state_dict(),
               "random": _random_states(recipe), "cpu_seconds": cpu_seconds}
    return write_checkpoint(payload, Path(config.out), config)


def load_checkpoint(recipe: Recipe, config: RunConfig) -> tuple[int, float] | None:
    """Restore the run's checkpoint into ``recipe``; the step it was taken at and the CPU seconds
    spent to get there, or None without one."""
    path = Path(config.out) / CHECKPOINT_NAME
    payload = read_checkpoint(path, recipe.device)
    if payload is None:
        return None
    if "recipe" not in payload:
        raise TrainingDataError(f"{path} was written by an older vidgan and cannot be resumed; train into a new --out")
    recipe.load_state_dict(payload["recipe"])
    _restore_random_states(recipe, payload["random"])
    step = int(payload["step"])
    log.info("resumed %s at step %d", path, step)
    return step, float(payload.get("cpu_seconds", 0.0))


class MetricsLog:
    """``metrics.jsonl`` always; TensorBoard too when it is installed (the optional ``train`` extra)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._writer: Any = None

    def _tensorboard(self) -> Any:
        if self._writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # not installed: JSON lines only
                self._writer = False
            else:
                self._writer = SummaryWriter(str(self.out / "tensorboard"))
        return self._writer or None

    def scalars(self, step: int, values: dict[str, float]) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        record = {"step": step, **{k: round(v, 6) for k, v in values.items()}}
        with open(self.out / "metrics.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")
        writer = self._tensorboard()
        if writer is not None:
            for key, value in values.items():
                writer.add_scalar(key, value, step)

    def images(self, step: int, images: dict[str, torch.Tensor]) -> None:
        """``samples/stepNNNNNN.png`` for the first image (``..._KEY.png`` for any others)."""
        import cv2

        folder = self.out / "samples"
        folder.mkdir(parents=True, exist_ok=True)
        writer = self._tensorboard()
        for index, (key, image) in enumerate(images.items()):
            image = image.detach().float().clamp(0, 1).cpu()
            pixels = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            name = f"step{step:06d}.png" if index == 0 else f"step{step:06d}_{key}.png"
            cv2.imwrite(str(folder / name), np.ascontiguousarray(pixels[..., ::-1]))
            if writer is not None:
                writer.add_image(key, image, step)

    def close(self) -> None:
        if self._writer:
            self._writer.close()


def _check_finite(values: dict[str, float], step: int, checkpoint: int | None, out: Path) -> None:
    bad = [key for key, value in values.items() if not math.isfinite(value)]
    if bad:
        kept = (f"the checkpoint of step {checkpoint} in {out} is kept" if checkpoint is not None
                else "no checkpoint was written yet")
        raise TrainingDivergedError(f"training diverged at step {step}: non-finite {', '.join(bad)}; {kept}")


@contextlib.contextmanager
def _meter(total: int, done: int, mode: ProgressMode, desc: str) -> Iterator[Progress]:
    meter = Progress(total, mode=mode, desc=desc, unit="step")
    meter.update(done)
    try:
        yield meter
    finally:
        meter.close()


def run(recipe: Recipe, config: RunConfig, *, progress: ProgressMode = "auto", resume: bool = True) -> Path:
    """Train ``recipe`` to ``config.steps`` (continuing its checkpoint when ``resume``); returns the
    exported weights' path."""
    recipe.setup()
    out = Path(config.out)
    step, cpu_before = (load_checkpoint(recipe, config) if resume else None) or (0, 0.0)
    checkpointed: int | None = step or None
    sample_every = getattr(config, "sample_every", 0)
    metrics = MetricsLog(out)
    started, cpu_started = time.monotonic(), time.process_time()

    def cpu_seconds() -> float:  # every thread of this process, plus the sessions before it
        return cpu_before + time.process_time() - cpu_started

    try:
        with _meter(config.steps, step, progress, f"train {recipe.name}") as meter:
            while step < config.steps:
                values = recipe.step(step)
                step += 1
                _check_finite(values, step, checkpointed, out)
                metrics.scalars(step, values)
                meter.update(step)
                sample = getattr(recipe, "sample", None)
                if sample is not None and sample_every and (step % sample_every == 0 or step == config.steps):
                    shown: Sample = sample()
                    if shown.metrics:
                        _check_finite(shown.metrics, step, checkpointed, out)
                        metrics.scalars(step, shown.metrics)
                    if shown.images:
                        metrics.images(step, shown.images)
                if step % config.checkpoint_every == 0:
                    save_checkpoint(recipe, config, step, cpu_seconds())
                    checkpointed = step
        save_checkpoint(recipe, config, step, cpu_seconds())
    finally:
        metrics.close()
    training = {"steps": step, "cpu_hours": round(cpu_seconds() / 3600, 7),
                "wall_seconds_last_session": round(time.monotonic() - started, 1),
                "machine": machine_description(recipe.device), "config": dataclasses.asdict(config)}
    return recipe.export(out, training=training)


__all__ = ["MetricsLog", "Recipe", "RunConfig", "Sample", "autocast", "load_checkpoint", "run", "save_checkpoint"]
