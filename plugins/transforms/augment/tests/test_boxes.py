"""Person-box files: both formats, lookups, and every bad input a clear DataError naming the file."""
from __future__ import annotations

import json

import numpy as np
import pytest

from actioncore.sdk import DataError

from actioncore_augment.boxes import read_person_boxes, write_person_boxes
from actioncore_augment.convert import convert_person_boxes

VIDEOS = {
    "v_Basketball_g01_c01": {0: [[1, 2, 30, 40, 0.9], [5, 5, 10, 10, 0.3]], 3: [[0, 0, 8, 8, 0.5]], 4: []},
    "square/train_0000": {1: [[2.5, 3.5, 4.5, 5.5, 1.0]]},
}


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_round_trip(tmp_path, suffix):
    path = write_person_boxes(tmp_path / f"boxes{suffix}", VIDEOS)
    boxes = read_person_boxes(path)
    video = boxes.video("v_Basketball_g01_c01")
    assert sorted(video) == [0, 3, 4]
    assert np.allclose(video[0], VIDEOS["v_Basketball_g01_c01"][0]) and video[0].dtype == np.float32
    assert video[4].shape == (0, 5)
    rows = boxes.lookup("v_Basketball_g01_c01", np.array([3, 1, 0]))
    assert [len(r) for r in rows] == [1, 0, 2]  # frame 1 is absent: no person
    assert np.allclose(boxes.video("square/train_0000")[1], [[2.5, 3.5, 4.5, 5.5, 1.0]])


def test_npz_arrays_are_the_documented_layout(tmp_path):
    path = write_person_boxes(tmp_path / "boxes.npz", VIDEOS)
    data = np.load(path)
    assert data["videos"].tolist() == ["v_Basketball_g01_c01", "square/train_0000"]
    assert data["frame_offsets"].tolist() == [0, 3, 4]
    assert data["frame_index"].tolist() == [0, 3, 4, 1]
    assert data["box_offsets"].tolist() == [0, 2, 3, 3, 4]
    assert data["boxes"].shape == (4, 5) and data["boxes"].dtype == np.float32


def test_keys_are_basenames_or_longer_tails(tmp_path):
    boxes = read_person_boxes(write_person_boxes(tmp_path / "b.json", VIDEOS))
    assert boxes.key_for("/data/ucf/rawframes/Basketball/v_Basketball_g01_c01") == "v_Basketball_g01_c01"
    assert boxes.key_for("/data/ucf/videos/Basketball/v_Basketball_g01_c01.avi") == "v_Basketball_g01_c01"
    assert boxes.key_for("/d/videos/square/train_0000.mp4") == "square/train_0000"
    with pytest.raises(DataError, match=r"b\.json.*no boxes for video 'train_0000'"):
        boxes.key_for("/d/videos/disc/train_0000.mp4")


@pytest.mark.parametrize("content, match", [
    ("{not json", "not a readable person-box JSON"),
    ('{"format": "other", "videos": {}}', "not a person-box file"),
    ('{"format": "actioncore-person-boxes", "version": 2, "videos": {}}', "version 2"),
    ('{"format": "actioncore-person-boxes", "version": 1, "videos": {"a": {"frames": {"x": []}}}}',
     "frame keys must be 0-based integers"),
    ('{"format": "actioncore-person-boxes", "version": 1, "videos": {"a": {"frames": {"0": [[1, 2, 3]]}}}}',
     "x1, y1, x2, y2, score"),
    ('{"format": "actioncore-person-boxes", "version": 1, "videos": {"a": {"frames": {"0": [[5, 2, 3, 4, 1]]}}}}',
     "x2 < x1"),
    ('{"format": "actioncore-person-boxes", "version": 1, "videos": {"a": {"frames": {"-1": []}}}}',
     "non-negative"),
])
def test_malformed_json_names_the_file(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError, match=match) as info:
        read_person_boxes(path)
    assert "bad.json" in str(info.value)


def test_malformed_npz_and_other_files(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, videos=np.array(["a"]), frame_offsets=np.array([0, 1]), frame_index=np.array([0]),
             box_offsets=np.array([0, 5]), boxes=np.zeros((2, 5), np.float32))
    with pytest.raises(DataError, match="bad.npz: inconsistent person-box arrays"):
        read_person_boxes(path)
    np.savez(path, videos=np.array(["a"]))
    with pytest.raises(DataError, match="bad.npz: not a person-box npz file: no frame_offsets"):
        read_person_boxes(path)
    path.write_bytes(b"garbage")
    with pytest.raises(DataError, match="bad.npz: not a readable"):
        read_person_boxes(path)
    (tmp_path / "detections.npy").write_bytes(b"x")
    with pytest.raises(DataError, match="detections.npy: person-box files are .json or .npz"):
        read_person_boxes(tmp_path / "detections.npy")
    with pytest.raises(DataError, match="missing.json: no such person-box file"):
        read_person_boxes(tmp_path / "missing.json")


def detections_npy(path):
    """A small video-data-aug detections.npy: {video: {1-based frame: (N, 6) [x1, y1, x2, y2, cls, score]}}."""
    data = {"v_Run_g01_c01": {1: np.array([[1, 2, 11, 12, 0, 0.9], [3, 3, 4, 4, 0, 0.2]]),
                              2: np.zeros((0, 5))},
            "v_Jump_g02_c03": {5: np.array([[10, 20, 30, 40, 0, 0.45]])}}
    np.save(path, data, allow_pickle=True)
    return path


def test_converter_needs_trust_and_converts(tmp_path):
    source = detections_npy(tmp_path / "detections.npy")
    with pytest.raises(DataError, match="refusing to load a pickle.*--trust-pickle"):
        convert_person_boxes(source, tmp_path / "boxes.npz", trust_pickle=False)
    assert not (tmp_path / "boxes.npz").exists()
    report = convert_person_boxes(source, tmp_path / "boxes.npz", trust_pickle=True)
    assert report == {"out": str(tmp_path / "boxes.npz"), "videos": 2, "frames": 3, "boxes": 3}
    boxes = read_person_boxes(tmp_path / "boxes.npz")
    run = boxes.video("v_Run_g01_c01")
    assert sorted(run) == [0, 1]  # 1-based frames 1, 2 -> 0, 1
    assert run[0].tolist() == [[1, 2, 11, 12, pytest.approx(0.9)], [3, 3, 4, 4, pytest.approx(0.2)]]
    assert boxes.video("v_Jump_g02_c03")[4][0, 4] == pytest.approx(0.45)  # the last column is the score


def test_converter_rejects_bad_detections(tmp_path):
    path = tmp_path / "detections.npy"
    np.save(path, {"v": {0: np.zeros((1, 5))}}, allow_pickle=True)
    with pytest.raises(DataError, match="frame numbers are 1-based"):
        convert_person_boxes(path, tmp_path / "o.npz", trust_pickle=True)
    np.save(path, {"v": {1: np.zeros((1, 3))}}, allow_pickle=True)
    with pytest.raises(DataError, match=r"detections.npy: video 'v' frame 1: expected an \(N, >=5\) array"):
        convert_person_boxes(path, tmp_path / "o.npz", trust_pickle=True)
    np.save(path, np.zeros(3))
    with pytest.raises(DataError, match="expected a non-empty dict {video: {1-based frame: boxes}}, got ndarray"):
        convert_person_boxes(path, tmp_path / "o.npz", trust_pickle=True)


def test_convert_cli(tmp_path):
    from actioncore.cli import main

    source = detections_npy(tmp_path / "detections.npy")
    assert main(["data", "convert", "person_boxes", str(source), str(tmp_path / "b.npz")]) != 0
    assert main(["data", "convert", "person_boxes", str(source), str(tmp_path / "b.json"), "--trust-pickle"]) == 0
    doc = json.loads((tmp_path / "b.json").read_text())
    assert doc["format"] == "actioncore-person-boxes" and set(doc["videos"]) == {"v_Run_g01_c01", "v_Jump_g02_c03"}
