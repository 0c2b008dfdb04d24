"""Person boxes through the kernel's resize, crop and flip; person masks; scene cutout; collate."""
from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest
import torch

import actioncore
from actioncore.sdk import ConfigError, DataError
from actioncore.sdk.data import ClipDataset, ClipRecord, Pipeline, collate, write_mp4

from actioncore_augment.boxes import write_person_boxes

pytestmark = pytest.mark.actioncore_plugins("actioncore_augment.hooks")

HEIGHT, WIDTH, FRAMES = 48, 64, 8


def rectangle(t: int) -> tuple[int, int, int, int]:
    """The white rectangle of frame ``t``: (x1, y1, x2, y2), end exclusive, moving right and down."""
    return 6 + 3 * t, 8 + t, 26 + 3 * t, 30 + t


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> tuple[Path, Path]:
    """A decoded-for-real mp4 of a white rectangle on a dark noisy background, and its box file."""
    folder = tmp_path_factory.mktemp("person")
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 60, (FRAMES, HEIGHT, WIDTH, 3), dtype=np.uint8)
    for t in range(FRAMES):
        x1, y1, x2, y2 = rectangle(t)
        frames[t, y1:y2, x1:x2] = 255
    path = write_mp4(frames, folder / "v_white_box.mp4", fps=8)
    boxes = {"v_white_box": {t: [[*rectangle(t), 0.9], [0, 0, 5, 5, 0.4]] for t in range(FRAMES)}}  # 0.4: not > 0.4
    return path, write_person_boxes(folder / "boxes.json", boxes)


@attrs.define
class Annotations:
    records: list
    pipeline: list
    default_decoder: str = "pyav"


def steps(*tables: dict) -> list:
    return [actioncore.build("transform", t.pop("type"), **t) for t in map(dict, tables)]


def dataset(video_path: Path, pipeline: list, seed: int = 0) -> ClipDataset:
    decoder = actioncore.build("decoder", "pyav")
    return ClipDataset(Annotations([ClipRecord(str(video_path), 0)], pipeline), decoder=decoder, seed=seed)


SAMPLE = [{"type": "sample_frames", "clip_len": 4, "frame_interval": 2, "num_clips": 1}, {"type": "decode"}]


def test_mask_stays_on_the_white_box_through_resize_crop_flip(actioncore_host, video):
    path, box_file = video
    pipeline = steps(*SAMPLE, {"type": "person_boxes", "file": str(box_file)},
                     {"type": "resize", "scale": [-1, 40]},
                     {"type": "random_resized_crop", "area_range": [0.3, 1.0]},
                     {"type": "resize", "scale": [32, 32], "keep_ratio": False},
                     {"type": "flip", "flip_ratio": 0.5},
                     {"type": "person_mask"})
    flips, compared = set(), 0
    for seed in range(8):
        sample = dataset(path, pipeline, seed=seed)[0]
        flips.add(sample.meta["flip"])
        assert sample.frames.shape == (4, 32, 32, 3) and sample.person_mask.shape == (4, 32, 32)
        assert all(b.shape == (1, 4) for b in sample.boxes)  # the 0.4-score box is dropped (strict >)
        white = sample.frames.float().mean(-1) > 128
        for n in range(4):
            x1, y1, x2, y2 = sample.boxes[n][0].tolist()
            if min(x2 - x1, y2 - y1) < 4:  # a sliver left by the crop: edges dominate, nothing to compare
                continue
            ys, xs = np.nonzero(white[n].numpy())
            extent = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]  # the white pixels' box
            assert np.abs(np.array(extent) - [x1, y1, x2, y2]).max() <= 1.5, (seed, n, extent, (x1, y1, x2, y2))
            mask = sample.person_mask[n].bool()  # rendered with truncated corners: up to 1 px off per side
            iou = (white[n] & mask).sum().item() / (white[n] | mask).sum().item()
            assert iou > 0.6, (seed, n, iou)
            compared += 1
    assert flips == {True, False}
    assert compared >= 16


def test_boxes_map_exactly_through_the_fused_geometry(actioncore_host, video):
    path, box_file = video
    pipeline = steps(*SAMPLE, {"type": "person_boxes", "file": str(box_file)},
                     {"type": "resize", "scale": [32, 24], "keep_ratio": False},
                     {"type": "flip", "flip_ratio": 1.0})
    sample = dataset(path, pipeline)[0]
    indices = sample.frame_indices.reshape(-1)
    for n, t in enumerate(indices.tolist()):
        x1, y1, x2, y2 = rectangle(t)
        expected = [32 - x2 / 2, y1 / 2, 32 - x1 / 2, y2 / 2]  # half size, x mirrored: x1' = W - x2
        assert sample.boxes[n][0].tolist() == pytest.approx(expected)


def test_scene_cutout_keeps_only_the_boxes(actioncore_host, video):
    path, box_file = video
    pipeline = steps(*SAMPLE, {"type": "person_boxes", "file": str(box_file)}, {"type": "scene_cutout"})
    sample = dataset(path, pipeline)[0]
    for n, t in enumerate(sample.frame_indices.reshape(-1).tolist()):
        x1, y1, x2, y2 = rectangle(t)
        outside = torch.ones(HEIGHT, WIDTH, dtype=torch.bool)
        outside[y1:y2, x1:x2] = False
        assert (sample.frames[n][outside] == torch.tensor([124, 116, 104], dtype=torch.uint8)).all()
        assert sample.frames[n][~outside].float().mean() > 200


def test_no_boxes_means_all_person_mask_and_no_cutout(actioncore_host, video, tmp_path):
    path, _ = video
    empty = write_person_boxes(tmp_path / "none.npz", {"v_white_box": {0: []}})
    mask_pipe = steps(*SAMPLE, {"type": "person_boxes", "file": str(empty)}, {"type": "person_mask"})
    assert (dataset(path, mask_pipe)[0].person_mask == 1).all()
    plain = dataset(path, steps(*SAMPLE))[0].frames
    cut = dataset(path, steps(*SAMPLE, {"type": "person_boxes", "file": str(empty)}, {"type": "scene_cutout"}))[0]
    assert torch.equal(cut.frames, plain)


def test_collate_stacks_person_masks(actioncore_host, video):
    path, box_file = video
    pipeline = steps(*SAMPLE, {"type": "person_boxes", "file": str(box_file)}, {"type": "person_mask"},
                     {"type": "format_shape", "input_format": "NCTHW"})
    data = dataset(path, pipeline)
    batch = collate([data[0], data[0]])
    assert batch["person_mask"].shape == (2, 4, HEIGHT, WIDTH) and batch["person_mask"].dtype == torch.uint8
    assert "person_mask" not in collate([dataset(path, steps(*SAMPLE))[0]])


def test_bad_box_input_is_a_clear_error(actioncore_host, video, tmp_path):
    path, _ = video
    other = write_person_boxes(tmp_path / "other.json", {"v_other": {0: [[0, 0, 1, 1, 1.0]]}})
    with pytest.raises(DataError, match=r"other\.json: no boxes for video 'v_white_box'"):
        dataset(path, steps(*SAMPLE, {"type": "person_boxes", "file": str(other)}))[0]
    late = write_person_boxes(tmp_path / "late.json", {"v_white_box": {FRAMES + 2: [[0, 0, 1, 1, 1.0]]}})
    with pytest.raises(DataError, match=rf"late\.json: video 'v_white_box' has boxes for frame {FRAMES + 2}, but the "
                                        rf"video .* has {FRAMES} frames"):
        dataset(path, steps(*SAMPLE, {"type": "person_boxes", "file": str(late)}))[0]
    big = write_person_boxes(tmp_path / "big.json", {"v_white_box": {0: [[0, 0, 320, 240, 1.0]]}})
    with pytest.raises(DataError, match=r"big\.json: boxes of video 'v_white_box' reach past its 64x48"):
        dataset(path, steps({"type": "sample_frames", "clip_len": 1, "num_clips": 1, "test_mode": True},
                            {"type": "decode"}, {"type": "person_boxes", "file": str(big)}))[0]
    with pytest.raises(ConfigError, match="person_boxes must come right after decode"):
        dataset(path, steps(*SAMPLE, {"type": "resize", "scale": [32, 24], "keep_ratio": False},
                            {"type": "color_jitter"}, {"type": "person_boxes", "file": str(other)}))[0]
    with pytest.raises(ConfigError, match="person_mask needs person boxes"):
        dataset(path, steps(*SAMPLE, {"type": "person_mask"}))[0]


def test_multi_view_crops_refuse_boxes(actioncore_host, video):
    path, box_file = video
    pipeline = steps(*SAMPLE, {"type": "person_boxes", "file": str(box_file)}, {"type": "three_crop", "crop_size": 48})
    with pytest.raises(ConfigError, match="three_crop makes several views of a clip with person boxes"):
        dataset(path, pipeline)[0]


def test_rand_augment_before_person_mask_is_refused_after_a_rotation(actioncore_host, video):
    path, box_file = video
    pipeline = steps(*SAMPLE, {"type": "person_boxes", "file": str(box_file)},
                     {"type": "rand_augment", "num_ops": 30}, {"type": "person_mask"})
    with pytest.raises(ConfigError, match=r"person_mask after rand_augment \(\w+\)"):
        for seed in range(5):  # 30 ops: a geometric one is all but certain
            dataset(path, pipeline, seed=seed)[0]


def test_a_batch_step_in_a_sample_pipeline_is_a_config_error(actioncore_host):
    with pytest.raises(ConfigError, match=r"pipeline step 1 \(MixupStep\(alpha=0.2\)\) is a batch step"):
        Pipeline(steps({"type": "decode"}, {"type": "mixup", "alpha": 0.2}))



def test_info_probes_a_box_pipeline_without_the_box_file(tmp_path):
    # info and bench model run the pipeline on a blank video: no person-box file is needed for shapes
    from actioncore.sdk.data import probe

    pipeline = Pipeline(steps(
        {"type": "sample_frames", "clip_len": 4, "frame_interval": 2},
        {"type": "decode"},
        {"type": "person_boxes", "file": str(tmp_path / "not_there.json")},
        {"type": "resize", "scale": [32, 32], "keep_ratio": False},
        {"type": "person_mask"},
    ))
    sample = probe(pipeline)
    assert tuple(sample.person_mask.shape) == (4, 32, 32) and bool((sample.person_mask == 1).all())
