"""AVA files, the ava dataset, MMAction2's frame arithmetic, boxes through transforms, bad input."""
import pickle

import numpy as np
import pytest

from actioncore.sdk import ConfigError, DataError, build
from actioncore.sdk.data import ClipDataset
from actioncore.testing import assert_component_contract
from actioncore_detection.annotations import read_action_csv, read_label_map, read_proposals
from actioncore_detection.convert import convert_ava_proposals
from actioncore_detection.sampling import ava_frame_indices
from actioncore_detection.targets import KeyframeTargets

pytestmark = pytest.mark.actioncore_plugins("actioncore_detection.hooks")


def dataset(host, root, split="val", pipeline=None, **params):
    ann = root / "data" / "synth_det" / "annotations"
    spec = {"type": "ava", "ann_file": str(ann / f"{split}.csv"), "exclude_file": str(ann / f"{split}_excluded.csv"),
            "label_file": str(ann / "label_map.pbtxt"), "proposal_file": str(ann / f"{split}_proposals.csv"),
            "root": str(root / "data" / "synth_det" / "rawframes"), "fps": 8, "timestamp_end": 908,
            "pipeline": pipeline or [{"type": "sample_ava_frames", "clip_len": 4, "frame_interval": 2,
                                      "test_mode": True}, {"type": "decode"}], **params}
    annotations = build("dataset", spec.pop("type"), **spec)
    decoder = build("decoder", "frame_folder")
    return annotations, ClipDataset(annotations, decoder=decoder)


def test_mmaction2_frame_arithmetic():
    # MMAction2 1.2.0, timestamp 902, fps 30, start 900, start_index 1, 4x16: centre 61, then
    # frame files 61 - 32 + 16 k (+1 for the file number): img_00030, 46, 62, 78
    idx = ava_frame_indices(902, fps=30, timestamp_start=900, start_index=1, clip_len=4, frame_interval=16,
                            shot_end=27000)
    assert idx.tolist() == [29, 45, 61, 77]
    # near the start the indices clip to the first frame
    idx = ava_frame_indices(900, fps=30, timestamp_start=900, start_index=1, clip_len=4, frame_interval=16,
                            shot_end=27000, offsets=np.array([-8, 0, 3, 7]))
    assert idx.tolist() == [0, 0, 4, 24]


def test_components_honour_the_contract(actioncore_host):
    assert_component_contract(actioncore_host, "transform", "sample_ava_frames", {"clip_len": 4})
    assert_component_contract(actioncore_host, "transform", "random_rescale", {"scale_range": [32, 40]})
    assert_component_contract(actioncore_host, "metric", "ava_frame_map")
    assert_component_contract(actioncore_host, "task", "detection")


def test_keyframes_group_actions_per_person_and_drop_excluded(actioncore_host, synth_root):
    annotations, data = dataset(actioncore_host, synth_root)
    rows = read_action_csv(synth_root / "data/synth_det/annotations/val.csv")
    assert len(set(rows.keys())) == 4 * 6 and len(annotations) == 4 * 5  # one excluded keyframe per video
    assert all(k.timestamp != 906 for k in annotations.keyframes)
    first = annotations.keyframes[0]
    people = {tuple(b) for b in rows.boxes[np.array(rows.keys()) == "val_000,0901"].astype(np.float32)}
    assert len(first.gt_boxes) == len(people)
    assert first.gt_labels.shape == (len(people), 6) and first.gt_labels[:, 0].sum() == 0
    assert ((first.gt_labels[:, 1] + first.gt_labels[:, 2]) == 1).all()  # one posture each
    sample = data[0]
    assert isinstance(sample.label, KeyframeTargets)
    assert sample.frames.shape == (4, 64, 64, 3) and sample.label.img_shape == (64, 64)
    np.testing.assert_allclose(sample.label.gt_boxes, first.gt_boxes * 64, rtol=1e-6)
    assert sample.frame_indices.tolist() == [[5, 7, 9, 11]]  # centre 8 * 1 + 1


def test_person_det_score_thr_keeps_the_best_when_none_passes(actioncore_host, synth_root):
    annotations, _ = dataset(actioncore_host, synth_root, person_det_score_thr=1.0)
    assert all(len(k.proposals) == 1 for k in annotations.keyframes)
    loose, _ = dataset(actioncore_host, synth_root, person_det_score_thr=0.0)
    assert sum(len(k.proposals) for k in loose.keyframes) > sum(len(k.gt_boxes) for k in loose.keyframes)


@pytest.mark.parametrize("jitter", [False, True])
def test_boxes_follow_resize_crop_and_flip(actioncore_host, synth_root, jitter):
    steps = [{"type": "sample_ava_frames", "clip_len": 2, "frame_interval": 2, "test_mode": True},
             {"type": "decode"}, {"type": "resize", "scale": [-1, 128]}]
    if jitter:  # a step that needs pixels applies the pending geometry in between
        steps.append({"type": "color_jitter", "brightness": 0.1, "contrast": 0.0, "saturation": 0.0, "hue": 0.0})
    steps += [{"type": "center_crop", "crop_size": 96}, {"type": "flip", "flip_ratio": 1.0},
              {"type": "format_shape", "input_format": "NCTHW", "collapse": True}]
    annotations, data = dataset(actioncore_host, synth_root, pipeline=steps)
    sample = data[3]
    expected = np.clip(annotations.keyframes[3].gt_boxes * 128 - 16, 0, 96)
    expected = np.stack([96 - expected[:, 2], expected[:, 1], 96 - expected[:, 0], expected[:, 3]], axis=1)
    np.testing.assert_allclose(sample.label.gt_boxes, expected, atol=1e-4)
    assert sample.frames.shape == (3, 2, 96, 96) and sample.label.img_shape == (96, 96)


def test_random_rescale_draws_the_short_side(actioncore_host, synth_root):
    steps = [{"type": "sample_ava_frames", "clip_len": 1, "test_mode": True}, {"type": "decode"},
             {"type": "random_rescale", "scale_range": [70, 90]}]
    annotations, data = dataset(actioncore_host, synth_root, pipeline=steps)
    sides = {data[i].frames.shape[1] for i in range(8)}
    assert sides <= set(range(70, 91)) and len(sides) > 1
    sample = data[0]
    scale = sample.frames.shape[1] / 64
    np.testing.assert_allclose(sample.label.proposals, annotations.keyframes[0].proposals * 64 * scale, rtol=1e-5)


def test_multi_view_steps_are_refused(actioncore_host, synth_root):
    with pytest.raises(ConfigError, match="views"):
        dataset(actioncore_host, synth_root, pipeline=[{"type": "sample_ava_frames", "clip_len": 1},
                                                       {"type": "decode"}, {"type": "three_crop", "crop_size": 64}])


def test_box_outside_unit_square_names_file_and_line(actioncore_host, synth_root, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("val_000,0901,0.1,0.1,0.5,0.5,1,0\nval_000,0901,0.1,0.1,1.5,0.5,2,1\n")
    with pytest.raises(DataError, match=r"bad.csv:2: box .* outside \[0, 1\]"):
        dataset(actioncore_host, synth_root, ann_file=str(bad))


def test_timestamp_without_frames(actioncore_host, synth_root, tmp_path):
    late = tmp_path / "late.csv"
    late.write_text("val_000,0950,0.1,0.1,0.5,0.5,1,0\n")
    _, data = dataset(actioncore_host, synth_root, ann_file=str(late), proposal_file=None)
    with pytest.raises(DataError, match="timestamp 950 of val_000 has no frames"):
        data[0]


def test_proposals_of_other_annotations(actioncore_host, synth_root):
    ann = synth_root / "data/synth_det/annotations"
    with pytest.raises(DataError, match="do not match the annotations"):
        dataset(actioncore_host, synth_root, proposal_file=str(ann / "train_proposals.csv"))
    with pytest.raises(ConfigError, match="convert ava_proposals"):
        dataset(actioncore_host, synth_root, proposal_file=str(ann / "val_proposals.pkl"))


def test_label_map_and_custom_classes(actioncore_host, synth_root):
    labels = read_label_map(synth_root / "data/synth_det/annotations/label_map.pbtxt")
    assert labels.ids == (1, 2, 3, 4, 5) and labels.names == ("stand", "walk", "wave", "carry", "watch")
    annotations, _ = dataset(actioncore_host, synth_root, custom_classes=[2, 4])
    assert annotations.num_classes == 3
    assert all(k.gt_labels.shape[1] == 3 for k in annotations.keyframes)
    # people who only stand (and hold nothing) have no action among the custom classes
    assert sum(len(k.gt_boxes) for k in annotations.keyframes) < sum(
        len(k.gt_boxes) for k in dataset(actioncore_host, synth_root)[0].keyframes)
    with pytest.raises(ConfigError, match="not in the label map"):
        dataset(actioncore_host, synth_root, custom_classes=[2, 9])


def test_proposal_pickle_converts_only_when_trusted(tmp_path):
    source = tmp_path / "props.pkl"
    boxes = {"vid_a,0902": np.array([[0.1, 0.2, 0.5, 0.9, 0.99], [0.3, 0.1, 0.4, 0.2, 0.05]]),
             "vid_b,1001": np.array([[0.0, 0.0, 1.0, 1.0, 0.5]])}
    source.write_bytes(pickle.dumps(boxes))
    with pytest.raises(DataError, match="refusing to load a pickle"):
        convert_ava_proposals(source, tmp_path / "p.csv", trust_pickle=False)
    report = convert_ava_proposals(source, tmp_path / "p.csv", trust_pickle=True)
    assert report["keyframes"] == 2 and report["boxes"] == 3
    back = read_proposals(tmp_path / "p.csv")
    for key, value in boxes.items():
        np.testing.assert_array_equal(back[key], value.astype(np.float32))
    source.write_bytes(pickle.dumps({"vid_a,0902": np.array([[0.1, 0.2, 1.5, 0.9]])}))
    with pytest.raises(DataError, match=r"normalised to \[0, 1\]"):
        convert_ava_proposals(source, tmp_path / "q.csv", trust_pickle=True)


def test_embedded_set_is_deterministic_and_refuses_foreign_folders(tmp_path):
    from actioncore.sdk.data import synthesize

    first = synthesize("detection", tmp_path / "a", seed=5, size="tiny")
    second = synthesize("detection", tmp_path / "b", seed=5, size="tiny")
    assert first.files == second.files and first.num_samples == {"train": 4, "val": 4}
    for name in ("annotations/train.csv", "annotations/val_proposals.csv", "rawframes/val_001/img_00009.jpg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    other = synthesize("detection", tmp_path / "c", seed=6, size="tiny")
    assert (tmp_path / "c/annotations/train.csv").read_bytes() != (tmp_path / "a/annotations/train.csv").read_bytes()
    assert other.classes == ("stand", "walk", "wave", "carry", "watch")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "mine.txt").write_text("keep")
    with pytest.raises(DataError, match="not empty"):
        synthesize("detection", tmp_path / "d")


def test_watchers_see_another_actor_wave(actioncore_host, synth_root):
    annotations, _ = dataset(actioncore_host, synth_root)
    watched = 0
    for keyframe in annotations.keyframes:
        labels = keyframe.gt_labels
        waving = labels[:, 3] == 1
        assert ((labels.sum(axis=1) >= 1) & (labels.sum(axis=1) <= 2)).all()  # one or two actions each
        for person in range(len(labels)):
            others_wave = bool(np.delete(waving, person).any())
            no_gesture = labels[person, 3] == 0 and labels[person, 4] == 0
            assert labels[person, 5] == float(others_wave and no_gesture)
            watched += int(labels[person, 5])
    assert watched > 0
