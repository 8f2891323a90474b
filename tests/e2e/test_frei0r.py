"""The frei0r plugin inside the real ffmpeg binary: build it, run ``-vf frei0r=vidgan:...``, check pixels.

Outputs are written as lossless RGB (ffv1, bgra) so the plugin's frames can be compared exactly
with ffmpeg's own RGBA conversion of the input; the comparison with the decoded input itself
allows the small differences that YUV <-> RGBA conversion brings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest

from vidgan.plugins.ffmpeg import build as plugin
from vidgan.plugins.ffmpeg.frei0r_host import Frei0rChainError, Frei0rHost, describe_error

WIDTH, HEIGHT, FPS, SECONDS = 160, 120, 25, 1
FRAMES = FPS * SECONDS
LOSSLESS_RGB = ["-c:v", "ffv1", "-pix_fmt", "bgra"]

COUNTER_MODULE = textwrap.dedent(
    '''
    """A stateful test stage: R = frames seen so far, G = the frame's time in 1/25 s."""
    import os
    import sys
    from dataclasses import dataclass

    import av
    import numpy as np

    from vidgan.graph.registry import register_filter
    from vidgan.graph.stage import Stage

    with open(os.environ["FREI0R_TEST_PREFIX_FILE"], "w") as out:
        out.write(sys.prefix)


    @register_filter("test_frame_counter")
    class FrameCounter(Stage):
        @dataclass(frozen=True)
        class Options:
            pass

        def __init__(self, options, context):
            self.seen = 0

        def process(self, frame):
            rgb = np.zeros((frame.height, frame.width, 3), np.uint8)
            rgb[..., 0] = self.seen % 256
            rgb[..., 1] = round(frame.seconds * 25) % 256
            self.seen += 1
            return [frame.with_av(av.VideoFrame.from_ndarray(rgb, format="rgb24"))]
    '''
)


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    filters = subprocess.run(["ffmpeg", "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    if " frei0r " not in filters:
        pytest.skip("this ffmpeg is built without frei0r")
    dest = tmp_path_factory.mktemp("frei0r")
    try:
        plugin.install_plugin(dest)
    except (plugin.CompilerNotFoundError, plugin.Frei0rHeaderNotFoundError,
            plugin.PythonHeadersNotFoundError, plugin.LibpythonNotFoundError) as exc:
        pytest.skip(str(exc))
    return dest


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s 160x120 H.264 + AAC mp4, made here from ffmpeg's test patterns."""
    path = tmp_path_factory.mktemp("clip") / "in.mp4"
    with av.open(f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}:duration={SECONDS}", format="lavfi") as src, \
            av.open(path, "w") as dst:
        video = dst.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = dst.add_stream("aac", rate=48000)
        for frame in src.decode(video=0):
            frame.pts = None
            dst.mux(video.encode(frame.reformat(format="yuv420p")))
        dst.mux(video.encode())
        tone = np.sin(np.arange(48000 * SECONDS) * 2 * np.pi * 440 / 48000).astype(np.float32)[None, :]
        for start in range(0, tone.shape[1], 1024):
            chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start:start + 1024]),
                                               format="flt", layout="mono")
            chunk.sample_rate, chunk.pts = 48000, start
            dst.mux(audio.encode(chunk))
        dst.mux(audio.encode())
    return path


def run_ffmpeg(plugin_dir: Path, source: Path, output: Path, vf: str, *extra: str,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(source), "-vf", vf,
               *LOSSLESS_RGB, *extra, str(output)]
    full_env = {**os.environ, "FREI0R_PATH": str(plugin_dir), **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=120)


def decode_rgb(path: Path) -> list[np.ndarray]:
    with av.open(path) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


@pytest.fixture(scope="module")
def ffmpeg_rgba(plugin_dir: Path, clip: Path, tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """The input as ffmpeg itself converts it to RGBA in front of a frei0r filter."""
    out = tmp_path_factory.mktemp("ref") / "ref.mkv"
    result = run_ffmpeg(plugin_dir, clip, out, "format=rgba", "-an")
    assert result.returncode == 0, result.stderr
    return decode_rgb(out)


def vidgan_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("vidgan frei0r: error:")]


# -- ffmpeg end to end --------------------------------------------------------------------------
@pytest.mark.e2e
def test_hflip_in_ffmpeg_keeps_count_size_audio(plugin_dir, clip, ffmpeg_rgba, tmp_path):
    out = tmp_path / "out.mkv"
    result = run_ffmpeg(plugin_dir, clip, out, "frei0r=vidgan:hflip", "-c:a", "copy")
    assert result.returncode == 0, result.stderr
    assert not vidgan_errors(result.stderr)

    frames = decode_rgb(out)
    assert len(frames) == FRAMES
    assert frames[0].shape == (HEIGHT, WIDTH, 3)
    for got, ref in zip(frames, ffmpeg_rgba):
        np.testing.assert_array_equal(got, ref[:, ::-1])
    with av.open(out) as container:
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]

    decoded = decode_rgb(clip)  # the input decoded outside ffmpeg: YUV -> RGB differs slightly
    diff = np.abs(np.stack(frames).astype(np.int16) - np.stack(decoded)[:, :, ::-1])
    assert diff.mean() < 2.0
    assert np.percentile(diff, 99) <= 16


@pytest.mark.e2e
@pytest.mark.parametrize(
    "vf",
    [
        r"frei0r=filter_name=vidgan:filter_params='lutrgb=r=negval\:g=negval,hflip'",
        r"frei0r=vidgan:'lutrgb\=r\=negval\:g\=negval,hflip'",
        r"frei0r=vidgan:lutrgb\\=r\\=negval\\:g\\=negval\,hflip",
    ],
    ids=["named-quoted", "positional-quoted", "positional-escaped"],
)
def test_chain_with_equals_colons_and_commas(plugin_dir, clip, ffmpeg_rgba, tmp_path, vf):
    out = tmp_path / "out.mkv"
    result = run_ffmpeg(plugin_dir, clip, out, vf, "-an")
    assert result.returncode == 0, result.stderr
    assert not vidgan_errors(result.stderr)
    frames = decode_rgb(out)
    assert len(frames) == FRAMES
    for got, ref in zip(frames, ffmpeg_rgba):
        expected = ref[:, ::-1].copy()
        expected[..., :2] = 255 - expected[..., :2]
        np.testing.assert_array_equal(got, expected)


@pytest.mark.e2e
def test_stage_state_and_time_survive_across_frames(plugin_dir, clip, tmp_path):
    (tmp_path / "frei0r_counter_stage.py").write_text(COUNTER_MODULE)
    prefix_file = tmp_path / "prefix.txt"
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
        "VIDGAN_PLUGIN_MODULES": "frei0r_counter_stage",
        "FREI0R_TEST_PREFIX_FILE": str(prefix_file),
    }
    out = tmp_path / "out.mkv"
    result = run_ffmpeg(plugin_dir, clip, out, "frei0r=vidgan:test_frame_counter", "-an", env=env)
    assert result.returncode == 0, result.stderr
    assert not vidgan_errors(result.stderr)

    frames = decode_rgb(out)
    assert len(frames) == FRAMES
    for index, frame in enumerate(frames):
        assert (frame[..., 0] == index).all(), f"frame {index}: state was reset"
        assert (frame[..., 1] == index).all(), f"frame {index}: wrong time"
    # The embedded interpreter is the one that built the plugin, venv included.
    assert prefix_file.read_text() == sys.prefix


@pytest.mark.e2e
def test_bad_chain_passes_frames_through_with_one_error_line(plugin_dir, clip, ffmpeg_rgba, tmp_path):
    out = tmp_path / "out.mkv"
    result = run_ffmpeg(plugin_dir, clip, out, "frei0r=vidgan:no_such_filter", "-an")
    assert result.returncode == 0, result.stderr
    errors = vidgan_errors(result.stderr)
    assert len(errors) == 1, result.stderr
    assert "unknown filter 'no_such_filter'" in errors[0]
    assert errors[0].endswith("passing frames through unchanged")
    frames = decode_rgb(out)
    assert len(frames) == FRAMES
    for got, ref in zip(frames, ffmpeg_rgba):
        np.testing.assert_array_equal(got, ref)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("chain", "expected"),
    [("fps=50", "vidgan pipe"), ("scale=80\\\\:60", "keeps the frame size")],
    ids=["frame-count", "frame-size"],
)
def test_chain_that_is_not_one_to_one_is_refused(plugin_dir, clip, ffmpeg_rgba, tmp_path, chain, expected):
    out = tmp_path / "out.mkv"
    result = run_ffmpeg(plugin_dir, clip, out, f"frei0r=filter_name=vidgan:filter_params={chain}", "-an")
    assert result.returncode == 0, result.stderr
    errors = vidgan_errors(result.stderr)
    assert len(errors) == 1 and expected in errors[0], result.stderr
    frames = decode_rgb(out)
    assert len(frames) == FRAMES
    np.testing.assert_array_equal(frames[-1], ffmpeg_rgba[-1])


@pytest.mark.e2e
def test_width_not_multiple_of_16_warns_and_pad_crop_works_around_it(plugin_dir, tmp_path):
    source = "testsrc2=size=170x96:rate=25:duration=0.2"
    env = {**os.environ, "FREI0R_PATH": str(plugin_dir)}
    outputs = {}
    for name, vf in [("plugin", "pad=ceil(iw/16)*16:ih,frei0r=vidgan:hflip,crop=170:ih:iw-170:0"),
                     ("sheared", "frei0r=vidgan:hflip"), ("ffmpeg", "format=rgba,hflip")]:
        outputs[name] = tmp_path / f"{name}.mkv"
        result = subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-vf", vf,
             *LOSSLESS_RGB, str(outputs[name])], capture_output=True, text=True, env=env, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        warned = "width 170 is not a multiple of 16" in result.stderr
        assert warned == (name == "sheared"), result.stderr
    for got, ref in zip(decode_rgb(outputs["plugin"]), decode_rgb(outputs["ffmpeg"]), strict=True):
        np.testing.assert_array_equal(got, ref)


@pytest.mark.e2e
def test_install_command_prints_where_and_frei0r_path(plugin_dir, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vidgan", "ffmpeg-plugin", "install", "--dest", str(tmp_path)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "vidgan.so").is_file()
    assert f"FREI0R_PATH={tmp_path}" in result.stdout
    assert not [p for p in tmp_path.iterdir() if p.name != "vidgan.so"]  # no temporary files left


# -- the Python host alone ----------------------------------------------------------------------
def _rgba(width: int = 8, height: int = 4) -> bytearray:
    rng = np.random.default_rng(0)
    return bytearray(rng.integers(0, 256, (height, width, 4), dtype=np.uint8).tobytes())


def test_host_writes_result_in_place_and_keeps_alpha():
    src, dst = _rgba(), bytearray(8 * 4 * 4)
    host = Frei0rHost(8, 4)
    host.set_chain("hflip")
    host.update(40.0, memoryview(bytes(src)), memoryview(dst))
    src_px = np.frombuffer(src, np.uint8).reshape(4, 8, 4)
    dst_px = np.frombuffer(dst, np.uint8).reshape(4, 8, 4)
    np.testing.assert_array_equal(dst_px[..., :3], src_px[:, ::-1, :3])
    np.testing.assert_array_equal(dst_px[..., 3], src_px[..., 3])


def test_host_refuses_frame_count_changes_with_the_pipe_route():
    host = Frei0rHost(8, 4)
    host.set_chain("fps=50")
    dst = bytearray(8 * 4 * 4)
    with pytest.raises(Frei0rChainError) as info:
        for time_ms in (0.0, 40.0, 80.0):
            host.update(time_ms, memoryview(bytes(_rgba())), memoryview(dst))
    assert "vidgan pipe" in describe_error(info.value)
    assert "\n" not in describe_error(info.value)
