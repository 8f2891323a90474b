"""``vidgan run`` / ``vidgan pipe`` as a user runs them: separate processes, real files, exit codes.

Good input must come out with every frame, its timestamps and its audio; bad input must fail
with one ``vidgan: error:`` line and leave nothing (no output, no ``.partial-`` file) behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests import media
from tests.runner import assert_failed_cleanly, error_line, partial_files, vidgan


# -- what a good run keeps --------------------------------------------------------------------------
def test_null_chain_keeps_every_frame_and_timestamp(cfr_clip: Path, out_dir: Path) -> None:
    out = out_dir / "out.mp4"
    result = vidgan("run", cfr_clip, "-o", out, "-vf", "null")
    assert result.returncode == 0, result.stderr
    before, after = media.video_times(cfr_clip), media.video_times(out)
    assert len(after) == len(before) == 50
    assert media.ms(after) == media.ms(before)


def test_audio_is_carried_bit_identical(cfr_clip: Path, out_dir: Path) -> None:
    out = out_dir / "out.mp4"
    assert vidgan("run", cfr_clip, "-o", out, "-vf", "null", "-q").returncode == 0
    before, after = media.audio_packets(cfr_clip), media.audio_packets(out)
    assert len(before) > 90
    assert after == before  # same payloads, same timestamps, same order


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_vfr_input_keeps_its_timestamps_and_audio_sync(tmp_path: Path, out_dir: Path, container: str) -> None:
    src = media.vfr_clip(tmp_path, f"vfr.{container}")
    out = out_dir / f"out.{container}"
    result = vidgan("run", src, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    expected_ms = media.vfr_pts_ms()
    assert media.ms(media.video_times(src)) == expected_ms  # the clip really is VFR
    assert media.ms(media.video_times(out)) == expected_ms
    (start_in, length_in), (start_out, length_out) = media.audio_span(src), media.audio_span(out)
    assert start_out == pytest.approx(start_in, abs=0.001)
    assert length_out == pytest.approx(length_in, abs=0.001)


def test_libavfilter_and_vidgan_filters_mix_in_one_chain(cfr_clip: Path, out_dir: Path) -> None:
    out = out_dir / "out.mkv"
    result = vidgan("run", cfr_clip, "-o", out, "-vf", "scale=80:60,null,hflip", "-c:v", "ffv1", "-q")
    assert result.returncode == 0, result.stderr
    got = media.video_frames(out)
    originals = media.video_frames(cfr_clip)
    assert len(got) == len(originals) == 50
    assert (got[0].width, got[0].height, got[0].format.name) == (80, 60, "yuv420p")
    for mine, original in zip(got, originals):
        scaled = original.reformat(width=80, height=60, interpolation="BICUBIC")  # the scale filter's default
        expected = [np.fliplr(p).astype(int) for p in media.planes(scaled)]
        y, u, v = (p.astype(int) for p in media.planes(mine))
        assert np.abs(y - expected[0]).max() <= 1
        # chroma: swscale called directly sites chroma slightly differently from the scale filter
        assert np.abs(u - expected[1]).mean() < 4 and np.abs(v - expected[2]).mean() < 4


def test_quoted_commas_stay_inside_a_libavfilter_expression(cfr_clip: Path, out_dir: Path) -> None:
    out = out_dir / "out.mp4"
    result = vidgan("run", cfr_clip, "-o", out, "-vf", "scale='min(80,iw)':-2,null", "-q")
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.width, ctx.height) == (80, 60)


def test_ten_bit_input_stays_ten_bit_by_default(ten_bit_clip: Path, out_dir: Path) -> None:
    out = out_dir / "out.mp4"
    result = vidgan("run", ten_bit_clip, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p10le"
        assert sum(1 for _ in container.decode(video=0)) == 10


def test_ten_bit_input_converts_to_eight_bit_when_asked(ten_bit_clip: Path, out_dir: Path) -> None:
    out = out_dir / "out.mp4"
    result = vidgan("run", ten_bit_clip, "-o", out, "-pix_fmt", "yuv420p", "-q")
    assert result.returncode == 0, result.stderr
    converted, original = media.video_frames(out), media.video_frames(ten_bit_clip)
    assert converted[0].format.name == "yuv420p" and len(converted) == 10
    for eight, ten in zip(converted, original):
        for plane8, plane10 in zip(media.planes(eight), media.planes(ten)):
            # the same picture at 8 bits (up to the lossy re-encode), not a reinterpretation of the bits
            assert np.abs(plane8.astype(int) - (plane10.astype(int) + 2) // 4).mean() < 2


def test_existing_output_is_replaced_with_y(cfr_clip: Path, out_dir: Path) -> None:
    out = out_dir / "out.mp4"
    out.write_text("old contents")
    result = vidgan("run", cfr_clip, "-o", out, "-y", "-q")
    assert result.returncode == 0, result.stderr
    assert len(media.video_times(out)) == 50
    assert partial_files(out_dir) == []


def test_summary_line_on_success(cfr_clip: Path, out_dir: Path) -> None:
    result = vidgan("run", cfr_clip, "-o", out_dir / "out.mp4")
    assert result.returncode == 0, result.stderr
    summary = result.stderr.splitlines()[-1]
    assert summary.startswith(f"vidgan: {cfr_clip} -> {out_dir / 'out.mp4'}: 50 frames in, 50 out")


def test_json_progress_is_one_object_per_line(cfr_clip: Path, out_dir: Path) -> None:
    result = vidgan("run", cfr_clip, "-o", out_dir / "out.mp4", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    progress, report = records[:-1], records[-1]["report"]
    assert progress and progress[-1]["final"] is True
    assert progress[-1]["done"] == progress[-1]["produced"] == 50
    assert all(not r["final"] for r in progress[:-1])
    assert [r["done"] for r in progress] == sorted(r["done"] for r in progress)
    assert report["frames_in"] == report["frames_out"] == 50
    assert report["frames_dropped"] == 0 and report["damaged"] is None
    assert report["input"] == str(cfr_clip)


def test_pipe_filters_nut_from_stdin_to_stdout(tmp_path: Path) -> None:
    """The pipe command without any ffmpeg binary: NUT made here in, NUT out, audio carried."""
    src = tmp_path / "in.nut"
    with av.open(str(src), "w") as out:
        video = out.add_stream("rawvideo", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream("pcm_s16le", rate=48000)
        for index, frame in enumerate(media.pattern_frames((64, 48), 10)):
            frame = media.to_yuv(frame)
            frame.pts, frame.time_base = index, Fraction(1, 25)
            for packet in video.encode(frame):
                out.mux(packet)
        for piece in media.sine(0.4):
            piece.pts = None
            for packet in audio.encode(piece):
                out.mux(packet)
    with open(src, "rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "vidgan", "pipe", "-vf", "hflip"],
                                stdin=stdin, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""  # the pipe is quiet unless asked (--json)
    (tmp_path / "out.nut").write_bytes(result.stdout)
    assert media.ms(media.video_times(tmp_path / "out.nut")) == [i * 40 for i in range(10)]
    assert media.audio_packets(tmp_path / "out.nut") == media.audio_packets(src)
    flipped = media.video_frames_rgb(tmp_path / "out.nut")[3]
    original = media.video_frames_rgb(src)[3]
    assert np.array_equal(flipped, np.fliplr(original))


def test_version() -> None:
    result = vidgan("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("vidgan ")


def test_doctor_reports_what_it_will_use() -> None:
    pytest.importorskip("vidgan.commands.doctor", reason="vidgan doctor is not part of this checkout")
    result = vidgan("doctor", "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["will_use"]["device"] in ("cpu", "cuda")
    assert "libx264" in report["software_encoders"]


# -- bad input: one error line, nothing left behind --------------------------------------------------
def test_missing_input(tmp_path: Path, out_dir: Path) -> None:
    result = vidgan("run", tmp_path / "nope.mp4", "-o", out_dir / "out.mp4")
    assert_failed_cleanly(result, out_dir, r"nope\.mp4 does not exist")


def test_text_file_input(text_file: Path, out_dir: Path) -> None:
    result = vidgan("run", text_file, "-o", out_dir / "out.mp4")
    assert_failed_cleanly(result, out_dir, r"cannot open .*notes\.mp4: not a readable video")


def test_zero_length_input(empty_file: Path, out_dir: Path) -> None:
    result = vidgan("run", empty_file, "-o", out_dir / "out.mp4")
    assert_failed_cleanly(result, out_dir, r"empty\.mp4 is empty \(0 bytes\)")


def test_input_without_video(audio_only: Path, out_dir: Path) -> None:
    result = vidgan("run", audio_only, "-o", out_dir / "out.mp4")
    assert_failed_cleanly(result, out_dir, r"tone\.m4a has no video stream")


def test_folder_as_input(tmp_path: Path, out_dir: Path) -> None:
    result = vidgan("run", tmp_path, "-o", out_dir / "out.mp4")
    assert_failed_cleanly(result, out_dir, r"is a folder, not a video")


def test_truncated_mp4_fails_and_leaves_nothing(truncated_mp4: Path, out_dir: Path) -> None:
    result = vidgan("run", truncated_mp4, "-o", out_dir / "out.mp4", timeout=60)
    assert_failed_cleanly(result, out_dir, r"truncated\.mp4 is damaged .*pass --allow-corrupt")


def test_truncated_mp4_with_allow_corrupt_keeps_what_decoded(truncated_mp4: Path, out_dir: Path) -> None:
    out = out_dir / "out.mp4"
    result = vidgan("run", truncated_mp4, "-o", out, "--allow-corrupt", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "vidgan: WARNING: " in result.stderr and "is damaged" in result.stderr
    decoded = len(media.video_times(out))
    assert 30 < decoded < 100  # about 60 % of the 100 frames survive the cut
    assert partial_files(out_dir) == []


def test_absurd_resolution_is_refused_at_open(tmp_path: Path, out_dir: Path) -> None:
    src = media.y4m_header(tmp_path, 40000, 40000)
    result = vidgan("run", src, "-o", out_dir / "out.mp4", timeout=30)
    assert_failed_cleanly(result, out_dir, r"cannot open .*huge\.y4m")


def test_resolution_beyond_vidgan_limits_is_refused(tmp_path: Path, out_dir: Path) -> None:
    src = media.y4m_header(tmp_path, 20000, 64, name="wide.y4m")  # FFmpeg opens it; vidgan must refuse
    result = vidgan("run", src, "-o", out_dir / "out.mp4", timeout=30)
    assert_failed_cleanly(result, out_dir, r"wide\.y4m has an unsupported resolution 20000x64")


def test_odd_size_cannot_be_yuv420p_h264(odd_size_clip: Path, out_dir: Path) -> None:
    result = vidgan("run", odd_size_clip, "-o", out_dir / "out.mp4", "-pix_fmt", "yuv420p")
    assert_failed_cleanly(result, out_dir, r"161x121 .*must be even.*scale=")


def test_odd_size_encodes_with_a_codec_that_takes_it(odd_size_clip: Path, out_dir: Path) -> None:
    out = out_dir / "out.mkv"
    result = vidgan("run", odd_size_clip, "-o", out, "-c:v", "ffv1", "-q")
    assert result.returncode == 0, result.stderr
    assert media.video_frames_rgb(out)[0].shape == (121, 161, 3)


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink"])
@pytest.mark.parametrize("overwrite", [False, True])
def test_output_equal_to_input_is_refused(cfr_clip: Path, spelling: str, overwrite: bool) -> None:
    folder = cfr_clip.parent
    original = cfr_clip.read_bytes()
    spellings = {"same": cfr_clip, "dotdot": folder / "sub" / ".." / cfr_clip.name, "symlink": folder / "link.mp4"}
    target = spellings[spelling]
    (folder / "sub").mkdir()
    if spelling == "symlink":
        target.symlink_to(cfr_clip)
    before = sorted(p.name for p in folder.iterdir())
    result = vidgan("run", cfr_clip, "-o", target, *(["-y"] if overwrite else []))
    assert result.returncode != 0
    assert "is the input" in error_line(result)
    assert cfr_clip.read_bytes() == original
    assert sorted(p.name for p in folder.iterdir()) == before


def test_existing_output_is_kept_without_y(cfr_clip: Path, out_dir: Path) -> None:
    out = out_dir / "out.mp4"
    out.write_text("precious")
    result = vidgan("run", cfr_clip, "-o", out)
    assert result.returncode != 0
    assert "exists; pass -y to overwrite it" in error_line(result)
    assert out.read_text() == "precious"
    assert [p.name for p in out_dir.iterdir()] == ["out.mp4"]


def test_output_folder_missing(cfr_clip: Path, tmp_path: Path) -> None:
    result = vidgan("run", cfr_clip, "-o", tmp_path / "no" / "such" / "out.mp4")
    assert result.returncode != 0
    assert "output folder" in error_line(result) and "does not exist" in result.stderr
    assert not (tmp_path / "no").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_output_folder_not_writable(cfr_clip: Path, out_dir: Path) -> None:
    out_dir.chmod(0o555)
    try:
        result = vidgan("run", cfr_clip, "-o", out_dir / "out.mp4")
        assert_failed_cleanly(result, out_dir, r"output folder .* is not writable")
    finally:
        out_dir.chmod(0o755)


def test_unknown_filter_lists_the_valid_ones(cfr_clip: Path, out_dir: Path) -> None:
    result = vidgan("run", cfr_clip, "-o", out_dir / "out.mp4", "-vf", "scale=80:60,nul")
    line = assert_failed_cleanly(result, out_dir, r"unknown filter 'nul'; did you mean 'null'\?")
    assert re.search(r"vidgan filters: [a-z, ]*\bnull\b", line) and "ffmpeg -filters" in line


def test_unknown_option_of_a_vidgan_filter(cfr_clip: Path, out_dir: Path) -> None:
    result = vidgan("run", cfr_clip, "-o", out_dir / "out.mp4", "-vf", "null=strength=2")
    assert_failed_cleanly(result, out_dir, r"null: unknown option 'strength'")


def test_unknown_option_of_a_libavfilter_filter(cfr_clip: Path, out_dir: Path) -> None:
    result = vidgan("run", cfr_clip, "-o", out_dir / "out.mp4", "-vf", "scale=wdth=80")
    assert_failed_cleanly(result, out_dir, r"'scale' rejected 'wdth=80'.*ffmpeg -h filter=scale")


def test_filter_graph_syntax_is_refused(cfr_clip: Path, out_dir: Path) -> None:
    result = vidgan("run", cfr_clip, "-o", out_dir / "out.mp4", "-vf", "[in]scale=80:60[out]")
    assert_failed_cleanly(result, out_dir, r"only linear filter chains")


def test_unknown_encoder(cfr_clip: Path, out_dir: Path) -> None:
    result = vidgan("run", cfr_clip, "-o", out_dir / "out.mp4", "-c:v", "libx999")
    assert_failed_cleanly(result, out_dir, r"unknown video encoder 'libx999'")


def test_missing_output_argument_is_a_usage_error(cfr_clip: Path) -> None:
    result = vidgan("run", cfr_clip)
    assert result.returncode == 2
    assert "-o/--output" in error_line(result)


# -- interruption -----------------------------------------------------------------------------------
@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_encode_removes_the_partial_output(cfr_clip: Path, out_dir: Path, signum: int,
                                                      status: int | None) -> None:
    slow_chain = "scale=1280:720,nlmeans"  # about 25 s for this clip on two cores; interrupted after 1 s
    process = subprocess.Popen(
        [sys.executable, "-m", "vidgan", "run", str(cfr_clip), "-o", str(out_dir / "out.mp4"), "-vf", slow_chain],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a test runner started in the background may ignore SIGINT, and children inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while not partial_files(out_dir):
            assert process.poll() is None, f"ended before writing anything: {process.communicate()[1]}"
            assert time.monotonic() < deadline, "no .partial- file appeared"
            time.sleep(0.02)
        time.sleep(0.3)  # let it get into the encode loop
        assert process.poll() is None, "the run finished before it could be interrupted"
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    result = subprocess.CompletedProcess(process.args, process.returncode, "", stderr)
    assert process.returncode > 0  # handled and reported, not killed by the signal
    if status is not None:
        assert process.returncode == status
    assert_failed_cleanly(result, out_dir, r"interrupted")
