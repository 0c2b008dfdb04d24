"""pose_records through the kernel's dataset, loader and data check; the embedded skeleton set."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import actioncore
from actioncore import load_config
from actioncore.sdk.data import ClipDataset, check_splits, collate, synthesize
from actioncore.sdk import ConfigError, DataError
from actioncore_pose.dataset import PoseDecoder, PoseRecords, split_source
from actioncore_pose.records import PoseStore, write_store

pytestmark = pytest.mark.actioncore_plugins("actioncore_pose.hooks")

GCN_PIPELINE = [{"type": "pre_normalize_2d"}, {"type": "gen_ske_feat", "feats": ["j", "b"]},
                {"type": "uniform_sample_frames", "clip_len": 4, "num_clips": 2, "test_mode": True},
                {"type": "pose_decode"}, {"type": "format_gcn_input", "num_person": 2}]


def build_pipeline(steps):
    return [actioncore.build("transform", s["type"], **{k: v for k, v in s.items() if k != "type"}) for s in steps]


@pytest.fixture
def store(tmp_path, records):
    write_store(tmp_path / "poses", records, splits={"train": ["a", "c"], "val": ["b"]}, layout="coco")
    return tmp_path / "poses"


def test_records_of_a_split_open_through_the_decoder(store, actioncore_host):
    dataset = PoseRecords(ann_file="index.json", root=str(store), split="train", pipeline=[])
    assert [r.label for r in dataset.records] == [0, 2] and [r.num_frames for r in dataset.records] == [6, 9]
    assert split_source(dataset.records[1].source) == (str(store / "index.json"), "c")
    with PoseDecoder().open(dataset.records[1].source) as reader:
        assert (reader.num_frames, reader.height, reader.width) == (9, 120, 160)
        frames = reader.read([0, 8])
        assert frames.shape == (2, 1, 17, 2)
        with pytest.raises(DataError, match="frame index 9 is out of range"):
            reader.read([9])
    assert len(PoseRecords(ann_file=str(store), pipeline=[]).records) == 3  # the folder, no split: all


def test_samples_and_batches_for_a_gcn(store, actioncore_host):
    dataset = ClipDataset(PoseRecords(ann_file=str(store / "index.json"), split="train",
                                      pipeline=build_pipeline(GCN_PIPELINE)), decoder=PoseDecoder())
    batch = collate([dataset[0], dataset[1]])
    assert tuple(batch["inputs"].shape) == (2, 2, 2, 4, 17, 6)  # [N, clips, M, T, V, j + b channels]
    assert batch["inputs"].dtype == torch.float32 and batch["labels"].tolist() == [0, 2]
    assert batch["normalize"] is None and batch["num_clips"] == 2


def test_posec3d_batches_are_uint8_volumes_with_their_scale(store, actioncore_host):
    steps = [{"type": "uniform_sample_frames", "clip_len": 3, "num_clips": 2, "test_mode": True},
             {"type": "pose_decode"}, {"type": "pose_compact", "hw_ratio": 1.0},
             {"type": "pose_resize", "scale": [-1, 20]}, {"type": "pose_center_crop", "crop_size": 20},
             {"type": "generate_pose_target", "double": True}, {"type": "format_heatmap"}]
    dataset = ClipDataset(PoseRecords(ann_file=str(store), pipeline=build_pipeline(steps)), decoder=PoseDecoder())
    batch = collate([dataset[0], dataset[2]])
    assert tuple(batch["inputs"].shape) == (2, 4, 17, 3, 20, 20) and batch["inputs"].dtype == torch.uint8
    assert batch["normalize"]["std"] == (255.0,) and batch["input_format"] == "NCTHW"


def test_a_record_with_nan_is_skipped_or_raised_by_name(store, actioncore_host):
    kp = np.load(store / "keypoint.npy")
    kp[6] = np.nan  # first row of record 'b'
    np.save(store / "keypoint.npy", kp)
    annotations = PoseRecords(ann_file=str(store), pipeline=build_pipeline(GCN_PIPELINE))
    with pytest.raises(DataError, match=r"index.json#b: keypoint holds NaN"):
        ClipDataset(annotations, decoder=PoseDecoder())[1]
    skipping = ClipDataset(annotations, decoder=PoseDecoder(), on_error="skip")
    sample = skipping[1]
    assert sample.label == 2 and "NaN" in sample.meta["skipped"][0].reason


def test_data_check_reads_every_record(tmp_path, store, actioncore_host):
    kp = np.load(store / "keypoint.npy")
    kp[20, 0, 0] = np.inf  # in record 'c'
    np.save(store / "keypoint.npy", kp)
    experiment = tmp_path / "exp.toml"
    experiment.write_text(f"""
[data.train]
type = "pose_records"
ann_file = "{store / 'index.json'}"
pipeline = []
""")
    (result,) = check_splits(load_config(experiment))
    assert result.checked == 3 and [b.source.rsplit("#")[-1] for b in result.bad] == ["c"]


def test_stand_in_pose_for_info_shapes(actioncore_host):
    from actioncore.sdk.data import Pipeline, probe

    sample = probe(Pipeline(build_pipeline([{"type": "pre_normalize_3d"}, *GCN_PIPELINE[1:]])))
    assert tuple(sample.frames.shape) == (2, 2, 4, 25, 6)  # NTU joints, 3D: j + b = 6 channels
    sample = probe(Pipeline(build_pipeline(GCN_PIPELINE)))
    assert tuple(sample.frames.shape) == (2, 2, 4, 17, 6)


def test_bad_dataset_arguments(tmp_path, store, actioncore_host):
    with pytest.raises(DataError, match="no split 'test'"):
        PoseRecords(ann_file=str(store), split="test", pipeline=[])
    with pytest.raises(DataError, match="convert-pose"):
        PoseRecords(ann_file=str(tmp_path / "ntu60_2d.pkl"), pipeline=[])
    with pytest.raises(DataError, match="has no record 'zz'"):
        PoseDecoder().open(f"{store / 'index.json'}#zz")
    with pytest.raises(ConfigError, match="inside a pose dataset"):
        build_pipeline(GCN_PIPELINE)[0](__import__("actioncore").data.sample.VideoSample(source="x"))


def test_embedded_skeleton_set_is_deterministic_and_varied(tmp_path, actioncore_host):
    first = synthesize("skeleton", tmp_path / "a", seed=3, size="tiny")
    second = synthesize("skeleton", tmp_path / "b", seed=3, size="tiny")
    assert first.num_samples == {"train": 32, "val": 16, "test": 16} and len(first.classes) == 8
    for name in ("index.json", "keypoint.npy", "keypoint_score.npy"):
        assert (tmp_path / "a/poses" / name).read_bytes() == (tmp_path / "b/poses" / name).read_bytes()
    store = PoseStore(first.ann_files["train"])
    assert store.layout == "coco" and sorted({e.label for e in store.select("train")}) == list(range(8))
    persons = [e.num_persons for e in store.entries]
    assert 1 in persons and 2 in persons  # a bystander in some samples
    assert (store.keypoint_score[:] == 0).any() and {e.img_shape for e in store.entries} == {(480, 640)}
    lengths = {e.total_frames for e in store.entries}
    assert min(lengths) >= 40 and max(lengths) <= 80 and len(lengths) > 5
    assert (tmp_path / "a/classes.txt").read_text().split() == list(first.classes)
    other = synthesize("skeleton", tmp_path / "c", seed=4, size="tiny")
    assert (tmp_path / "c/poses/keypoint.npy").read_bytes() != (tmp_path / "a/poses/keypoint.npy").read_bytes()
    assert other.data_prefix == tmp_path / "c/poses"


def test_embedded_skeleton_set_in_3d(tmp_path, actioncore_host):
    report = synthesize("skeleton", tmp_path / "s", size="tiny", layout="nturgb+d")
    store = PoseStore(report.ann_files["test"])
    assert store.layout == "nturgb+d" and (store.num_joints, store.coords) == (25, 3) and not store.has_score
    kp, _ = store.arrays(store.entries[0])
    assert 2.5 < np.median(kp[0, :, :, 2]) < 5.5  # metres from the camera
    assert json.loads((tmp_path / "s/poses/index.json").read_text())["splits"].keys() == {"train", "val", "test"}
