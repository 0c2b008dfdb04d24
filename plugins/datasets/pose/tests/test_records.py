"""Pose stores: round trip, and every kind of bad record as a DataError naming file and record."""
from __future__ import annotations

import json

import numpy as np
import pytest

from actioncore.sdk import DataError
from actioncore_pose.records import PoseRecord, PoseStore, check_pose, write_store


def test_round_trip_keeps_arrays_and_annotations(tmp_path, records):
    report = write_store(tmp_path / "store", records, splits={"train": ["a", "c"], "val": ["b"]}, layout="coco")
    assert report["records"] == 3 and report["rows"] == 6 + 8 + 9 and report["splits"] == {"train": 2, "val": 1}
    store = PoseStore(tmp_path / "store" / "index.json")
    assert store.layout == "coco" and store.has_score and (store.num_joints, store.coords) == (17, 2)
    assert [e.frame_dir for e in store.select("train")] == ["a", "c"]
    assert [e.frame_dir for e in store.select(None)] == ["a", "b", "c"]
    for record, loaded in zip(records, store.records()):
        assert loaded.frame_dir == record.frame_dir and loaded.label == record.label
        assert loaded.img_shape == (120, 160) and loaded.original_shape == (240, 320)
        np.testing.assert_array_equal(loaded.keypoint, record.keypoint)
        np.testing.assert_array_equal(loaded.keypoint_score, record.keypoint_score)
    assert store.by_name["b"].num_persons == 2 and store.by_name["b"].total_frames == 4


def test_arrays_are_memory_mapped_and_loaded_without_pickle(tmp_path, records):
    write_store(tmp_path, records)
    store = PoseStore(tmp_path / "index.json")
    assert isinstance(store.keypoint, np.memmap)
    assert np.load(tmp_path / "keypoint.npy", allow_pickle=False).shape == (23, 17, 2)


def test_3d_records_without_scores(tmp_path, make_record):
    record = make_record("x", coords=3, joints=25, score=False)
    write_store(tmp_path, [record], layout="nturgb+d")
    assert not (tmp_path / "keypoint_score.npy").exists()
    kp, score = PoseStore(tmp_path / "index.json").arrays(PoseStore(tmp_path / "index.json").entries[0])
    assert score is None and kp.shape == (1, 6, 25, 3)


@pytest.mark.parametrize("keypoint, score, message", [
    (np.zeros((2, 5, 17)), None, r"keypoint has shape \[2, 5, 17\]"),
    (np.zeros((1, 5, 17, 4)), None, r"keypoint has shape \[1, 5, 17, 4\]"),
    (np.zeros((0, 5, 17, 2)), None, "zero persons"),
    (np.zeros((1, 0, 17, 2)), None, "zero frames"),
    (np.full((1, 2, 17, 2), np.nan), None, "NaN"),
    (np.zeros((1, 2, 17, 2)), np.zeros((1, 2, 16)), r"keypoint_score has shape \[1, 2, 16\]"),
    (np.zeros((1, 2, 17, 2)), np.full((1, 2, 17), np.inf), "keypoint_score holds NaN or infinite"),
])
def test_bad_records_are_refused(keypoint, score, message):
    with pytest.raises(DataError, match=f"ann.pkl: record 3 .*{message}"):
        check_pose(keypoint, score, "ann.pkl: record 3 (frame_dir 'v')")


def test_total_frames_must_agree():
    with pytest.raises(DataError, match="total_frames is 7 but keypoint holds 5 frames"):
        check_pose(np.zeros((1, 5, 17, 2)), None, "x", total_frames=7)


def test_one_store_holds_one_layout_and_unique_names(tmp_path, make_record):
    with pytest.raises(DataError, match="record 1 .*'b'.*18 joints"):
        write_store(tmp_path / "s", [make_record("a"), make_record("b", joints=18)])
    with pytest.raises(DataError, match="frame_dir 'a' names two records"):
        write_store(tmp_path / "s", [make_record("a"), make_record("a")])
    with pytest.raises(DataError, match="split 'val' names 1 unknown record"):
        write_store(tmp_path / "s", [make_record("a")], splits={"val": ["zz"]})
    with pytest.raises(DataError, match="keypoint_score is missing"):
        write_store(tmp_path / "s", [make_record("a"), make_record("b", score=False)])


def test_refuses_to_write_into_a_foreign_folder(tmp_path, make_record):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty and holds no pose store"):
        write_store(tmp_path, [make_record("a")])


def test_tampered_index_names_the_record(tmp_path, records):
    write_store(tmp_path, records)
    index = json.loads((tmp_path / "index.json").read_text())
    index["records"][1]["start"] = 10_000
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(DataError, match=r"index.json: record 1 \(frame_dir 'b'\): rows \[10000, 10008\) lie outside"):
        PoseStore(tmp_path / "index.json")
    index["records"][1]["num_persons"] = 0
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(DataError, match="record 1 .*zero persons"):
        PoseStore(tmp_path / "index.json")


def test_nan_written_into_the_arrays_is_caught_when_the_record_is_read(tmp_path, records):
    write_store(tmp_path, records)
    kp = np.load(tmp_path / "keypoint.npy")
    kp[7, 3, 1] = np.nan  # a row of record 'b'
    np.save(tmp_path / "keypoint.npy", kp)
    store = PoseStore(tmp_path / "index.json")
    store.arrays(store.by_name["a"])
    with pytest.raises(DataError, match=r"index.json#b: keypoint holds NaN"):
        store.arrays(store.by_name["b"])


def test_not_a_store(tmp_path, make_record):
    (tmp_path / "ann.pkl").write_bytes(b"\x80\x04")
    with pytest.raises(DataError, match="convert-pose"):
        PoseStore(tmp_path / "ann.pkl")
    with pytest.raises(DataError, match="pose index not found"):
        PoseStore(tmp_path / "missing.json")
    with pytest.raises(DataError, match="no split 'test'"):
        write_store(tmp_path / "s", [make_record("a")], splits={"train": ["a"]})
        PoseStore(tmp_path / "s" / "index.json").select("test")


def test_record_shapes_as_properties():
    record = PoseRecord("v", 1, (10, 20), np.zeros((2, 7, 17, 2), np.float32))
    assert (record.num_persons, record.total_frames) == (2, 7)
