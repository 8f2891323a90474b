"""Style measures of several style models in one run: one row per style and preset, for docs/benchmarks.md.

``vidgan eval style PAINTINGS INPUT --styles ...`` stylizes INPUT with each model through the
real stylize stage (frames in order, so a video's recurrence is as in use), writes the frames to a
temporary folder and scores them with :func:`vidgan.eval.style.style_distance` against that style's
own paintings (``PAINTINGS/NAME``), INPUT being the unstylized reference for every ratio.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidgan.errors import EvalInputError, InputNotFoundError, OutputError
from vidgan.eval.look import NotMeasured
from vidgan.eval.style import StyleReport, SwdSettings, style_distance
from vidgan.eval.stylized import StyleColumn, open_stage, style_columns, stylize_frames

__all__ = ["StyleRow", "format_style_table", "paintings_for", "style_table"]


@dataclass(frozen=True)
class StyleRow:
    """One model's line of the table and the full report behind it."""

    style: str
    preset: str
    report: StyleReport

    @property
    def swd_ratio(self) -> float | None:
        return self.report.ratio

    @property
    def gram_ratio(self) -> float | None:
        perceptual = self.report.perceptual
        return None if isinstance(perceptual, NotMeasured) else perceptual.ratio

    @property
    def lab_output(self) -> float | None:
        colour = self.report.colour
        return None if isinstance(colour, NotMeasured) else colour.output

    @property
    def lab_input(self) -> float | None:
        colour = self.report.colour
        return None if isinstance(colour, NotMeasured) else colour.input

    @property
    def edge_correlation(self) -> float | None:
        edges = self.report.edges
        return None if isinstance(edges, NotMeasured) else edges.mean

    def to_dict(self) -> dict[str, Any]:
        return {"style": self.style, "preset": self.preset, "swd_ratio": self.swd_ratio,
                "gram_ratio": self.gram_ratio, "lab_output": self.lab_output, "lab_input": self.lab_input,
                "edge_correlation": self.edge_correlation, "report": self.report.to_dict()}


def paintings_for(paintings: Path, name: str, *, single: bool) -> Path:
    """``PAINTINGS/NAME`` when it is a folder; PAINTINGS itself when only one style is measured."""
    own = paintings / name
    if own.is_dir():
        return own
    if single:
        return paintings
    raise EvalInputError(f"no paintings for style {name!r}: {own} is not a folder "
                         f"(with several styles, PAINTINGS holds one folder per style)")


def _stylize_to_folder(column: StyleColumn, source: Path, folder: Path, *, device: str, motion: str) -> Path:
    import cv2

    from vidgan.io.frames import iter_frames

    stage = open_stage(column.entry, device, motion=motion)
    folder.mkdir(parents=True)
    frames = iter_frames(source, error=EvalInputError)
    for index, styled in enumerate(stylize_frames(stage, frames)):
        if not cv2.imwrite(str(folder / f"{index:06d}.png"), styled[..., ::-1]):
            raise OutputError(f"cannot write stylized frame {folder / f'{index:06d}.png'}")
    return folder


def style_table(
    paintings: str | os.PathLike[str], input: str | os.PathLike[str],  # noqa: A002 - the CLI's name
    styles: Sequence[str] | None = None, preset: str = "both", *,
    settings: SwdSettings = SwdSettings(), loss_net: str | os.PathLike[str] | None = None,
    device: str = "cpu", motion: str = "auto",
) -> list[StyleRow]:
    """Each model of :func:`~vidgan.eval.stylized.style_columns` run on INPUT and scored against its paintings.

    ``motion``: the stage's motion backend; ``auto`` is ``dis`` for a video and ``none`` for a
    folder of (unrelated) photos.
    """
    paintings, source = Path(paintings), Path(input)
    if not paintings.exists():
        raise InputNotFoundError(f"paintings folder {paintings} does not exist")
    if not source.exists():
        raise InputNotFoundError(f"input {source} does not exist")
    columns = style_columns(styles, preset)
    single = len({column.entry.name for column in columns}) == 1
    folders = {column.label: paintings_for(paintings, column.entry.name, single=single) for column in columns}
    if motion == "auto":
        motion = "none" if source.is_dir() else "dis"
    rows = []
    with tempfile.TemporaryDirectory(prefix="vidgan-style-table-") as work:
        for number, column in enumerate(columns):
            stylized = _stylize_to_folder(column, source, Path(work) / f"{number:02d}", device=device, motion=motion)
            report = style_distance(folders[column.label], stylized, source, settings=settings, loss_net=loss_net)
            rows.append(StyleRow(column.entry.name, column.entry.preset, report))
    return rows


def format_style_table(rows: Sequence[StyleRow]) -> str:
    """One line per model: the ratios and distances docs/benchmarks.md quotes, ``-`` where not measured."""

    def cell(value: float | None, digits: int) -> str:
        return f"{'-':>11}" if value is None else f"{value:>11.{digits}f}"

    width = max(8, *(len(row.style) for row in rows))
    lines = [f"Style measures on {rows[0].report.input_path} (see docs/eval.md); ratios are output/input, "
             "lower = closer to the paintings", "",
             f"  {'style':<{width}}{'preset':>7}{'SWD ratio':>11}{'Gram ratio':>11}{'Lab out':>11}"
             f"{'Lab in':>11}{'edge corr':>11}"]
    for row in rows:
        lines.append(f"  {row.style:<{width}}{row.preset:>7}{cell(row.swd_ratio, 3)}{cell(row.gram_ratio, 3)}"
                     f"{cell(row.lab_output, 2)}{cell(row.lab_input, 2)}{cell(row.edge_correlation, 3)}")
    reasons = {reason for row in rows for measure in (row.report.perceptual, row.report.edges)
               if isinstance(measure, NotMeasured) for reason in [measure.reason]}
    lines += [f"  not measured: {reason}" for reason in sorted(reasons)]
    s = rows[0].report.settings
    folders = dict.fromkeys(f"{row.style}={row.report.paintings_path}" for row in rows)
    lines += ["", f"paintings: {', '.join(folders)}",
              f"{s.max_frames} frames sampled, seed {s.seed}; edge corr: 1 = the input's edges kept"]
    return "\n".join(lines)
