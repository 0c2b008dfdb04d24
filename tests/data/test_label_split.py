"""``actioncore data split``: per-class labeled fractions, deterministic per seed, lines verbatim."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import actioncore
from actioncore.cli import main
from actioncore.data.label_split import split_list
from actioncore.errors import ConfigError, DataError

CLASS_SIZES = {0: 10, 1: 7, 2: 3, 3: 1, 4: 25}


def write_video_list(path: Path) -> list[str]:
    """Classes of uneven sizes, interleaved so list order is not class order."""
    lines, left = [], dict(CLASS_SIZES)
    while any(left.values()):
        for label in CLASS_SIZES:
            if left[label]:
                lines.append(f"c{label}/v_{label}_{left[label]:02d}.mp4 {label}")
                left[label] -= 1
    path.write_text("# comment line\n" + "\n".join(lines[:5]) + "\n\n" + "\n".join(lines[5:]) + "\n")
    return lines


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.fixture
def video_list(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "train.txt"
    return path, write_video_list(path)


@pytest.mark.parametrize("ratio", [0.1, 0.3, 0.5])
def test_counts_per_class_and_lines_verbatim_in_order(video_list, tmp_path, ratio):
    path, lines = video_list
    result = split_list(path, tmp_path / "out", ratio=ratio, seed=3)
    labeled, unlabeled = lines_of(result.labeled_file), lines_of(result.unlabeled_file)
    expected = {label: max(round(n * ratio), 1) for label, n in CLASS_SIZES.items()}
    assert Counter(int(line.split()[-1]) for line in labeled) == expected
    assert sorted(labeled + unlabeled) == sorted(lines)  # every line once, none altered
    assert labeled == [line for line in lines if line in labeled]  # input order kept
    assert unlabeled == [line for line in lines if line not in labeled]
    assert result.per_class == {label: (n, expected[label]) for label, n in CLASS_SIZES.items()}
    assert (result.labeled, result.unlabeled) == (len(labeled), len(unlabeled))


def test_same_seed_same_split_other_seed_other_split(video_list, tmp_path):
    path, _ = video_list
    runs = {name: lines_of(split_list(path, tmp_path / name, ratio=0.3, seed=seed).labeled_file)
            for name, seed in (("a", 3), ("b", 3), ("c", 4))}
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]
    assert Counter(line.split()[-1] for line in runs["a"]) == Counter(line.split()[-1] for line in runs["c"])


def test_ratio_one_labels_everything_and_all_keeps_the_whole_list(video_list, tmp_path):
    path, lines = video_list
    result = split_list(path, tmp_path / "one", ratio=1.0, seed=0)
    assert lines_of(result.labeled_file) == lines and lines_of(result.unlabeled_file) == []
    result = split_list(path, tmp_path / "all", ratio=0.2, seed=0, unlabeled="all")
    assert lines_of(result.unlabeled_file) == lines and len(lines_of(result.labeled_file)) == 2 + 1 + 1 + 1 + 5


def test_written_lists_load_in_the_list_datasets(tmp_path):
    videos = tmp_path / "videos.txt"
    write_video_list(videos)
    frames = tmp_path / "frames.txt"
    frames.write_text("".join(f"cls{i % 3}/v_{i:03d} {20 + i} {i % 3}\n" for i in range(12)))
    for ann, dataset in ((videos, "video_list"), (frames, "rawframe_list")):
        result = split_list(ann, tmp_path / dataset, ratio=0.5, seed=1)
        for file in (result.labeled_file, result.unlabeled_file):
            built = actioncore.build("dataset", dataset, ann_file=str(file), root="/data", pipeline=[])
            assert len(built.records) == len(lines_of(file))
            for record, line in zip(built.records, lines_of(file)):
                assert record.label == int(line.split()[-1])
                assert record.source == "/data/" + line.split()[0]
    assert result.format == "rawframes"
    counts = [r.num_frames for r in actioncore.build("dataset", "rawframe_list", ann_file=str(result.labeled_file),
                                                      pipeline=[]).records]
    assert counts == [int(line.split()[1]) for line in lines_of(result.labeled_file)]


def test_offset_lists_with_the_flag(tmp_path):
    path = tmp_path / "offsets.txt"
    path.write_text("".join(f"v_{i} {i * 10} 8 {i % 2}\n" for i in range(6)))
    with pytest.raises(DataError, match=r"offsets\.txt:1: 2 labels.*--with-offset"):
        split_list(path, tmp_path / "out", ratio=0.5, seed=0)
    result = split_list(path, tmp_path / "out", ratio=0.5, seed=0, with_offset=True)
    assert result.per_class == {0: (3, 2), 1: (3, 2)}


@pytest.mark.parametrize("text, message", [
    ("a.mp4 1\nb.mp4\n", r"list\.txt:2: no label"),
    ("a.mp4 1\nb.mp4 1 2\n", r"list\.txt:2: 2 labels: a multi-label line"),
    ("a 10 1\nb 10\n", r"list\.txt:2: no label.*dir TOTAL_FRAMES LABEL"),
    ("a.mp4 x\n", r"list\.txt:1: expected 'path LABEL' with integer label"),
    ("a.mp4 -1\n", r"list\.txt:1: negative label"),
    ("a 0 1\n", r"list\.txt:1: frame count must be positive"),
    ("# only a comment\n", r"list\.txt: the annotation file lists no samples"),
])
def test_bad_lines_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "list.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        split_list(path, tmp_path / "out", ratio=0.5, seed=0)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("ratio", [0.0, -0.1, 1.5, float("nan")])
def test_ratio_outside_0_1_is_refused(video_list, tmp_path, ratio):
    with pytest.raises(ConfigError, match=r"--labeled must be a fraction in \(0, 1\]"):
        split_list(video_list[0], tmp_path / "out", ratio=ratio, seed=0)


def test_cli_json_and_exit_codes(video_list, tmp_path, capsys):
    path, lines = video_list
    assert main(["data", "split", str(path), "--labeled", "0.1", "--seed", "3", "--out", str(tmp_path / "o"),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["labeled"] == 6 and report["unlabeled"] == len(lines) - 6 and report["classes"] == 5
    assert report["per_class"]["4"] == {"total": 25, "labeled": 2}  # round(2.5) = 2, Python's rounding
    assert main(["data", "split", str(path), "--labeled", "2", "--out", str(tmp_path / "o")]) == 2
    assert "--labeled must be a fraction" in capsys.readouterr().err
    assert main(["data", "split", str(tmp_path / "missing.txt"), "--labeled", "0.5", "--out", str(tmp_path)]) == 2
    assert "missing.txt: annotation file not found" in capsys.readouterr().err


def write_scene_list(path: Path, scenes: int = 20, classes: int = 6) -> list[str]:
    """The embedded set's design: every scene key holds one clip of every class."""
    lines = [f"c{label}/train_{key:04d}.mp4 {label}" for key in range(scenes) for label in range(classes)]
    path.write_text("\n".join(lines) + "\n")
    return lines


def test_group_labels_whole_scenes_with_the_same_counts_per_class(tmp_path):
    path = tmp_path / "train.txt"
    lines = write_scene_list(path)
    result = split_list(path, tmp_path / "g", ratio=0.2, seed=3, group=r"train_\d+")
    labeled = lines_of(result.labeled_file)
    assert Counter(int(line.split()[-1]) for line in labeled) == {label: 4 for label in range(6)}
    scenes = Counter(line.split()[0].split("/")[1] for line in labeled)
    assert len(scenes) == 4 and set(scenes.values()) == {6}  # four whole scenes, each with all six classes
    assert labeled == [line for line in lines if line in labeled]
    assert lines_of(result.unlabeled_file) == [line for line in lines if line not in labeled]
    # a capture group is the key; the same seed draws the same scenes, another seed others
    again = split_list(path, tmp_path / "g2", ratio=0.2, seed=3, group=r"train_(\d+)\.mp4")
    assert lines_of(again.labeled_file) == labeled
    other = lines_of(split_list(path, tmp_path / "g3", ratio=0.2, seed=4, group=r"train_\d+").labeled_file)
    assert {line.split()[0].split("/")[1] for line in other} != set(scenes)
    # without groups the same draw scatters over scenes: one label per scene, the confound the option avoids
    plain = lines_of(split_list(path, tmp_path / "p", ratio=0.2, seed=3).labeled_file)
    assert len({line.split()[0].split("/")[1] for line in plain}) > 4


def test_uneven_groups_still_give_exact_counts_per_class(video_list, tmp_path):
    path, lines = video_list  # paths c{label}/v_{label}_{k}.mp4: group by k across classes
    for ratio in (0.1, 0.3, 0.5):
        result = split_list(path, tmp_path / str(ratio), ratio=ratio, seed=1, group=r"_(\d+)\.mp4")
        expected = {label: max(round(n * ratio), 1) for label, n in CLASS_SIZES.items()}
        assert Counter(int(line.split()[-1]) for line in lines_of(result.labeled_file)) == expected


def test_group_errors_name_the_option_and_the_line(video_list, tmp_path, capsys):
    path, _ = video_list
    with pytest.raises(ConfigError, match=r"--group '\(' is not a regular expression"):
        split_list(path, tmp_path / "out", ratio=0.5, seed=0, group="(")
    with pytest.raises(ConfigError, match=r"train\.txt:2: --group 'g\\d\+' does not match the path "
                                          r"'c0/v_0_10\.mp4'"):
        split_list(path, tmp_path / "out", ratio=0.5, seed=0, group=r"g\d+")
    assert not (tmp_path / "out").exists()
    assert main(["data", "split", str(path), "--labeled", "0.5", "--group", r"_(\d+)\.mp4", "--out",
                 str(tmp_path / "cli")]) == 0
    assert "labeled" in capsys.readouterr().out and (tmp_path / "cli/labeled.txt").exists()
