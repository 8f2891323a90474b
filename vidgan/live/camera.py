"""``vidgan live``: the live pipeline on a camera without OBS, to a preview window, a virtual camera
and/or a recording.

A capture thread keeps only the newest camera frame; the pipeline always takes the newest one, so
when the model is slower than the camera, frames are dropped at the input instead of queueing up
latency. A video file stands in for a camera (paced at its own timestamps), which is how this is
tested without a webcam.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidgan.errors import LiveError
from vidgan.frame import Frame
from vidgan.graph.pipeline import Pipeline
from vidgan.graph.stage import StageContext


@dataclass
class LiveReport:
    captured: int = 0
    processed: int = 0
    dropped: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else 0.0

    def latency_ms(self, percentile: float) -> float:
        return float(np.percentile(self.latencies_ms, percentile)) if self.latencies_ms else float("nan")

    def summary(self) -> str:
        return (
            f"{self.processed} frames shown of {self.captured} captured ({self.dropped} dropped) in {self.seconds:.1f} s, "
            f"{self.fps:.1f} fps; camera-to-output latency median {self.latency_ms(50):.0f} ms, "
            f"p95 {self.latency_ms(95):.0f} ms"
        )


def camera_url(spec: str) -> tuple[str, str | None, bool]:
    """(url, libav input format, paced like a camera) for INDEX, a device path or a video file."""
    if spec.isdigit():
        if sys.platform == "darwin":
            return spec, "avfoundation", False
        if sys.platform.startswith("win"):
            raise LiveError("camera indexes need a device name on Windows: --camera 'video=NAME' (dshow)")
        spec = f"/dev/video{spec}"
    if spec.startswith("/dev/video"):
        if not Path(spec).exists():
            raise LiveError(f"camera {spec} does not exist (no webcam, or no permission to see it)")
        return spec, "v4l2", False
    if spec.startswith("video="):
        return spec, "dshow", False
    return spec, None, True


class LatestFrame:
    """A one-frame mailbox: the capture thread overwrites, the pipeline takes the newest."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: tuple[Frame, float] | None = None
        self.captured = 0
        self.dropped = 0
        self.finished = False
        self.error: BaseException | None = None

    def put(self, frame: Frame, captured_at: float) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = (frame, captured_at)
            self.captured += 1
            self._cond.notify()

    def finish(self, error: BaseException | None = None) -> None:
        with self._cond:
            self.finished, self.error = True, error
            self._cond.notify()

    def take(self, timeout: float = 0.5) -> tuple[Frame, float] | None:
        with self._cond:
            if self._item is None and not self.finished:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item


def _capture(source, mailbox: LatestFrame, stop: threading.Event, paced: bool) -> None:
    try:
        start = time.monotonic()
        first: float | None = None
        for av_frame in source.container.decode(source.video):
            if stop.is_set():
                break
            frame = Frame.from_av(av_frame)
            if paced and frame.seconds is not None:  # a file plays at its own speed, like a camera
                first = frame.seconds if first is None else first
                delay = start + (frame.seconds - first) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            mailbox.put(frame, time.monotonic())
        mailbox.finish()
    except Exception as exc:  # reported by the main loop, which owns the user-facing error
        mailbox.finish(exc)


class PreviewWindow:
    """A pygame window; closing it (or Esc) ends the session."""

    def __init__(self, title: str) -> None:
        try:
            import pygame
        except ImportError:
            raise LiveError("--preview needs pygame: pip install 'vidgan[live]'") from None
        self.pygame = pygame
        pygame.display.init()
        pygame.display.set_caption(title)
        self.screen: pygame.Surface | None = None
        self.closed = False

    def show(self, rgb: np.ndarray) -> None:
        pygame = self.pygame
        height, width = rgb.shape[:2]
        if self.screen is None or self.screen.get_size() != (width, height):
            self.screen = pygame.display.set_mode((width, height))
        surface = pygame.image.frombuffer(rgb.tobytes(), (width, height), "RGB")
        self.screen.blit(surface, (0, 0))
        pygame.display.flip()
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                self.closed = True

    def close(self) -> None:
        self.pygame.display.quit()


def _virtual_camera_class():
    try:
        import pyvirtualcam
    except ImportError:
        raise LiveError("--virtual-cam needs pyvirtualcam: pip install 'vidgan[live]'") from None
    return pyvirtualcam.Camera


class VirtualCamera:
    """pyvirtualcam's camera (v4l2loopback on Linux, OBS's virtual camera on Windows/macOS)."""

    def __init__(self, width: int, height: int, fps: float) -> None:
        camera_class = _virtual_camera_class()
        try:
            self.camera = camera_class(width=width, height=height, fps=fps)
        except Exception as exc:  # pyvirtualcam raises RuntimeError with its own explanation
            raise LiveError(f"cannot open a virtual camera: {' '.join(str(exc).split())}") from None
        self.size = (width, height)

    def send(self, rgb: np.ndarray) -> None:
        if rgb.shape[1::-1] != self.size:
            raise LiveError(f"virtual camera is {self.size[0]}x{self.size[1]}; the chain changed the frame size")
        self.camera.send(np.ascontiguousarray(rgb))

    def close(self) -> None:
        self.camera.close()


def run_live(
    camera: str,
    chain: str,
    *,
    device: str = "cpu",
    preview: bool = False,
    virtual_cam: bool = False,
    record: str | Path | None = None,
    overwrite: bool = False,
    max_frames: int | None = None,
    seconds: float | None = None,
) -> LiveReport:
    """Run until the camera ends, the window closes, Ctrl-C, ``max_frames`` or ``seconds``."""
    from vidgan.io.encode import EncodeOptions, VideoSink
    from vidgan.io.source import VideoSource

    url, input_format, paced = camera_url(camera)
    source = VideoSource(url, input_format=input_format, device=device)
    pipeline = Pipeline.from_chain(chain, StageContext(device=device, frame_rate=source.info.frame_rate, realtime=True))
    pipeline.set_input_rate(source.info.frame_rate)
    if pipeline.frame_count_changers():
        raise LiveError(f"{chain!r} adds or drops frames; live output shows one frame per camera frame")
    window = PreviewWindow(f"vidgan live: {camera}") if preview else None
    fps = float(source.info.frame_rate or 30)
    vcam: VirtualCamera | None = None
    sink = VideoSink(str(record), EncodeOptions(codec="libx264", crf=18), source, overwrite=overwrite) if record else None
    mailbox, stop = LatestFrame(), threading.Event()
    capture = threading.Thread(target=_capture, args=(source, mailbox, stop, paced), daemon=True, name="vidgan-camera")
    report = LiveReport()
    started = time.monotonic()
    capture.start()
    completed = False
    try:
        while not (window and window.closed):
            if max_frames is not None and report.processed >= max_frames:
                break
            if seconds is not None and time.monotonic() - started >= seconds:
                break
            item = mailbox.take()
            if item is None:
                if mailbox.finished:
                    break
                continue
            frame, captured_at = item
            for out in pipeline.process(frame):
                if window or virtual_cam:
                    rgb = out.to_rgb24()
                    if virtual_cam:
                        if vcam is None:
                            vcam = VirtualCamera(rgb.shape[1], rgb.shape[0], fps)
                        vcam.send(rgb)
                    if window:
                        window.show(rgb)
                if sink:
                    sink.write(out)
                report.processed += 1
                report.latencies_ms.append((time.monotonic() - captured_at) * 1e3)
        if mailbox.error is not None:
            raise LiveError(f"camera {camera} stopped: {' '.join(str(mailbox.error).split())}")
        completed = True
    except KeyboardInterrupt:  # Ctrl-C is how a live session normally ends: keep what was recorded
        completed = True
    finally:
        stop.set()
        capture.join(timeout=5)
        report.seconds = time.monotonic() - started
        report.captured, report.dropped = mailbox.captured, mailbox.dropped
        if sink:
            if completed and report.processed:
                sink.close()
            else:
                sink.abort()
        if vcam:
            vcam.close()
        if window:
            window.close()
        source.container.close()
    return report
