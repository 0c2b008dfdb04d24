"""Annotation lists to batches: seeding, bad input under raise and skip, data check, loaders."""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from actioncore.cli import main
from actioncore.config import load_config
from actioncore.data.loader import EpochSampler, build_loader, report_skipped
from actioncore.data.splits import build_split
from actioncore.builtin.synth import synthesize
from actioncore.errors import DataError
from actioncore.plugin.host import PluginHost, use_host


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    synthesize("recognition", root, seed=0, size="tiny")
    return root


@pytest.fixture
def data_copy(synth_root, tmp_path) -> Path:
    """A private copy of the tiny data set that a test may damage."""
    return Path(shutil.copytree(synth_root, tmp_path / "synth"))


@pytest.fixture(autouse=True)
def host():
    host = PluginHost(autoload=False)
    host.register("actioncore_lists.hooks")
    host.register("actioncore_toy3d.hooks")
    with use_host(host):
        yield host


def experiment(root: Path, tmp_path: Path, *, on_error="raise", num_classes: int | None = None) -> Path:
    model = "" if num_classes is None else f"""
        [model.backbone]
        type = "toy3d"
        [model.head]
        type = "linear_head"
        in_channels = 16
        num_classes = {num_classes}
    """
    path = tmp_path / "exp.toml"
    path.write_text(textwrap.dedent(model) + textwrap.dedent(f"""
        [data]
        batch_size = 4
        workers = 0
        on_error = "{on_error}"
        [data.train]
        type = "video_list"
        ann_file = "{root / 'train.txt'}"
        root = "{root / 'videos'}"
        pipeline = [
          {{type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = 1}},
          {{type = "decode"}},
          {{type = "random_resized_crop"}},
          {{type = "resize", scale = [16, 16], keep_ratio = false}},
          {{type = "flip", flip_ratio = 0.5}},
          {{type = "format_shape", input_format = "NCTHW"}},
        ]
    """))
    return path


def dataset_of(root, tmp_path, host, **kw):
    exp = load_config(experiment(root, tmp_path, **kw))
    return build_split(exp, "train", host.registry)


def test_samples_are_uint8_and_reproducible_from_seed_epoch_and_index(synth_root, tmp_path, host):
    dataset = dataset_of(synth_root, tmp_path, host)
    a, b = dataset[(3, 5)], dataset[(3, 5)]
    assert a.frames.dtype == torch.uint8 and a.frames.shape == (1, 3, 4, 16, 16)
    assert torch.equal(a.frames, b.frames) and np.array_equal(a.frame_indices, b.frame_indices)
    other_epochs = [dataset[(e, 5)].frames for e in range(4, 10)]
    assert any(not torch.equal(o, a.frames) for o in other_epochs)


def test_loader_batches_are_identical_with_0_and_2_workers(synth_root, tmp_path, host):
    dataset = dataset_of(synth_root, tmp_path, host)
    batches = {}
    for workers in (0, 2):
        loader = build_loader(dataset, batch_size=4, workers=workers, shuffle=True, seed=1,
                              persistent_workers=False)
        loader.sampler.set_epoch(2)
        batches[workers] = [(b["indices"].tolist(), b["inputs"]) for b in loader]
    assert [i for i, _ in batches[0]] == [i for i, _ in batches[2]]
    assert all(torch.equal(x, y) for (_, x), (_, y) in zip(batches[0], batches[2]))
    assert sorted(i for ids, _ in batches[0] for i in ids) == list(range(len(dataset)))



@pytest.mark.parametrize("sample_once", [False, True])
def test_repeated_copies_share_their_frames_only_with_sample_once(synth_root, tmp_path, host, sample_once):
    path = experiment(synth_root, tmp_path)  # 2 of the tiny videos' 8 frames: room to sample elsewhere
    path.write_text(path.read_text().replace("clip_len = 4, frame_interval = 2", "clip_len = 2, frame_interval = 1"))
    dataset = build_split(load_config(path), "train", host.registry)
    loader = build_loader(dataset, batch_size=2, workers=0, shuffle=True, seed=1, repeats=2, sample_once=sample_once)
    loader.sampler.set_epoch(1)
    pairs = [(batch["frame_indices"][i:i + 2], batch["inputs"][i:i + 2], batch["indices"][i:i + 2].tolist())
             for batch in loader for i in range(0, len(batch["indices"]), 2)]
    assert len(pairs) == len(dataset) and all(a == b for _, _, (a, b) in pairs)  # each video twice in a row
    same_frames = [torch.equal(f[0], f[1]) for f, _, _ in pairs]
    assert all(same_frames) if sample_once else not all(same_frames)
    # what follows the sampling (crop, flip) is still drawn per copy
    assert not all(torch.equal(x[0], x[1]) for _, x, _ in pairs)

def test_epoch_sampler_pads_for_training_and_splits_exactly_for_evaluation():
    train = [EpochSampler(10, shuffle=True, seed=0, rank=r, world_size=3) for r in range(3)]
    assert [len(s) for s in train] == [4, 4, 4]
    assert set(i for s in train for _, i in s) == set(range(10))
    evaluation = [EpochSampler(10, shuffle=False, rank=r, world_size=3, pad=False) for r in range(3)]
    assert sorted(i for s in evaluation for _, i in s) == list(range(10))
    resumed = EpochSampler(10, shuffle=True, seed=0)
    resumed.set_epoch(1, skip=3)
    full = EpochSampler(10, shuffle=True, seed=0)
    full.set_epoch(1)
    assert list(resumed) == list(full)[3:]


def damage(root: Path) -> dict[str, str]:
    """A missing file, a zero-byte file and a truncated mp4 in the train list."""
    lines = (root / "train.txt").read_text().splitlines()
    videos = root / "videos"
    missing, empty, truncated = (lines[i].split()[0] for i in (1, 2, 3))
    (videos / missing).unlink()
    (videos / empty).write_bytes(b"")
    data = (videos / truncated).read_bytes()
    (videos / truncated).write_bytes(data[: len(data) // 3])
    return {"missing": missing, "empty": empty, "truncated": truncated}


@pytest.mark.parametrize("which, line", [("missing", 2), ("empty", 3), ("truncated", 4)])
def test_bad_files_raise_data_error_naming_file_and_line(data_copy, tmp_path, host, which, line):
    broken = damage(data_copy)
    dataset = dataset_of(data_copy, tmp_path, host)
    with pytest.raises(DataError) as info:
        dataset[line - 1]
    message = str(info.value)
    assert f"train.txt:{line}" in message and broken[which] in message


def test_label_outside_range_names_the_list_line(data_copy, tmp_path, host):
    lines = (data_copy / "train.txt").read_text().splitlines()
    lines[4] = lines[4].split()[0] + " 12"
    (data_copy / "train.txt").write_text("\n".join(lines) + "\n")
    exp = load_config(experiment(data_copy, tmp_path, num_classes=12))
    with pytest.raises(DataError, match=r"train.txt:5: label 12 is outside \[0, 12\)"):
        build_split(exp, "train", host.registry)
    assert len(build_split(load_config(experiment(data_copy, tmp_path, num_classes=12, on_error="skip")),
                           "train", host.registry)) == 47


def test_skip_finishes_the_epoch_with_two_workers_and_reports_every_bad_file(data_copy, tmp_path, host):
    broken = damage(data_copy)
    dataset = dataset_of(data_copy, tmp_path, host, on_error="skip")
    loader = build_loader(dataset, batch_size=4, workers=2, shuffle=False, persistent_workers=False)
    seen, skipped = 0, []
    for batch in loader:
        seen += len(batch["indices"])
        skipped += batch["skipped"]
    assert seen == len(dataset)
    report = report_skipped(skipped)
    for name in broken.values():
        assert name in report
    assert len(report.splitlines()) == 3


def test_data_check_lists_every_bad_entry_and_exits_1(data_copy, tmp_path, capsys):
    broken = damage(data_copy)
    path = experiment(data_copy, tmp_path)
    assert main(["data", "check", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    bad = report["splits"]["train"]["bad"]
    assert report["bad"] == 3 and {b["where"].rsplit(":", 1)[1] for b in bad} == {"2", "3", "4"}
    assert {Path(b["source"]).relative_to(data_copy / "videos").as_posix() for b in bad} == set(broken.values())


def test_data_check_passes_on_good_data(synth_root, tmp_path, capsys):
    assert main(["data", "check", str(experiment(synth_root, tmp_path))]) == 0
    assert "train: 48 checked, 0 bad" in capsys.readouterr().out


def test_bench_data_reports_clips_per_second(synth_root, tmp_path, capsys):
    path = experiment(synth_root, tmp_path)
    assert main(["bench", "data", str(path), "--json", "--clips", "8", "--set", "data.workers=1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["workers"] == 1 and result["clips_per_s"] > 0 and result["single_process_clips_per_s"] > 0


@pytest.mark.actioncore_plugins("actioncore_toy3d.hooks", "actioncore_recognition.hooks", "actioncore_lists.hooks")
def test_bench_data_workers_sweep_with_the_model_step(synth_root, tmp_path, capsys, actioncore_host):
    path = experiment(synth_root, tmp_path, num_classes=12)
    path.write_text('[task]\ntype = "recognition"\n'
                    + path.read_text().replace("[model.backbone]", '[model]\ntype = "recognizer3d"\n[model.backbone]'))
    assert main(["bench", "data", str(path), "--json", "--clips", "8", "--workers-sweep", "0", "1",
                 "--with-model"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [row["workers"] for row in result["sweep"]] == [0, 1]
    for row in result["sweep"]:
        # the model's step only adds work to each batch
        assert 0 < row["with_model_step_clips_per_s"] and 0 < row["clips_per_s"]
    assert main(["bench", "data", str(path), "--clips", "4", "--workers-sweep", "0"]) == 0
    assert "train pipeline, 0 worker(s):" in capsys.readouterr().out
    assert main(["bench", "data", str(path), "--workers-sweep", "-1"]) == 2
