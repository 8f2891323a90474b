"""``vidgan batch``: skips finished outputs, survives failing files, and shares a folder safely."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from tests.media import write_video
from vidgan.engine.batch import OutputClaim, expand_inputs, output_path, run_batch
from vidgan.errors import Interrupted


def _tiny_clip(path: Path, frames: int = 6, size: tuple[int, int] = (64, 48)) -> Path:
    return write_video(path, size=size, frames=frames)


def _frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    _tiny_clip(folder / "a.mp4")
    _tiny_clip(folder / "b.mp4", frames=4)
    _tiny_clip(folder / "sub" / "a.mp4", frames=3)
    (folder / "broken.mp4").write_text("not a video")
    return folder


def _batch_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vidgan", "batch", *args, "-q"],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def test_batch_processes_all_good_files_and_reports_the_bad_one(clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _batch_cli(str(clips / "**" / "*.mp4"), "--out-dir", str(out), "-vf", "hflip", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert _frames(out / "a.mp4") == 6
    assert _frames(out / "b.mp4") == 4
    assert _frames(out / "sub" / "a.mp4") == 3  # same name in another folder does not collide
    assert not (out / "broken.mp4").exists()
    assert "3 done, 0 skipped" in result.stderr and "1 failed" in result.stderr
    assert "broken.mp4" in result.stderr
    assert not [p for p in out.rglob("*") if ".partial-" in p.name or p.name.endswith(".lock")]


def test_batch_resumes_by_skipping_finished_outputs(clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (clips / "broken.mp4").unlink()
    first = run_batch([str(clips / "*.mp4")], out, progress="quiet")
    assert [item.status for item in first.items] == ["done", "done"]
    stamp = (out / "a.mp4").stat().st_mtime_ns
    second = run_batch([str(clips / "*.mp4")], out, progress="quiet")
    assert [item.status for item in second.items] == ["skipped", "skipped"]
    assert (out / "a.mp4").stat().st_mtime_ns == stamp
    again = run_batch([str(clips / "a.mp4")], out, overwrite=True, progress="quiet")
    assert again.items[0].status == "done"


def test_unmatched_pattern_is_a_failure_not_silence(tmp_path: Path) -> None:
    summary = run_batch([str(tmp_path / "nothing*.mp4")], tmp_path / "out", progress="quiet")
    assert len(summary.failed) == 1 and "no file matches" in summary.failed[0].message


def test_bad_chain_fails_before_any_file(clips: Path, tmp_path: Path) -> None:
    result = _batch_cli(str(clips / "a.mp4"), "--out-dir", str(tmp_path / "out"), "-vf", "nosuchfilter", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "unknown filter 'nosuchfilter'" in result.stderr
    assert not (tmp_path / "out" / "a.mp4").exists()


def test_claim_held_by_a_live_process_is_respected(tmp_path: Path) -> None:
    target = tmp_path / "x.mp4"
    holder = OutputClaim(target)
    assert holder.acquire()
    assert not OutputClaim(target).acquire()
    holder.release()
    assert OutputClaim(target).acquire()


def test_claim_left_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    target = tmp_path / "x.mp4"
    OutputClaim(target).path.write_text(str(dead.pid))
    assert OutputClaim(target).acquire()


def test_busy_output_is_left_to_its_owner(clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    OutputClaim(out / "a.mp4").path.write_text(str(os.getpid()))
    summary = run_batch([str(clips / "a.mp4"), str(clips / "b.mp4")], out, progress="quiet")
    assert [item.status for item in summary.items] == ["busy", "done"]
    assert not (out / "a.mp4").exists()


def test_two_batches_on_one_folder_process_each_file_once(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(6):
        _tiny_clip(folder / f"c{index}.mp4", frames=40, size=(320, 240))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vidgan", "batch", str(folder / "*.mp4"), "--out-dir", str(out),
               "-preset", "veryslow", "-q"]  # slow enough per file that the two processes overlap
    procs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    reports = [proc.communicate(timeout=300)[1] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), reports
    done = sum(int(report.split("batch: ")[1].split(" done")[0]) for report in reports)
    assert done == 6, reports  # every file done exactly once between the two processes
    assert sorted(p.name for p in out.iterdir()) == [f"c{i}.mp4" for i in range(6)]


def test_interrupt_mid_batch_leaves_no_partial_and_resumes(clips: Path, tmp_path: Path, monkeypatch) -> None:
    import vidgan.engine

    real = vidgan.engine.transcode
    calls = []

    def interrupted_on_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise Interrupted("interrupted; partial output removed")
        return real(*args, **kwargs)

    monkeypatch.setattr(vidgan.engine, "transcode", interrupted_on_second)
    (clips / "broken.mp4").unlink()
    out = tmp_path / "out"
    with pytest.raises(Interrupted):
        run_batch([str(clips / "*.mp4")], out, progress="quiet")
    assert (out / "a.mp4").exists() and not (out / "b.mp4").exists()
    assert not list(out.glob(".*.lock"))
    monkeypatch.setattr(vidgan.engine, "transcode", real)
    resumed = run_batch([str(clips / "*.mp4")], out, progress="quiet")
    assert [item.status for item in resumed.items] == ["skipped", "done"]


def test_output_paths_mirror_the_input_tree(tmp_path: Path) -> None:
    assert output_path("/data/x/a.mov", "/data", tmp_path, ".mp4") == tmp_path / "x" / "a.mp4"
    assert output_path("/data/a.mkv", "/data", tmp_path, None) == tmp_path / "a.mkv"
    files, unmatched = expand_inputs([str(tmp_path / "*.none"), str(tmp_path)])
    assert files == [] and len(unmatched) == 2
