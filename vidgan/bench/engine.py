"""Engine benchmark: vidgan ``run -vf null`` against the ``ffmpeg`` CLI doing the same transcode.

Both decode the same 720p H.264 clip (with AAC audio) and encode it with libx264 at the same
preset and CRF, copying the audio; runs alternate between the two and the median wall time of
each is reported, with the throughput ratio measured in this one run.

    python -m vidgan.bench.engine [--seconds 10] [--preset veryfast] [--crf 23] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_clip(path: Path, seconds: int, size: str, fps: int) -> None:
    """Busy synthetic 720p content (moving pattern + film grain) so the encoder has real work."""
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "medium", "-crf", "20",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
    )


def frame_count(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.demux(video=0) if _.size)


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--crf", default="23")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        print("ffmpeg is not installed; it is the reference this benchmark compares with", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        make_clip(clip, args.seconds, args.size, args.fps)
        frames = frame_count(clip)
        encode = ["-c:v", "libx264", "-preset", args.preset, "-crf", args.crf]
        commands = {
            "ffmpeg CLI": ["ffmpeg", "-v", "error", "-y", "-i", str(clip), *encode, "-c:a", "copy", str(Path(tmp) / "ff.mp4")],
            "vidgan run -vf null": [
                sys.executable, "-m", "vidgan", "run", str(clip), "-o", str(Path(tmp) / "vg.mp4"),
                "-vf", "null", *encode, "-y", "-q",
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        timed(commands["ffmpeg CLI"])  # warm the page cache and the binaries
        for _ in range(args.repeat):
            for name, command in commands.items():
                times[name].append(timed(command))

    reference = statistics.median(times["ffmpeg CLI"])
    print(f"engine benchmark: {frames} frames {args.size} H.264 -> libx264 preset={args.preset} crf={args.crf}, audio copied")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU threads, {platform.platform()}; median of {args.repeat}")
    print(f"{'pipeline':24} {'median s':>9} {'min s':>7} {'max s':>7} {'fps':>7} {'vs ffmpeg':>10}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"{name:24} {median:9.2f} {min(samples):7.2f} {max(samples):7.2f} "
            f"{frames / median:7.1f} {reference / median:9.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
