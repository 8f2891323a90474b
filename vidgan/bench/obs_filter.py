"""OBS filter benchmark: what the filter costs OBS's video thread per frame, and the latency of a
stylized frame, with a real ``vidgan serve``.

Why: the filter runs on OBS's own thread, so its cost is OBS's frame budget; the anchor is NVIDIA's
RTX filter in OBS at 1-2 ms a frame. The plugin's transport (vidgan/plugins/obs/src/vidgan-client.c, the
code the filter calls in ``filter_video``) is driven by its host tool at the camera's rate:

* cost rows use the ``null`` chain, so what is timed is the filter's own work (copy into shared
  memory, signal, read replies, copy the result back), next to the two plain copies alone
  (``copies``, the floor) measured in the same process;
* latency rows run the ``lite`` stylizer and time a frame from entering the filter to its result
  first coming back out of it (the one-frame pipelining included).

    python -m vidgan.bench.obs_filter [--frames 300] [--fps 30] [--json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vidgan.plugins.obs import build as obs_plugin

COST_ROWS = [("nv12", "1280x720"), ("i420", "1280x720"), ("yuy2", "1280x720"), ("bgra", "1280x720"),
             ("nv12", "1920x1080")]
LATENCY_ROWS = [("nv12", "640x360"), ("nv12", "1280x720")]


def run_tool(tool: Path, socket_path: Path, fmt: str, size: str, frames: int, fps: float, chain: str | None) -> dict:
    args = [str(tool), "--socket", str(socket_path), "--format", fmt, "--size", size,
            "--frames", str(frames), "--fps", str(fps)]
    args += ["--chain", chain] if chain else ["--style", "van_gogh"]
    line = subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    head, status = line.split(" status=", 1)
    fields: dict = {k: float(v) for k, v in (part.split("=", 1) for part in head.split())}
    fields["status"] = status
    return fields


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vidgan-obs-bench-") as tmp:
        tool = obs_plugin.build(Path(tmp) / "build", plugin=False) / "vidgan-client-check"
        socket_path = Path(tmp) / "run" / "serve.sock"
        ready = Path(tmp) / "ready"
        server = subprocess.Popen([sys.executable, "-m", "vidgan", "serve", "--socket", str(socket_path),
                                   "--ready-file", str(ready)], stderr=subprocess.DEVNULL)
        try:
            while not ready.exists():
                time.sleep(0.1)
            cost = [(fmt, size, run_tool(tool, socket_path, fmt, size, args.frames, args.fps, "null"))
                    for fmt, size in COST_ROWS]
            latency = [(fmt, size, run_tool(tool, socket_path, fmt, size, args.frames, args.fps, None))
                       for fmt, size in LATENCY_ROWS]
        finally:
            server.terminate()
            server.wait(timeout=30)

    machine = f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} CPUs, {platform.system()}"
    if args.json:
        print(json.dumps({"machine": machine, "date": datetime.date.today().isoformat(),
                          "cost": [{"format": f, "size": s, **r} for f, s, r in cost],
                          "latency": [{"format": f, "size": s, **r} for f, s, r in latency]}, indent=2))
        return 0
    print(f"# OBS filter, {args.frames} frames at {args.fps:g} fps; {machine}; {datetime.date.today()}")
    print("\n| frame | filter ms mean | p50 | p99 | two copies alone | frames sent back |")
    print("|---|---|---|---|---|---|")
    for fmt, size, r in cost:
        print(f"| {size} {fmt} | {r['cost_ms_mean']:.2f} | {r['cost_ms_p50']:.2f} | {r['cost_ms_p99']:.2f} | "
              f"{r['copies_ms']:.2f} | {int(r['processed'])}/{int(r['frames'])} |")
    print("\n| lite van_gogh, frame | latency ms mean | max | stylized frames | filter ms mean |")
    print("|---|---|---|---|---|")
    for fmt, size, r in latency:
        print(f"| {size} {fmt} | {r['latency_ms_mean']:.0f} | {r['latency_ms_max']:.0f} | "
              f"{int(r['processed'])}/{int(r['frames'])} | {r['cost_ms_mean']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
