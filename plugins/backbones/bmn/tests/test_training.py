"""A tiny BMN trained by ``actioncore run`` on the embedded localization set finds the actions."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from actioncore.cli import main

pytestmark = pytest.mark.actioncore_plugins("actioncore_localization.hooks", "actioncore_bmn.hooks")

TINY = Path(__file__).resolve().parents[1] / "actioncore_bmn" / "examples" / "bmn_tiny_synth.toml"


def embedded_set(tmp_path: Path) -> tuple[Path, list[str]]:
    """The embedded localization set under ``tmp_path`` and the ``--set`` flags pointing the example at it."""
    data = tmp_path / "data"
    assert main(["data", "synth", "localization", "--out", str(data)]) == 0
    paths = []
    for split in ("train", "val", "test"):
        paths += ["--set", f"data.{split}.ann_file={data}/anet_anno_{split}.json",
                  "--set", f"data.{split}.root={data}/features"]
    return data, paths


def test_tiny_bmn_reaches_auc_50_and_writes_activitynet_results(tmp_path, capsys):
    data, paths = embedded_set(tmp_path)
    work = tmp_path / "work"
    capsys.readouterr()
    assert main(["run", str(TINY), "--work-dir", str(work), "--json", *paths]) == 0
    test_metrics = json.loads(capsys.readouterr().out)
    events = [json.loads(line) for line in (work / "log.jsonl").read_text().splitlines()]
    (val,) = [e for e in events if e["event"] == "evaluation" and e["split"] == "val"]
    assert val["auc"] >= 50.0, val  # measured 69.2 (seed 0)
    assert test_metrics["auc"] >= 50.0 and 0 <= test_metrics["AR@1"] <= test_metrics["AR@100"] <= 1

    out = tmp_path / "results.json"
    assert main(["test", str(TINY), "--checkpoint", str(work / "checkpoints" / "best.pth"), "--out", str(out),
                 "--json", *paths]) == 0
    assert json.loads(capsys.readouterr().out)["auc"] == pytest.approx(test_metrics["auc"])
    results = json.loads(out.read_text())
    assert results["version"] == "VERSION 1.3"
    videos = json.loads((data / "anet_anno_test.json").read_text())
    assert set(results["results"]) == {name.removeprefix("v_") for name in videos}
    first = next(iter(results["results"].values()))
    assert 1 <= len(first) <= 100 and set(first[0]) == {"segment", "score"}
    assert first[0]["score"] >= first[-1]["score"]

    # infer: an annotated video in seconds, an unknown feature file in fractions of the video
    unknown = tmp_path / "clip.csv"
    unknown.write_bytes((data / "features" / "v_test_0000.csv").read_bytes())
    assert main(["infer", str(TINY), "--checkpoint", str(work / "checkpoints" / "best.pth"), "--json", *paths,
                 str(data / "features" / "v_test_0000.csv"), str(unknown)]) == 0
    known, fraction = json.loads(capsys.readouterr().out)
    assert known["unit"] == "second" and fraction["unit"] == "fraction"
    assert len(known["proposals"]) == 5 and known["proposals"][0] == first[0]
    assert all(0 <= p["segment"][0] < p["segment"][1] <= 1 for p in fraction["proposals"])



def test_info_and_bench_model_read_feature_files(tmp_path, capsys):
    # a feature file has steps but no frame size: the model's input comes from the pipeline alone
    _, paths = embedded_set(tmp_path)
    capsys.readouterr()
    assert main(["info", str(TINY), "--json", *paths]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["input_shape"] == [1, 32, 32] and "v_train_0000.csv has no frame size" in info["input_from"]
    assert main(["bench", "model", str(TINY), "--iterations", "1", "--json", *paths]) == 0
    bench = json.loads(capsys.readouterr().out)
    assert bench["train_batch_from"] == "the first batch of data.train" and bench["train_clips_per_s"] > 0
