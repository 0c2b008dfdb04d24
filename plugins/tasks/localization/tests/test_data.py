"""ActivityNet annotations and feature files: parsing, rescaling, and every bad input as a DataError."""
from __future__ import annotations

import json

import numpy as np
import pytest

from actioncore.sdk.data import ClipDataset
from actioncore.sdk import DataError
from actioncore.testing import assert_component_contract
from actioncore_localization import (ActivityNetDataset, LoadLocalizationFeature, LocalizationFeatureDecoder,
                                     read_activitynet, rescale_features)

pytestmark = pytest.mark.actioncore_plugins("actioncore_localization.hooks")

VIDEO = {"duration_second": 20.0, "duration_frame": 600, "feature_frame": 592, "fps": 30.0,
         "annotations": [{"segment": [2.0, 8.0], "label": "run"}, {"segment": [10.0, 19.9], "label": "jump"}]}


def write_set(tmp_path, videos, rows=10, columns=8, ext=".csv"):
    ann = tmp_path / "anno.json"
    ann.write_text(json.dumps(videos))
    features = tmp_path / "features"
    features.mkdir(exist_ok=True)
    for i, name in enumerate(videos):
        data = np.arange(rows * columns, dtype=np.float32).reshape(rows, columns) + i
        if ext == ".npy":
            np.save(features / f"{name}.npy", data)
        else:
            np.savetxt(features / f"{name}.csv", data, delimiter=",", header=",".join(f"c{j}" for j in range(columns)),
                       comments="")
    return ann, features


def dataset(ann, features, feat_dim=8, temporal_dim=10, ext=".csv"):
    annotations = ActivityNetDataset(ann_file=str(ann), root=str(features), feature_ext=ext,
                                     pipeline=[LoadLocalizationFeature(temporal_dim=temporal_dim, feat_dim=feat_dim)])
    return ClipDataset(annotations, decoder=LocalizationFeatureDecoder())


def test_annotation_fields_and_normalised_segments(tmp_path):
    ann, _ = write_set(tmp_path, {"v_abc": VIDEO})
    (video,) = read_activitynet(ann)
    assert video.video_name == "v_abc" and video.video_id == "abc"
    assert video.labels == ("run", "jump")
    # segments are normalised by the seconds the features cover (592 / 600 * 20 s), clipped to 1
    covered = 592 / 600 * 20.0
    assert video.feature_second == pytest.approx(covered)
    np.testing.assert_allclose(video.gt_bbox(), [[2.0 / covered, 8.0 / covered], [10.0 / covered, 1.0]])


@pytest.mark.parametrize("ext", [".csv", ".npy"])
def test_samples_hold_c_by_t_features_and_the_annotation(tmp_path, ext):
    ann, features = write_set(tmp_path, {"v_a": VIDEO, "v_b": VIDEO}, ext=ext)
    data = dataset(ann, features, ext=ext)
    sample = data[1]
    assert sample.frames.shape == (8, 10)
    assert float(sample.frames[3, 2]) == 2 * 8 + 3 + 1  # row 2, column 3 of video 1's matrix
    assert sample.label.video_name == "v_b"


def test_rescaling_interpolates_between_step_centres():
    features = np.array([[0.0], [1.0], [2.0], [3.0]], dtype=np.float32)
    np.testing.assert_allclose(rescale_features(features, 2)[:, 0], [0.5, 2.5])
    np.testing.assert_allclose(rescale_features(features, 8)[:, 0], [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3])
    assert rescale_features(features, 4) is features


def test_dataset_component_contract(actioncore_host, tmp_path):
    ann, features = write_set(tmp_path, {"v_a": VIDEO})
    built = assert_component_contract(actioncore_host, "dataset", "activitynet",
                                      {"ann_file": str(ann), "root": str(features),
                                       "pipeline": [{"type": "load_localization_feature", "feat_dim": 8}]})
    assert built.default_decoder == "localization_features"
    assert_component_contract(actioncore_host, "transform", "load_localization_feature", {"temporal_dim": 16})


@pytest.mark.parametrize("key", ["duration_second", "duration_frame", "feature_frame", "fps", "annotations"])
def test_missing_key_names_the_file_video_and_key(tmp_path, key):
    video = {k: v for k, v in VIDEO.items() if k != key}
    ann, _ = write_set(tmp_path, {"v_bad": video})
    with pytest.raises(DataError, match=rf"anno.json: video 'v_bad' has no key '{key}'"):
        read_activitynet(ann)


def test_segment_outside_the_video(tmp_path):
    video = dict(VIDEO, annotations=[{"segment": [15.0, 25.0], "label": "run"}])
    ann, _ = write_set(tmp_path, {"v_long": video})
    with pytest.raises(DataError, match=r"v_long'?: annotations\[0\]\.segment \[15.0, 25.0\] is outside the video"):
        read_activitynet(ann)
    reversed_segment = dict(VIDEO, annotations=[{"segment": [5.0, 3.0], "label": "run"}])
    ann, _ = write_set(tmp_path, {"v_rev": reversed_segment})
    with pytest.raises(DataError, match="outside the video"):
        read_activitynet(ann)


def test_segment_tolerance_admits_small_overruns(tmp_path):
    video = dict(VIDEO, annotations=[{"segment": [15.0, 21.5], "label": "run"}])
    ann, _ = write_set(tmp_path, {"v_over": video})
    with pytest.raises(DataError, match="outside the video"):
        read_activitynet(ann)
    (parsed,) = read_activitynet(ann, tolerance=2.0)
    assert parsed.gt_bbox()[0, 1] == 1.0  # clipped to the video by the targets


def test_unreadable_annotation_files(tmp_path):
    with pytest.raises(DataError, match="annotation file not found"):
        read_activitynet(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(DataError, match="broken.json: not valid JSON"):
        read_activitynet(broken)


def test_missing_feature_file_names_it(tmp_path):
    ann, features = write_set(tmp_path, {"v_a": VIDEO})
    (features / "v_a.csv").unlink()
    with pytest.raises(DataError, match=r"features/v_a.csv: feature file not found") as info:
        dataset(ann, features)[0]
    assert info.value.path.endswith("v_a.csv")


def test_feature_file_of_the_wrong_width_names_it(tmp_path):
    ann, features = write_set(tmp_path, {"v_a": VIDEO}, columns=5)
    with pytest.raises(DataError, match=r"v_a.csv: feature file has 5 columns per step, expected feat_dim = 8"):
        dataset(ann, features)[0]


def test_feature_file_that_is_no_matrix(tmp_path):
    ann, features = write_set(tmp_path, {"v_a": VIDEO}, ext=".npy")
    np.save(features / "v_a.npy", np.zeros((2, 3, 4), np.float32))
    with pytest.raises(DataError, match=r"v_a.npy: feature file must hold a T x C matrix, got shape \[2, 3, 4\]"):
        dataset(ann, features, ext=".npy")[0]
    (features / "v_a.csv").write_text("h1,h2\n1,oops\n")
    with pytest.raises(DataError, match="v_a.csv: cannot read the feature file"):
        dataset(ann, features)[0]


def test_skip_policy_replaces_a_bad_feature_file(tmp_path):
    ann, features = write_set(tmp_path, {"v_a": VIDEO, "v_b": VIDEO})
    (features / "v_a.csv").unlink()
    annotations = ActivityNetDataset(ann_file=str(ann), root=str(features),
                                     pipeline=[LoadLocalizationFeature(temporal_dim=10, feat_dim=8)])
    data = ClipDataset(annotations, decoder=LocalizationFeatureDecoder(), on_error="skip")
    sample = data[0]
    assert sample.label.video_name == "v_b"
    assert "feature file not found" in sample.meta["skipped"][0].reason
