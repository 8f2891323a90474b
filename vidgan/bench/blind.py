"""Blind two-choice comparison of two style models: pair images to judge, then a sign test of the choices.

Why: metrics reward their own objective; whether a viewer prefers model A to model B (a new
recipe to the old, ``full`` to its distilled ``lite``) is asked directly. ``make`` writes N
numbered pair images, each an input crop stylized by A and by B side by side in a seeded random
order with nothing on the image saying which is which; the key (which side is A) is written
apart from the images. A rater writes one line per pair (``7 L``); ``score`` reads the key and
the choices and tests the preference against 50% with an exact two-sided binomial (sign) test.

    python -m vidgan.bench.blind make --a STYLE[:PRESET]|FILE --b STYLE[:PRESET]|FILE --inputs FILES_OR_DIRS
                                      [--n 20] [--seed 0] --out DIR [--key FILE] [--crop 256] [--side 360]
    python -m vidgan.bench.blind score --key FILE --choices FILE [--json]

Key file (JSON): ``{"kind": "vidgan-blind-key", "format": 1, "a": {...}, "b": {...}, "seed": S,
"pairs": [{"pair": 1, "file": "pair-01.png", "a_side": "L", "input": ..., "crop": [x, y, size]}, ...]}``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vidgan.errors import EvalInputError, InputNotFoundError, OutputError, VidganError

if TYPE_CHECKING:
    from vidgan.models.zoo import StyleEntry

KEY_KIND = "vidgan-blind-key"
SIDES = ("L", "R")
GAP = 12  # px between the two sides


# -- inputs -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """One picture pairs are cut from: a photo file, or a frame of a video (read when used)."""

    path: Path
    frame: int | None = None

    @property
    def label(self) -> str:
        return str(self.path) if self.frame is None else f"{self.path} #{self.frame}"

    def read(self) -> np.ndarray:
        from vidgan.io.frames import sample_frames
        from vidgan.io.images import read_image

        if self.frame is None:
            return read_image(self.path)
        return sample_frames(self.path, VIDEO_FRAMES, error=EvalInputError)[self.frame]


VIDEO_FRAMES = 8  # evenly spaced frames a video contributes


def collect_sources(inputs: Sequence[str]) -> list[Source]:
    """Images (files, or the images directly in folders) and evenly spaced frames of videos."""
    from vidgan.io.frames import count_frames
    from vidgan.io.images import is_image, list_images

    sources: list[Source] = []
    for name in inputs:
        path = Path(name)
        if not path.exists():
            raise InputNotFoundError(f"blind: input {name} does not exist")
        if path.is_dir():
            sources += [Source(p) for p in list_images(path, error=EvalInputError)]
        elif is_image(path):
            sources.append(Source(path))
        else:
            frames = min(VIDEO_FRAMES, count_frames(path, error=EvalInputError))
            sources += [Source(path, i) for i in range(frames)]
    if not sources:
        raise EvalInputError("blind: no input images or video frames")
    return sources


# -- make -----------------------------------------------------------------------------------------
def _model(spec: str) -> StyleEntry:
    from vidgan.eval.stylized import parse_style_spec
    from vidgan.models.zoo import find_style

    return find_style(*parse_style_spec(spec))


def _describe(spec: str, entry: StyleEntry) -> dict[str, Any]:
    return {"spec": spec, "name": entry.name, "preset": entry.preset, "weights": str(entry.weights)}


def _pair_image(left: np.ndarray, right: np.ndarray, number: int) -> np.ndarray:
    """``left | right`` under a strip that says the pair's number and L / R, nothing else."""
    import cv2

    size = left.shape[0]
    strip = max(24, size // 10)
    image = np.full((strip + size, 2 * size + GAP, 3), 32, np.uint8)
    image[strip:, :size], image[strip:, size + GAP:] = left, right
    scale = strip / 40
    for text, centre in ((f"{number}", size + GAP // 2), ("L", size // 2), ("R", size + GAP + size // 2)):
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.putText(image, text, (centre - w // 2, (strip + h) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (230, 230, 230), 1, cv2.LINE_AA)
    return image


def default_key_path(out: Path) -> Path:
    """``DIR-key.json`` beside the image folder, not in it, so a rater never sees it."""
    return out.parent / f"{out.name}-key.json"


def make_pairs(a: str, b: str, inputs: Sequence[str], out: Path, *, n: int = 20, seed: int = 0,
               key: Path | None = None, crop: int = 256, side: int = 360, device: str = "cpu") -> Path:
    """Write ``n`` pair images into the new folder ``out`` and the key apart from them; returns the key path.

    Each pair: a source (the inputs in seeded shuffled rounds) shrunk to a ``side`` px short side,
    a random ``crop`` px square of it (smaller when the picture is), stylized by A and by B as a
    still through the stylize stage, A on a seeded random side.
    """
    import cv2

    from vidgan.eval.stylized import open_stage, stylize_frames
    from vidgan.io.images import fit_short_side

    if n < 1:
        raise EvalInputError(f"blind: --n must be at least 1; got {n}")
    if crop < 16 or side < crop:
        raise EvalInputError(f"blind: need 16 <= --crop <= --side; got crop {crop}, side {side}")
    out = Path(out)
    key = Path(key) if key is not None else default_key_path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"blind: output folder {out} exists and is not empty; choose a new one")
    if out.resolve() in key.resolve().parents:
        raise OutputError(f"blind: key file {key} must not be inside the image folder {out}")
    if key.exists():
        raise OutputError(f"blind: key file {key} exists; choose another (--key) or remove it")
    entries = {"a": _model(a), "b": _model(b)}
    models = {"a": _describe(a, entries["a"]), "b": _describe(b, entries["b"])}
    sources = collect_sources(inputs)
    stages = {which: open_stage(entry, device, motion="none") for which, entry in entries.items()}
    rng = np.random.default_rng(seed)
    order: list[int] = []
    while len(order) < n:
        order += rng.permutation(len(sources)).tolist()
    digits = len(str(n))
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    key_partial = key.parent / f".{key.name}.partial-{os.getpid()}"
    pairs: list[dict[str, Any]] = []
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial.mkdir()
        for number, index in enumerate(order[:n], start=1):
            source = sources[index]
            picture = fit_short_side(source.read(), side)
            height, width = picture.shape[:2]
            size = min(crop, height, width)
            y, x = int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))
            window = picture[y:y + size, x:x + size]
            styled = {which: next(stylize_frames(stage, [window])) for which, stage in stages.items()}
            a_side = SIDES[int(rng.integers(0, 2))]
            left, right = (styled["a"], styled["b"]) if a_side == "L" else (styled["b"], styled["a"])
            name = f"pair-{number:0{digits}d}.png"
            if not cv2.imwrite(str(partial / name), _pair_image(left, right, number)[..., ::-1]):
                raise OutputError(f"blind: cannot write {partial / name}")
            pairs.append({"pair": number, "file": name, "a_side": a_side, "input": source.label,
                          "crop": [x, y, size]})
        record = {"kind": KEY_KIND, "format": 1, "a": models["a"], "b": models["b"], "seed": seed, "n": n,
                  "images": str(out), "crop": crop, "side": side, "pairs": pairs}
        key.parent.mkdir(parents=True, exist_ok=True)
        key_partial.write_text(json.dumps(record, indent=1) + "\n")
        if out.exists():
            out.rmdir()
        os.replace(partial, out)
        os.replace(key_partial, key)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        key_partial.unlink(missing_ok=True)
        raise
    return key


# -- score ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlindScore:
    """The choices of one rater against the key."""

    pairs: int
    a_preferred: int

    @property
    def b_preferred(self) -> int:
        return self.pairs - self.a_preferred

    @property
    def a_share(self) -> float:
        return self.a_preferred / self.pairs

    @property
    def p_value(self) -> float:
        return sign_test(self.a_preferred, self.pairs)

    def to_dict(self) -> dict[str, Any]:
        return {"pairs": self.pairs, "a_preferred": self.a_preferred, "b_preferred": self.b_preferred,
                "a_share": self.a_share, "p_value": self.p_value}


def sign_test(successes: int, trials: int) -> float:
    """Exact two-sided binomial test against p = 0.5: the chance of a split at least this uneven."""
    if trials <= 0:
        return 1.0
    tail = min(successes, trials - successes)
    below = sum(math.comb(trials, i) for i in range(tail + 1))
    return min(1.0, 2 * below / 2 ** trials)


def read_key(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"blind: key file {path} does not exist")
    try:
        key = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalInputError(f"blind: key file {path} is not JSON: {exc}") from None
    if not isinstance(key, dict) or key.get("kind") != KEY_KIND or not isinstance(key.get("pairs"), list):
        raise EvalInputError(f"blind: {path} is not a blind-comparison key (made by: blind make)")
    return key


def read_choices(path: Path, pairs: int) -> dict[int, str]:
    """``{pair: 'L'|'R'}`` from lines ``NUMBER L|R`` (blank lines and ``#`` comments skipped); every pair once."""
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"blind: choices file {path} does not exist")
    choices: dict[int, str] = {}
    for line_number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        fields = text.replace(",", " ").split()
        if len(fields) != 2 or not fields[0].isdigit() or fields[1].upper() not in SIDES:
            raise EvalInputError(f"blind: {path} line {line_number}: expected 'NUMBER L' or 'NUMBER R', got {text!r}")
        number, choice = int(fields[0]), fields[1].upper()
        if not 1 <= number <= pairs:
            raise EvalInputError(f"blind: {path} line {line_number}: pair {number} is not in the key (1..{pairs})")
        if number in choices:
            raise EvalInputError(f"blind: {path} line {line_number}: pair {number} chosen twice")
        choices[number] = choice
    if len(choices) != pairs:
        missing = [str(i) for i in range(1, pairs + 1) if i not in choices]
        shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
        raise EvalInputError(f"blind: {path} has {len(choices)} choices but the key has {pairs} pairs "
                             f"(missing: {shown})")
    return choices


def score(key_path: Path, choices_path: Path) -> tuple[dict[str, Any], BlindScore]:
    """The key and the rater's score against it."""
    key = read_key(key_path)
    sides = {int(p["pair"]): p["a_side"] for p in key["pairs"]}
    choices = read_choices(choices_path, len(sides))
    return key, BlindScore(pairs=len(sides), a_preferred=sum(choices[i] == sides[i] for i in sides))


def format_score(key: dict[str, Any], result: BlindScore) -> str:
    def model(m: dict[str, Any]) -> str:
        return f"{m.get('name')} {m.get('preset')} ({m.get('spec')})"

    return "\n".join([
        f"Blind two-choice comparison: A = {model(key['a'])}, B = {model(key['b'])}; seed {key.get('seed')}",
        "",
        f"  {'pairs':>6}{'A preferred':>13}{'B preferred':>13}{'A share':>9}{'p (sign test)':>15}",
        f"  {result.pairs:>6}{result.a_preferred:>13}{result.b_preferred:>13}{100 * result.a_share:>8.1f}%"
        f"{result.p_value:>15.4f}",
        "",
        "p: exact two-sided binomial test of the A share against 50% (one rater, pairs independent)",
    ])


# -- command line ---------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vidgan.bench.blind", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    make = sub.add_parser("make", help="write N blind pair images and their key")
    make.add_argument("--a", required=True, metavar="STYLE", help="model A: style name, NAME:lite|full, or .safetensors")
    make.add_argument("--b", required=True, metavar="STYLE", help="model B, as --a")
    make.add_argument("--inputs", nargs="+", required=True, help="photos, folders of photos, videos")
    make.add_argument("--n", type=int, default=20, help="pairs (default 20)")
    make.add_argument("--seed", type=int, default=0, help="seed of sources, crops and sides (default 0)")
    make.add_argument("--out", required=True, help="new folder for the pair images")
    make.add_argument("--key", default=None, help="key file (default: OUT-key.json beside OUT)")
    make.add_argument("--crop", type=int, default=256, help="square crop side in px (default 256)")
    make.add_argument("--side", type=int, default=360, help="short side inputs are shrunk to first (default 360)")
    make.add_argument("--device", default="cpu")
    scoring = sub.add_parser("score", help="score a rater's choices against the key")
    scoring.add_argument("--key", required=True, help="key file written by make")
    scoring.add_argument("--choices", required=True, help="text file, one 'NUMBER L|R' line per pair")
    scoring.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.action == "make":
            key = make_pairs(args.a, args.b, args.inputs, Path(args.out), n=args.n, seed=args.seed,
                             key=None if args.key is None else Path(args.key), crop=args.crop, side=args.side,
                             device=args.device)
            print(f"wrote {args.n} pairs to {args.out}; key (keep it from the rater): {key}")
            return 0
        record, result = score(Path(args.key), Path(args.choices))
        print(json.dumps({"a": record["a"], "b": record["b"], **result.to_dict()}) if args.json
              else format_score(record, result))
        return 0
    except VidganError as exc:
        print(f"vidgan: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
