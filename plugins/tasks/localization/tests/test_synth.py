"""``actioncore data synth localization``: deterministic, MMAction2's layout, actions unlike the background."""
from __future__ import annotations

import json

import numpy as np

from actioncore.cli import main
from actioncore.sdk.data import synthesize
from actioncore_localization import read_activitynet, read_feature_file


def test_layout_determinism_and_separable_actions(tmp_path):
    report = synthesize("localization", tmp_path / "a", seed=3, size="tiny")
    assert report.num_samples == {"train": 8, "val": 4, "test": 4}
    again = synthesize("localization", tmp_path / "b", seed=3, size="tiny")
    for rel in report.files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    other = synthesize("localization", tmp_path / "c", seed=4, size="tiny")
    assert (tmp_path / "c" / "anet_anno_train.json").read_text() != (tmp_path / "a" / "anet_anno_train.json").read_text()
    assert again.ann_files["val"].name == other.ann_files["val"].name == "anet_anno_val.json"

    lengths, gaps = [], []
    for split, ann_file in report.ann_files.items():
        for video in read_activitynet(ann_file):  # parsing checks every key and segment bound
            features = read_feature_file(report.data_prefix / f"{video.video_name}.csv")
            assert features.shape == (video.feature_frame // 16, 16)
            centres = (np.arange(len(features)) + 0.5) * 16 / video.fps
            inside = np.zeros(len(features), bool)
            for start, end in video.segments:
                inside |= (centres >= start + 1) & (centres < end - 1)
                lengths.append((end - start) / video.duration_second)
            outside = np.ones(len(features), bool)
            for start, end in video.segments:
                outside &= (centres < start - 1) | (centres >= end + 1)
            if inside.any() and outside.any():
                gaps.append(np.linalg.norm(features[inside].mean(0) - features[outside].mean(0)))
    assert min(lengths) < 0.15 and max(lengths) > 0.3  # varied lengths
    assert min(gaps) > 1.0  # an action's features sit far from the video's background


def test_cli_writes_the_default_set(tmp_path, capsys):
    assert main(["data", "synth", "localization", "--out", str(tmp_path / "d"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["num_samples"] == {"train": 64, "val": 24, "test": 24}
    first = json.loads((tmp_path / "d" / "anet_anno_train.json").read_text())["v_train_0000"]
    assert set(first) >= {"duration_second", "duration_frame", "annotations", "feature_frame", "fps"}
