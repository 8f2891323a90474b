"""vidgan sheet: which inputs become rows, the style columns, the tile grid under its header, and the output."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.eval.synthetic import moving_square, write_video
from tests.eval.tiny_styles import install_styles
from vidgan.cli import main as vidgan_main
from vidgan.errors import VidganError
from vidgan.eval.sheet import (
    SheetLayout,
    _read_inputs,
    centre_crop,
    encode_sheet,
    make_sheet,
    parse_aspect,
    read_rows,
)
from vidgan.eval.stylized import open_stage, style_columns, stylize_frames


def test_images_in_rgb_and_frames_of_videos(tmp_path):
    rgb = np.zeros((8, 10, 3), np.uint8)
    rgb[..., 0] = 250  # red
    cv2.imwrite(str(tmp_path / "photo.PNG"), rgb[..., ::-1])
    video = write_video(tmp_path / "clip.mp4", moving_square(frames=9))
    rows = _read_inputs([str(tmp_path / "photo.PNG"), str(video)], frames_per_video=2)
    assert [label for label, _ in rows] == ["photo.PNG", "clip.mp4 #3", "clip.mp4 #6"]
    np.testing.assert_array_equal(rows[0][1], rgb)
    assert rows[1][1].shape == (96, 128, 3)


def test_unusable_inputs(tmp_path):
    with pytest.raises(VidganError, match=r"sheet input .*missing\.png does not exist"):
        _read_inputs([str(tmp_path / "missing.png")], 1)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(VidganError, match=r"sheet input .*broken\.jpg is not a readable image"):
        _read_inputs([str(tmp_path / "broken.jpg")], 1)
    video = write_video(tmp_path / "clip.mp4", moving_square(frames=4))
    with pytest.raises(VidganError, match="frames per video must be at least 1"):
        read_rows([str(video)], 0)
    with pytest.raises(VidganError, match="warm-up frames must be 0 or more"):
        read_rows([str(video)], 1, warmup=-1)


# -- the sheet itself ----------------------------------------------------------------------------
@pytest.fixture
def styles(tmp_path, monkeypatch):
    return install_styles(tmp_path, monkeypatch, {"van_gogh": ("lite", "full"), "monet": ("lite",),
                                                  "ukiyoe": ("full",)})


def _photo(path, width, height, seed=0):
    from tests.eval.synthetic import texture

    cv2.imwrite(str(path), texture(seed, height, width)[..., ::-1])
    return str(path)


def test_columns_for_every_preset_choice(styles):
    labels = lambda preset, names=None: [c.label for c in style_columns(names, preset)]  # noqa: E731
    assert labels("both") == ["monet lite", "ukiyoe full", "van_gogh lite", "van_gogh full"]
    assert labels("lite") == ["monet lite", "van_gogh lite"]  # every style: those without lite left out
    assert labels("full") == ["ukiyoe full", "van_gogh full"]
    assert labels("auto") == ["monet lite", "ukiyoe full", "van_gogh full"]  # what a file gets
    assert labels("both", ["van_gogh"]) == ["van_gogh lite", "van_gogh full"]
    with pytest.raises(VidganError, match="style 'monet' has no full model"):
        style_columns(["monet"], "full")
    with pytest.raises(VidganError, match="unknown style 'monett'.*monet"):
        style_columns(["monett"], "both")


def test_crop_and_aspect():
    image = np.zeros((100, 300, 3), np.uint8)
    assert centre_crop(image, 4 / 3).shape == (100, 133, 3)
    assert centre_crop(image.transpose(1, 0, 2), 4 / 3).shape == (75, 100, 3)
    assert parse_aspect("16:9") == pytest.approx(16 / 9) and parse_aspect("1.5") == 1.5
    with pytest.raises(VidganError, match="aspect ratio 'wide' is not W:H"):
        parse_aspect("wide")
    assert SheetLayout(height=256).width == 342


def test_video_frame_is_stylized_after_its_warm_up(styles, tmp_path):
    video = write_video(tmp_path / "clip.mp4", moving_square(frames=12))
    [row] = read_rows([str(video)], frames_per_video=1, warmup=3)
    assert row.label == "clip.mp4 #6" and len(row.frames) == 4
    stage = open_stage(style_columns(["van_gogh"], "lite")[0].entry)
    in_sequence = list(stylize_frames(stage, row.frames))[-1]
    as_still = list(stylize_frames(stage, row.frames[-1:]))[-1]
    assert in_sequence.shape == as_still.shape == row.shown.shape
    assert np.abs(in_sequence.astype(int) - as_still).mean() > 0.5  # the recurrence carried over


def test_sheet_is_a_grid_of_equal_tiles_under_a_header(styles, tmp_path):
    inputs = [_photo(tmp_path / "wide.png", 200, 90), _photo(tmp_path / "tall.jpg", 80, 150, seed=1),
              str(write_video(tmp_path / "clip.mp4", moving_square(frames=10)))]
    out = make_sheet(inputs, style_columns(None, "both"), tmp_path / "out" / "sheet.png", height=48,
                     frames_per_video=2, warmup=2)
    sheet = cv2.imread(str(out))[..., ::-1]
    layout = SheetLayout(height=48)
    assert sheet.shape == (layout.header + 4 * 48, 5 * layout.width, 3)  # 4 rows, input + 4 models
    header = sheet[:layout.header]
    assert header.max() > 200 and np.median(header) < 40  # light text on a dark strip
    body = sheet[layout.header:].astype(int)
    for row in range(4):  # no empty (black padded) tiles anywhere
        for column in range(5):
            tile = body[row * 48:(row + 1) * 48, column * layout.width:(column + 1) * layout.width]
            assert tile.std() > 3
    assert not list((tmp_path / "out").glob(".*partial*"))


def test_jpeg_fits_its_budget(tmp_path):
    from tests.eval.synthetic import texture

    noisy = np.random.default_rng(0).integers(0, 256, (256, 1024, 3), dtype=np.uint8)
    best = encode_sheet(texture(0, 256, 1024), ".jpg", 10**9)
    fitted = encode_sheet(noisy, ".jpg", 150_000)
    assert len(fitted) <= 150_000 < len(encode_sheet(noisy, ".jpg", 10**9))
    assert cv2.imdecode(np.frombuffer(best, np.uint8), cv2.IMREAD_COLOR).shape == (256, 1024, 3)


def test_command_writes_a_jpeg_and_refuses_bad_input(styles, tmp_path, capsys):
    photo = _photo(tmp_path / "p.png", 120, 90)
    out = tmp_path / "sheet.jpg"
    assert vidgan_main(["sheet", photo, "-o", str(out), "--preset", "full", "--height", "32", "--device", "cpu"]) == 0
    assert cv2.imread(str(out)).shape[1] == 3 * SheetLayout(height=32).width
    assert vidgan_main(["sheet", photo, "-o", str(tmp_path / "s.gif")]) != 0
    assert "must end in .jpg, .jpeg, .png" in capsys.readouterr().err
    assert vidgan_main(["sheet", photo, "-o", str(tmp_path / "s.jpg"), "--styles", "nope"]) != 0
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "s.jpg").exists() and not (tmp_path / "s.gif").exists()
