"""The embedded recognition data sets: layout, determinism, and the motion-only property; the
``synth`` registry that offers every plugin's data sets to ``actioncore data synth``."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import types

import av
import numpy as np
import pytest
from PIL import Image

import actioncore
from actioncore.cli import main
from actioncore.builtin.synth import SIZES, SynthReport, list_kinds, synthesize
from actioncore.builtin.synth.scenes import CLASSES, SPLITS, Geometry, SampleKey, motion_only_pairs, render
from actioncore.errors import DataError, PluginError
from actioncore.plugin.host import PluginHost, use_host

TINY = SIZES["tiny"]
NAMES = [c.name for c in CLASSES]
APPEARANCE = [c.name for c in CLASSES if not c.motion_only]


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def read_list(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> SynthReport:
    return synthesize("recognition", tmp_path_factory.mktemp("synth") / "rec", seed=0, size="tiny")


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> SynthReport:
    return synthesize("rawframes", tmp_path_factory.mktemp("synth") / "raw", seed=0, size="tiny")


def test_classes_half_motion_only_in_reversed_pairs() -> None:
    motion = [c for c in CLASSES if c.motion_only]
    assert 10 <= len(CLASSES) <= 12 and 2 * len(motion) >= len(CLASSES)
    by_name = {c.name: c for c in CLASSES}
    for c in motion:
        partner = by_name[c.partner]
        assert partner.partner == c.name and partner.program is c.program and partner.reverse != c.reverse
    assert sorted(n for pair in motion_only_pairs() for n in pair) == sorted(c.name for c in motion)


def test_report_and_small_files(videos: SynthReport) -> None:
    root = videos.root
    assert videos.classes == tuple(NAMES)
    assert (root / "classes.txt").read_text().splitlines() == NAMES
    assert videos.num_samples == {s: TINY.per_class[s] * len(NAMES) for s in SPLITS}
    assert videos.data_prefix == root / "videos"
    assert all((root / f).is_file() for f in videos.files)
    assert len(videos.files) == sum(videos.num_samples.values()) + 6  # lists, classes, boxes, README
    assert "move_up" in (root / "README.txt").read_text()
    json.dumps(videos.as_dict(files=True))


@pytest.mark.parametrize("split", SPLITS)
def test_video_lists_parse_and_balance(videos: SynthReport, split: str) -> None:
    rows = read_list(videos.ann_files[split])
    assert all(len(r) == 2 for r in rows)
    labels = Counter(int(label) for _, label in rows)
    assert labels == {i: TINY.per_class[split] for i in range(len(NAMES))}
    for rel, label in rows:
        assert rel.endswith(".mp4") and rel.split("/")[0] == NAMES[int(label)]
        assert (videos.data_prefix / rel).is_file()


def test_every_video_decodes_intra_only(videos: SynthReport) -> None:
    for split in SPLITS:
        for rel, _ in read_list(videos.ann_files[split]):
            with av.open(str(videos.data_prefix / rel)) as container:
                stream = container.streams.video[0]
                assert stream.codec_context.name == "h264" and stream.average_rate == TINY.fps
                packets = [p for p in container.demux(stream) if p.size]
                assert len(packets) == TINY.frames and all(p.is_keyframe for p in packets)
            clip = decode(videos.data_prefix / rel)
            assert clip.shape == (TINY.frames, TINY.resolution, TINY.resolution, 3)


@pytest.mark.parametrize("split", SPLITS)
def test_rawframe_lists_and_folders(frames: SynthReport, split: str) -> None:
    rows = read_list(frames.ann_files[split])
    assert Counter(int(r[2]) for r in rows) == {i: TINY.per_class[split] for i in range(len(NAMES))}
    for rel, total, label in rows:
        folder = frames.data_prefix / rel
        assert rel.split("/")[0] == NAMES[int(label)] and int(total) == TINY.frames
        assert sorted(p.name for p in folder.iterdir()) == [f"img_{i:05d}.jpg" for i in range(1, TINY.frames + 1)]


def test_both_kinds_hold_the_rendered_clips(videos: SynthReport, frames: SynthReport) -> None:
    for name in NAMES:
        clip = render(name, SampleKey(0, "val", 1), TINY.geometry).frames.astype(np.float32)
        video = decode(videos.data_prefix / f"{name}/val_0001.mp4")
        folder = frames.data_prefix / f"{name}/val_0001"
        jpegs = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.iterdir())])
        assert np.abs(video - clip).mean() < 5 and np.abs(jpegs - clip).mean() < 3


def _digest(report: SynthReport) -> tuple[str, ...]:
    lists = tuple(report.ann_files[s].read_text() for s in SPLITS)
    pixels = hashlib.sha256()
    for rel, _ in read_list(report.ann_files["train"]) + read_list(report.ann_files["test"]):
        pixels.update(decode(report.data_prefix / rel).tobytes())
    return (*lists, pixels.hexdigest())


def test_deterministic_for_a_seed(videos: SynthReport, tmp_path: Path) -> None:
    first = _digest(videos)
    assert _digest(synthesize("recognition", tmp_path / "again", seed=0, size="tiny")) == first
    other = _digest(synthesize("recognition", tmp_path / "other", seed=1, size="tiny"))
    assert other[:-1] == first[:-1] and other[-1] != first[-1]


@pytest.mark.parametrize("geometry", [TINY.geometry, SIZES["default"].geometry], ids=["tiny", "default"])
@pytest.mark.parametrize("pair", motion_only_pairs(), ids="/".join)
def test_reversed_partner_has_the_same_frames(pair: tuple[str, str], geometry: Geometry) -> None:
    """Per key, the partner's frames are the forward frames reversed, hence the same multiset."""
    forward, backward = pair
    for index in range(5):
        key = SampleKey(3, "train", index)
        a, b = render(forward, key, geometry).frames, render(backward, key, geometry).frames
        assert np.array_equal(a[::-1], b)
        assert not np.array_equal(a, b)


@pytest.mark.parametrize("pair", motion_only_pairs(), ids="/".join)
def test_data_set_frames_of_a_pair_are_one_multiset(videos: SynthReport, pair: tuple[str, str]) -> None:
    """After encoding too: over the whole set, the decoded frames of the two classes coincide.

    A model that averages per-frame scores over a clip therefore scores ``A(k)`` and ``B(k)``
    identically and can be right on only one of them.
    """
    def bag(name: str) -> list[bytes]:
        return sorted(frame.tobytes() for split in SPLITS for index in range(TINY.per_class[split])
                      for frame in decode(videos.data_prefix / f"{name}/{split}_{index:04d}.mp4"))

    a, b = bag(pair[0]), bag(pair[1])
    assert a == b and len(set(a)) > TINY.frames


def _slope(values: np.ndarray) -> float:
    t = np.arange(len(values)) - (len(values) - 1) / 2
    return float((t * (values - values.mean())).sum())


def _temporal_feature(clip: np.ndarray, feature: str) -> float:
    """Slope over time of a statistic of the edge-energy map: a temporal cue read from pixels."""
    grey = clip.astype(np.float64).mean(-1)
    energy = np.diff(grey, axis=1)[:, :, :-1] ** 2 + np.diff(grey, axis=2)[:, :-1, :] ** 2
    if feature == "energy":
        return _slope(energy.mean((1, 2)))
    weights = energy.reshape(len(energy), -1) / energy.sum((1, 2))[:, None]
    ys, xs = (a.ravel() for a in np.mgrid[: energy.shape[1], : energy.shape[2]])
    cy, cx = weights @ ys, weights @ xs
    if feature == "height":
        return _slope(cy)
    return _slope((weights * ((ys - cy[:, None]) ** 2 + (xs - cx[:, None]) ** 2)).sum(1))


@pytest.mark.parametrize(("pair", "feature"), list(zip(motion_only_pairs(), ["height", "energy", "energy", "spread"])),
                         ids=lambda v: "/".join(v) if isinstance(v, tuple) else v)
def test_a_temporal_cue_separates_each_pair(pair: tuple[str, str], feature: str) -> None:
    """The sign of one slope (edge height, edge energy, edge spread) tells the pair apart."""
    forward, backward = pair
    a = [_temporal_feature(render(forward, SampleKey(5, "test", i), TINY.geometry).frames, feature)
         for i in range(30)]
    b = [_temporal_feature(render(backward, SampleKey(6, "test", i), TINY.geometry).frames, feature)
         for i in range(30)]
    accuracy = (np.mean(np.sign(a) == np.sign(a[0])) + np.mean(np.sign(b) == -np.sign(a[0]))) / 2
    assert accuracy >= 0.95


def _shape_features(coverage: np.ndarray) -> np.ndarray:
    """Per frame: area over squared max radius, and the share of the area inside the equal-area disc."""
    ys, xs = np.mgrid[: coverage.shape[1], : coverage.shape[2]] + 0.5
    out = []
    for alpha in coverage:
        area = alpha.sum()
        d2 = (ys - (alpha * ys).sum() / area) ** 2 + (xs - (alpha * xs).sum() / area) ** 2
        out.append((area / d2[alpha >= 0.5].max(), alpha[d2 <= area / np.pi].sum() / area))
    return np.array(out)


def test_appearance_classes_differ_in_single_frames() -> None:
    """A nearest-centroid rule on one frame's shape separates the appearance classes."""
    geometry = SIZES["default"].geometry

    def features(split: str) -> list[np.ndarray]:
        return [np.concatenate([_shape_features(render(n, SampleKey(0, split, i), geometry).coverage)
                                for i in range(8)]) for n in APPEARANCE]

    train, test = features("train"), features("test")
    centres = np.stack([f.mean(0) for f in train])
    scale = np.concatenate(train).std(0)
    hits = [np.argmin((((f[:, None] - centres) / scale) ** 2).sum(-1), 1) == k for k, f in enumerate(test)]
    assert np.mean(np.concatenate(hits)) >= 0.97
    areas = [render(n, SampleKey(0, "val", 0), geometry).coverage.sum() for n in APPEARANCE]
    assert max(areas) / min(areas) < 1.02


def test_options_and_kinds_are_checked(tmp_path: Path) -> None:
    assert {"recognition", "rawframes"} <= set(list_kinds())
    with pytest.raises(PluginError, match="Available"):
        synthesize("nope", tmp_path / "a")
    with pytest.raises(DataError, match="size"):
        synthesize("recognition", tmp_path / "a", colour="red")
    with pytest.raises(DataError, match="tiny"):
        synthesize("recognition", tmp_path / "a", size="huge")
    with pytest.raises(DataError, match="seed"):
        synthesize("recognition", tmp_path / "a", seed=-1)


def test_output_folder_rules(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep")
    with pytest.raises(DataError, match="not empty"):
        synthesize("recognition", foreign, size="tiny")
    assert (foreign / "mine.txt").read_text() == "keep"

    out = tmp_path / "again"
    synthesize("rawframes", out, size="tiny")
    stale = out / "rawframes" / "square" / "stale.jpg"
    stale.write_bytes(b"")
    report = synthesize("rawframes", out, size="tiny", seed=2)
    assert not stale.exists() and "seed 2" in (out / "README.txt").read_text()
    assert len(report.files) == sum(report.num_samples.values()) * TINY.frames + 6


def test_large_extends_default_with_training_clips_only() -> None:
    """``large`` keeps ``default``'s clips (same geometry, keys and hence pixels) and its val and
    test splits, so models trained on either are scored on the same test clips."""
    default, large = SIZES["default"], SIZES["large"]
    assert large.geometry == default.geometry and large.fps == default.fps
    assert large.per_class["train"] == 5 * default.per_class["train"]
    assert {s: large.per_class[s] for s in ("val", "test")} == {s: default.per_class[s] for s in ("val", "test")}
    key = SampleKey(0, "test", 7)  # a test clip both sizes contain renders from its key alone
    assert np.array_equal(render("grow", key, large.geometry).frames, render("grow", key, default.geometry).frames)


def _toy_plugin() -> types.ModuleType:
    """A plugin registering a ``toy`` data set whose generator writes one file."""
    def synth_toy(out: Path, *, seed: int = 0, words: int = 3) -> SynthReport:
        """A few words in a file."""
        out.mkdir(parents=True)
        (out / "words.txt").write_text(" ".join(["toy"] * words) + f" {seed}\n")
        return SynthReport(kind="toy", root=out, seed=seed, classes=(), motion_only=(), num_samples={"train": 1},
                           data_prefix=out, ann_files={"train": out / "words.txt"}, files=(Path("words.txt"),))

    plugin = types.ModuleType("toy_synth")
    plugin.actioncore_synth = actioncore.hookimpl(lambda: {"toy": synth_toy})
    return plugin


def test_kinds_come_from_the_installed_plugins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host = PluginHost(autoload=False)
    with use_host(host):
        assert set(list_kinds()) == {"recognition", "rawframes"}  # the kernel's own
        with pytest.raises(PluginError, match=r"provided by actioncore-pose, which is installed but not loaded"):
            synthesize("skeleton", tmp_path / "s")
        host.register(_toy_plugin(), distribution="acme-toy", version="1.2")
        report = synthesize("toy", tmp_path / "t", seed=4, words=2)
        assert (tmp_path / "t" / "words.txt").read_text() == "toy toy 4\n" and report.kind == "toy"
        with pytest.raises(DataError, match="options: words"):
            synthesize("toy", tmp_path / "u", size="tiny")
        assert main(["data", "synth", "--list", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert listed["toy"] == {"distribution": "acme-toy", "version": "1.2", "description": "A few words in a file.",
                                 "options": {"words": {"type": "int", "default": 3}}}
        assert listed["recognition"]["options"]["size"]["default"] == "default"
        assert main(["data", "synth", "--list"]) == 0
        assert "toy  (acme-toy 1.2)" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "expected"), [
    (["data", "synth", "toyy", "--out", "x"], "Did you mean 'toy'?"),
    (["data", "synth", "toy"], "needs a KIND and --out DIR"),
    (["data", "synth", "--out", "x"], "needs a KIND and --out DIR"),
])
def test_cli_mistakes_exit_2(argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    host = PluginHost(autoload=False)
    host.register(_toy_plugin(), distribution="acme-toy")
    with use_host(host):
        assert main(argv) == 2
    assert expected in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_person_boxes_are_each_objects_exact_extent(videos: SynthReport) -> None:
    """person_boxes.json: per frame, the pixel extent of each visible object (coverage > 0), score 1."""
    doc = json.loads((videos.root / "person_boxes.json").read_text())
    assert doc["format"] == "actioncore-person-boxes" and doc["version"] == 1
    assert len(doc["videos"]) == sum(videos.num_samples.values())
    for name in ("square", "shrink", "appear", "separate"):
        clip = render(name, SampleKey(0, "val", 1), Geometry(32, 8))
        frames = doc["videos"][f"{name}/val_0001"]["frames"]
        for t in range(8):
            covered = clip.coverage[t] > 0
            if not covered.any():
                assert str(t) not in frames
                continue
            ys, xs = np.nonzero(covered)
            rows = np.array(frames[str(t)])
            assert (rows[:, :2].min(0) == [xs.min(), ys.min()]).all()
            assert (rows[:, 2:4].max(0) == [xs.max() + 1, ys.max() + 1]).all()
            assert (rows[:, 4] == 1.0).all()
    assert len(doc["videos"]["separate/val_0001"]["frames"]["0"]) == 2  # one box per ring
