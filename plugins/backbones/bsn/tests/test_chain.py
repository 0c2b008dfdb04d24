"""The whole BSN chain through actioncore's commands on the embedded localization set:
TEM trained and run, PGM, PEM trained and scored with AR@AN."""
import json
from pathlib import Path

import numpy as np
import pytest

import actioncore_bsn_pgm
from actioncore.cli import main

pytestmark = pytest.mark.actioncore_plugins("actioncore_bsn.hooks", "actioncore_bsn_pgm.hooks",
                                            "actioncore_localization.hooks")


def test_tiny_bsn_chain_on_the_embedded_set(actioncore_host, examples, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the tiny examples' paths are relative: data/..., work_dirs/...
    assert main(["data", "synth", "localization", "--out", "data/synth_localization", "--size", "tiny"]) == 0
    tiny = ["--set", "data.train.pipeline=[{type = \"load_localization_feature\", temporal_dim = 32, feat_dim = 16}]",
            "--set", "data.val.pipeline=[{type = \"load_localization_feature\", temporal_dim = 32, feat_dim = 16}]",
            "--set", "data.test.pipeline=[{type = \"load_localization_feature\", temporal_dim = 32, feat_dim = 16}]",
            "--set", "model.tem_feat_dim=16",
            # 8 training videos: smaller batches and more epochs give TEM the ~80 steps it needs
            "--set", "data.batch_size=2", "--set", "schedule.epochs=20", "--set", "schedule.milestones=[15]",
            "--set", "runtime.eval_interval=20"]
    tem = str(examples / "bsn_tem_tiny_synth.toml")
    assert main(["run", tem, *tiny]) == 0
    results = tmp_path / "work_dirs/bsn_tiny_synth/tem_results"
    assert len(list(results.glob("*.csv"))) == 8  # the val and test videos
    assert main(["test", tem, "--checkpoint", "work_dirs/bsn_tem_tiny_synth/checkpoints/latest.pth", *tiny,
                 "--set", "data.test.ann_file=\"data/synth_localization/anet_anno_train.json\""]) == 0
    assert len(list(results.glob("*.csv"))) == 16
    assert "no metrics: the localization task scores nothing for this model" in capsys.readouterr().out
    header, *rows = (results / "v_train_0000.csv").read_text().splitlines()
    assert header == "action,start,end,tmin,tmax" and len(rows) == 32

    capsys.readouterr()
    assert main(["run", str(Path(actioncore_bsn_pgm.__file__).parent / "examples" / "bsn_pgm_tiny_synth.toml"), "--json"]) == 0
    pgm = json.loads(capsys.readouterr().out)
    assert pgm["all/videos"] == 16
    # the trained TEM is selective (an untrained one makes nearly all 32 x 31 / 2 = 496 pairs
    # candidates; measured 55) and its boundaries still pair into a match for nearly every action
    assert pgm["all/candidates_per_video"] < 150, pgm
    assert pgm["all/candidate_recall@0.7"] > 0.7, pgm
    features = np.load(tmp_path / "work_dirs/bsn_tiny_synth/pgm_features/v_val_0000.npy")
    assert features.shape[1] == 32 and 0 < len(features) <= 200

    assert main(["run", str(examples / "bsn_pem_tiny_synth.toml"), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) >= {"auc", "AR@1", "AR@5", "AR@10", "AR@100"}
    assert metrics["auc"] > 45.0, metrics  # measured 58.7 (test split, seed 0)
    capsys.readouterr()
    out = tmp_path / "proposals.json"
    assert main(["test", str(examples / "bsn_pem_tiny_synth.toml"), "--checkpoint",
                 "work_dirs/bsn_pem_tiny_synth/checkpoints/best.pth", "--out", str(out)]) == 0
    submitted = json.loads(out.read_text())["results"]
    assert len(submitted) == 4 and all(len(p) <= 100 for p in submitted.values())
    first = next(iter(submitted.values()))[0]
    assert set(first) == {"segment", "score"} and first["segment"][0] < first["segment"][1]
