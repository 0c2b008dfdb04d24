"""``actioncore data convert-pose``: MMAction2 pose pickles (1.x and 0.x layouts) to pose stores."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from actioncore.cli import main
from actioncore.sdk import DataError
from actioncore_pose.convert import convert_pose
from actioncore_pose.records import PoseStore

pytestmark = pytest.mark.actioncore_plugins("actioncore_pose.hooks")


def annotation(name: str, label: int, persons: int = 1, frames: int = 5, joints: int = 17, coords: int = 2,
               seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    item = {"frame_dir": name, "label": label, "img_shape": (1080, 1920), "original_shape": (1080, 1920),
            "total_frames": frames,
            "keypoint": rng.uniform(0, 1000, (persons, frames, joints, coords)).astype(np.float16)}
    if coords == 2:
        item["keypoint_score"] = rng.uniform(0, 1, (persons, frames, joints)).astype(np.float16)
    return item


def write_pickle(path, data) -> None:
    with open(path, "wb") as f:
        pickle.dump(data, f)


@pytest.fixture
def mmaction_1x(tmp_path):
    items = [annotation("S001C001P001R001A001", 0, seed=1), annotation("S001C001P002R001A002", 1, persons=2, seed=2),
             annotation("S001C001P003R001A001", 0, frames=8, seed=3)]
    path = tmp_path / "ntu60_2d.pkl"
    write_pickle(path, {"split": {"xsub_train": [items[0]["frame_dir"], items[2]["frame_dir"]],
                                  "xsub_val": [items[1]["frame_dir"]]}, "annotations": items})
    return path, items


def test_converts_the_1x_layout_with_splits(tmp_path, mmaction_1x):
    source, items = mmaction_1x
    report = convert_pose(source, tmp_path / "out", trust_pickle=True)
    assert report["records"] == 3 and report["layout"] == "coco" and report["splits"] == {"xsub_train": 2, "xsub_val": 1}
    store = PoseStore(tmp_path / "out" / "index.json")
    assert [e.frame_dir for e in store.select("xsub_val")] == ["S001C001P002R001A002"]
    for item, record in zip(items, store.records()):
        np.testing.assert_array_equal(record.keypoint, item["keypoint"].astype(np.float32))
        np.testing.assert_array_equal(record.keypoint_score, item["keypoint_score"].astype(np.float32))
        assert record.keypoint.dtype == np.float32 and record.label == item["label"]
        assert record.img_shape == (1080, 1920) and record.total_frames == item["total_frames"]


def test_converts_the_old_plain_list_of_3d_skeletons(tmp_path):
    source = tmp_path / "ntu60_3d.pkl"
    write_pickle(source, [annotation("a", 3, coords=3, joints=25), annotation("b", 4, persons=2, coords=3, joints=25)])
    report = convert_pose(source, tmp_path / "out", trust_pickle=True)
    assert report["layout"] == "nturgb+d" and report["splits"] == {} and not report["has_score"]
    store = PoseStore(tmp_path / "out" / "index.json")
    assert [e.label for e in store.entries] == [3, 4] and store.keypoint_score is None


def test_refuses_a_pickle_without_trust_and_writes_nothing(tmp_path, mmaction_1x):
    source, _ = mmaction_1x
    with pytest.raises(DataError, match="ntu60_2d.pkl: refusing to load a pickle"):
        convert_pose(source, tmp_path / "out", trust_pickle=False)
    assert not (tmp_path / "out").exists()


def test_command_line_with_and_without_trust(tmp_path, mmaction_1x, capsys, actioncore_host):
    source, _ = mmaction_1x
    assert main(["data", "convert-pose", str(source), str(tmp_path / "out")]) == 2
    assert "--trust-pickle" in capsys.readouterr().err
    assert main(["data", "convert-pose", str(source), str(tmp_path / "out"), "--trust-pickle", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["records"] == 3 and (tmp_path / "out" / "keypoint.npy").is_file()
    assert main(["data", "convert", "pose", str(source), str(tmp_path / "out2"), "--trust-pickle"]) == 0


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(keypoint=a["keypoint"][0]), r"record 1 \(frame_dir 'bad'\): keypoint has shape \[5, 17, 2\]"),
    (lambda a: a.update(keypoint=a["keypoint"][:0], keypoint_score=a["keypoint_score"][:0]),
     r"record 1 \(frame_dir 'bad'\): keypoint has zero persons"),
    (lambda a: a.update(keypoint=a["keypoint"][:, :0], keypoint_score=a["keypoint_score"][:, :0], total_frames=0),
     r"record 1 \(frame_dir 'bad'\): keypoint has zero frames"),
    (lambda a: a["keypoint"].__setitem__((0, 2, 3, 1), np.nan), r"record 1 \(frame_dir 'bad'\): keypoint holds NaN"),
    (lambda a: a.update(keypoint_score=a["keypoint_score"][..., :3]), r"record 1 .*keypoint_score has shape"),
    (lambda a: a.update(total_frames=9), "total_frames is 9 but keypoint holds 5 frames"),
    (lambda a: a.pop("keypoint"), "no 'keypoint' array"),
    (lambda a: a.update(label="walk"), "label must be an integer"),
    (lambda a: a.update(img_shape=(0, 4)), "img_shape must be a positive"),
    (lambda a: a.update(frame_inds=np.arange(5)), "compressed per-box pose annotations"),
])
def test_bad_records_name_the_file_and_the_record(tmp_path, change, message):
    bad = annotation("bad", 1, seed=5)
    change(bad)
    source = tmp_path / "bad.pkl"
    write_pickle(source, [annotation("good", 0), bad])
    with pytest.raises(DataError, match=f"bad.pkl: {message}" if message.startswith("record") else message) as info:
        convert_pose(source, tmp_path / "out", trust_pickle=True)
    assert "bad.pkl" in str(info.value)


@pytest.mark.parametrize("data, message", [
    ({"split": {}}, "a dict without 'annotations'"),
    ([], "holds no pose records"),
    ("text", "expected a list of pose records"),
    ({"split": {"train": ["nope"]}, "annotations": [annotation("a", 0)]}, "split 'train' names 1 unknown record"),
])
def test_bad_files(tmp_path, data, message):
    source = tmp_path / "f.pkl"
    write_pickle(source, data)
    with pytest.raises(DataError, match=message):
        convert_pose(source, tmp_path / "out", trust_pickle=True)


def test_truncated_pickle(tmp_path, mmaction_1x):
    source, _ = mmaction_1x
    (tmp_path / "cut.pkl").write_bytes(source.read_bytes()[:100])
    with pytest.raises(DataError, match="cut.pkl: not a readable pickle"):
        convert_pose(tmp_path / "cut.pkl", tmp_path / "out", trust_pickle=True)
