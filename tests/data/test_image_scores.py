"""Image-score files: the .npz layout, the reader's frame fallback and errors, the conversion of
video-data-aug's pickled .npy, and ``actioncore data image-scores`` against a direct torchvision forward."""
from __future__ import annotations

import itertools
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision

from actioncore.builtin.converters import convert_image_scores
from actioncore.builtin.synth import synthesize
from actioncore.cli import main
from actioncore.data.image_scores import ImageScores, ImageScoresWriter
from actioncore.data.video_keys import find_key, key_tails, unique_keys, video_key
from actioncore.data.image_scoring import eval_transforms
from actioncore.errors import ConfigError, DataError
from actioncore.io import read_frames


def dirichlet_rows(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    return rng.dirichlet(np.full(c, 0.3), size=n).astype(np.float32)


@pytest.fixture
def scores_file(tmp_path: Path) -> tuple[Path, dict[str, tuple[np.ndarray, np.ndarray]]]:
    rng = np.random.default_rng(0)
    content = {"v_a": (np.array([8, 0, 4]), dirichlet_rows(rng, 3, 5)),
               "v_b": (np.array([3]), dirichlet_rows(rng, 1, 5))}
    with ImageScoresWriter(tmp_path / "s.npz", num_classes=5, classes=list("abcde")) as writer:
        for key, (frames, probs) in content.items():
            writer.add(key, frames, probs)
    return tmp_path / "s.npz", content


def test_layout_is_the_shared_interface(scores_file):
    path, content = scores_file
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    assert sorted(arrays) == ["classes", "frame_index", "frame_offsets", "probs", "videos"]
    assert arrays["videos"].tolist() == ["v_a", "v_b"] and arrays["videos"].dtype.kind == "U"
    assert arrays["frame_offsets"].dtype == np.int64 and arrays["frame_offsets"].tolist() == [0, 3, 4]
    assert arrays["frame_index"].dtype == np.int64 and arrays["frame_index"].tolist() == [0, 4, 8, 3]  # sorted
    assert arrays["probs"].dtype == np.float16 and arrays["probs"].shape == (4, 5)
    frames, probs = content["v_a"]
    np.testing.assert_array_equal(arrays["probs"][:3], probs[np.argsort(frames)].astype(np.float16))
    assert arrays["classes"].tolist() == list("abcde")
    with zipfile.ZipFile(path) as archive:  # stored, so the reader can memory-map probs
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}


def test_reader_falls_back_to_the_nearest_stored_frame_at_or_below(scores_file):
    path, content = scores_file
    scores = ImageScores(path)
    assert isinstance(scores.probs_array, np.memmap)
    assert len(scores) == 2 and "v_b" in scores and "v_c" not in scores and scores.num_classes == 5
    assert scores.classes == tuple("abcde") and scores.frames("v_a").tolist() == [0, 4, 8]
    frames, probs = content["v_a"]
    rows = {int(f): probs[i].astype(np.float16).astype(np.float32) for i, f in enumerate(frames)}
    got = scores.probs("v_a", [0, 1, 3, 4, 7, 8, 100])
    assert got.dtype == np.float32 and got.shape == (7, 5)
    for row, stored in zip(got, [0, 0, 0, 4, 4, 8, 8]):
        np.testing.assert_array_equal(row, rows[stored])
    assert scores.probs("v_b", np.array([[3, 5]])).shape == (2, 5)
    with pytest.raises(DataError, match=r"s\.npz: video 'v_b': no scores at or below frame 2 \(its first stored frame is 3\)"):
        scores.probs("v_b", [4, 2])
    with pytest.raises(DataError, match=r"s\.npz: no scores for video 'v_c'"):
        scores.probs("v_c", [0])


def test_pickles_without_the_probabilities_and_maps_them_again(tmp_path):
    with ImageScoresWriter(tmp_path / "big.npz", num_classes=1000) as writer:
        writer.add("v", np.arange(200), dirichlet_rows(np.random.default_rng(2), 200, 1000))
    scores = ImageScores(tmp_path / "big.npz")
    payload = pickle.dumps(scores)
    assert len(payload) < 10_000  # the 400 kB of probabilities stay in the file
    again = pickle.loads(payload)
    assert isinstance(again.probs_array, np.memmap) and again.probs_array.filename == str(tmp_path / "big.npz")
    np.testing.assert_array_equal(again.probs("v", [0, 5, 199]), scores.probs("v", [0, 5, 199]))


def test_compressed_files_read_too(scores_file, tmp_path):
    path, _ = scores_file
    with np.load(path) as npz:
        np.savez_compressed(tmp_path / "z.npz", **{k: npz[k] for k in npz.files})
    scores, original = ImageScores(tmp_path / "z.npz"), ImageScores(path)
    np.testing.assert_array_equal(scores.probs("v_a", [5, 9]), original.probs("v_a", [5, 9]))


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("probs"), r"not an image-score file: no probs"),
    (lambda a: a.update(frame_offsets=np.array([0, 2, 5])), r"frame_offsets must be \[V \+ 1\]"),
    (lambda a: a.update(frame_index=np.array([4, 0, 8, 3])), r"frame_index must increase within each video"),
    (lambda a: a.update(probs=a["probs"][:3]), r"probs must be \[F, C\] with F = 4 rows"),
    (lambda a: a.update(classes=np.array(["a"])), r"1 classes for 5 probability columns"),
    (lambda a: a.update(videos=np.array(["v", "v"])), r"a video key appears twice"),
])
def test_malformed_files_name_the_file(scores_file, tmp_path, change, message):
    with np.load(scores_file[0]) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=rf"bad\.npz: .*{message}"):
        ImageScores(tmp_path / "bad.npz")


def test_not_npz_and_missing_files(tmp_path):
    np.save(tmp_path / "scores.npy", np.zeros(3))
    with pytest.raises(DataError, match=r"scores\.npy: not an \.npz image-score file.*data convert image_scores"):
        ImageScores(tmp_path / "scores.npy")
    with pytest.raises(DataError, match=r"nope\.npz: no such image-score file"):
        ImageScores(tmp_path / "nope.npz")


def test_writer_refuses_duplicate_keys_and_leaves_no_file_on_error(tmp_path):
    target = tmp_path / "s.npz"
    with pytest.raises(DataError, match=r"video 'v' \(b/v\.mp4\): the key is already taken by a/v\.mp4"):
        with ImageScoresWriter(target, num_classes=2) as writer:
            writer.add("v", [0], np.full((1, 2), 0.5), source="a/v.mp4")
            writer.add("v", [0], np.full((1, 2), 0.5), source="b/v.mp4")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DataError, match=r"probs of shape \[1, 3\] for 1 frames and 2 classes"):
        ImageScoresWriter(target, num_classes=2).add("v", [0], np.zeros((1, 3)))


@pytest.mark.parametrize("path, key", [("a/v_Basketball_g15_c01.avi", "v_Basketball_g15_c01"),
                                       ("rawframes/cls/v_x/", "v_x"), ("PoolJ8L1re4_000010_000020.mp4",
                                                                       "PoolJ8L1re4_000010_000020")])
def test_video_key_is_the_file_name_without_extension(path, key):
    assert video_key(path) == key


def test_keys_grow_into_the_path_only_where_names_repeat(tmp_path):
    sources = ["/d/videos/square/train_0000.mp4", "/d/videos/disc/train_0000.mp4", "/d/videos/disc/train_0001.mp4"]
    assert key_tails(sources[0])[:3] == ["train_0000", "square/train_0000", "videos/square/train_0000"]
    assert unique_keys(sources) == ["square/train_0000", "disc/train_0000", "train_0001"]
    assert find_key("/elsewhere/disc/train_0000.avi", {"square/train_0000", "disc/train_0000"}) == "disc/train_0000"
    assert find_key("/x/v_Basketball_g15_c01", {"v_Basketball_g15_c01"}) == "v_Basketball_g15_c01"
    assert find_key("/x/other.mp4", {"train_0000"}) is None
    target = tmp_path / "s.npz"
    writer = ImageScoresWriter(target, num_classes=2)
    for key in unique_keys(sources):
        writer.add(key, [0], np.array([[0.25, 0.75]]))
    writer.close()
    scores = ImageScores(target)
    assert scores.key_for(sources[1]) == "disc/train_0000" and scores.key_for("/y/train_0001.mp4") == "train_0001"
    with pytest.raises(DataError, match="no scores for the video '/y/train_0002.mp4'"):
        scores.key_for("/y/train_0002.mp4")


# --- video-data-aug's pickled .npy ---------------------------------------------------------------

def original_scores(rng: np.random.Generator) -> dict:
    """The original layout: {video: {1-based frame: {'prob': ndarray[C]}}}, every 4th frame like Kinetics'."""
    return {f"v_{i}": {frame: {"prob": dirichlet_rows(rng, 1, 10)[0]} for frame in (9, 1, 5)} for i in range(3)}


def test_convert_the_original_npy(tmp_path, capsys):
    original = original_scores(np.random.default_rng(1))
    np.save(tmp_path / "preds.npy", np.array(original, dtype=object), allow_pickle=True)
    target = tmp_path / "preds.npz"
    assert main(["data", "convert", "image_scores", str(tmp_path / "preds.npy"), str(target)]) == 2
    assert "refusing to load a pickle (video-data-aug image scores)" in capsys.readouterr().err
    assert not target.exists()
    assert main(["data", "convert", "image_scores", str(tmp_path / "preds.npy"), str(target), "--trust-pickle",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["videos"] == 3 and report["frames"] == 9 and report["classes"] == 10
    assert abs(report["row_sum_min"] - 1) < 1e-3 and abs(report["row_sum_max"] - 1) < 1e-3
    scores = ImageScores(target)
    assert scores.classes is None and scores.frames("v_1").tolist() == [0, 4, 8]  # 1-based 1, 5, 9
    np.testing.assert_allclose(scores.probs("v_1", [4, 6]),
                               np.stack([original["v_1"][5]["prob"]] * 2), atol=1e-3)


@pytest.mark.parametrize("content, message", [
    ([1, 2], r"expected a pickled dict"),
    ({"v": {0: {"prob": np.ones(3) / 3}}}, r"video 'v' frame 0: frame numbers must be integers >= 1"),
    ({"v": {1: {"score": np.ones(3)}}}, r"video 'v' frame 1: no 'prob' entry"),
    ({"v": {1: {"prob": -np.ones(3)}}}, r"probabilities must be finite and >= 0"),
    ({"v": {1: {"prob": np.ones(3) / 3}}, "w": {1: {"prob": np.ones(4) / 4}}}, r"video 'w': 4 classes, earlier videos have 3"),
])
def test_convert_bad_content_names_the_file(tmp_path, content, message):
    source = tmp_path / "preds.npy"
    np.save(source, np.array(content, dtype=object) if isinstance(content, dict) else np.array(content))
    with pytest.raises(DataError, match=rf"preds\.npy: .*{message}"):
        convert_image_scores(source, tmp_path / "out.npz", trust_pickle=True)
    assert not (tmp_path / "out.npz").exists()


def test_convert_refuses_before_reading(tmp_path):
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickled without --trust-pickle",))

    (tmp_path / "preds.npy").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(DataError, match="--trust-pickle"):
        convert_image_scores(tmp_path / "preds.npy", tmp_path / "out.npz", trust_pickle=False)


# --- actioncore data image-scores -----------------------------------------------------------------

@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny embedded sets (videos and raw frames), a three-video list with unique keys, and a
    random ResNet-18 saved as a state dict, its classifier scaled so that its probabilities are peaked
    and differ between frames (so preprocessing mistakes show)."""
    root = tmp_path_factory.mktemp("scores")
    synthesize("recognition", root / "videos", seed=0, size="tiny")
    synthesize("rawframes", root / "frames", seed=0, size="tiny")
    picks = ("square/train_0000", "disc/train_0001", "triangle/train_0002")
    for name, suffix in (("videos", ".mp4 "), ("frames", " 8 ")):
        lines = [line for line in (root / name / "train.txt").read_text().splitlines()
                 if line.startswith(tuple(p + suffix for p in picks))]
        assert len(lines) == 3
        (root / f"{name}.txt").write_text("\n".join(lines) + "\n")
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    with torch.no_grad():
        model.fc.weight.mul_(20)
    torch.save(model.state_dict(), root / "resnet18.pth")
    torch.save({"state_dict": model.state_dict(), "classes": [f"c{i}" for i in range(1000)]}, root / "named.pth")
    return {"root": root, "model": model.eval()}


RUNS = itertools.count()


def run_scores(synth, *extra: str, ann: str = "videos", weights: str = "resnet18.pth", status: int = 0) -> Path:
    root = synth["root"]
    out = root / f"out_{next(RUNS)}.npz"
    data = root / ann / ("videos" if ann == "videos" else "rawframes")
    assert main(["data", "image-scores", str(root / f"{ann}.txt"), "--root", str(data), "--model", "resnet18",
                 "--weights", str(root / weights), "--out", str(out), "--every", "4", "--size", "64",
                 "--batch-size", "3", *extra]) == status
    return out


@pytest.mark.parametrize("ann", ["videos", "frames"])
def test_image_scores_equal_a_direct_torchvision_forward(synth, ann, capsys):
    out = run_scores(synth, "--json", ann=ann)
    report = json.loads(capsys.readouterr().out)
    assert report == {"target": str(out), "videos": 3, "frames": 6, "classes": 1000, "class_names": False,
                      "every": 4, "crop_size": 64, "resize_size": 73, "device": "cpu"}
    scores = ImageScores(out)
    assert scores.videos == ("train_0000", "train_0001", "train_0002") and scores.classes is None
    preset = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.transforms(crop_size=64, resize_size=73)
    rows = []
    for key, path in zip(scores.videos, ("square/train_0000", "disc/train_0001", "triangle/train_0002")):
        assert scores.frames(key).tolist() == [0, 4]
        source = synth["root"] / ann / ("videos" if ann == "videos" else "rawframes") / path
        frames = read_frames(f"{source}.mp4" if ann == "videos" else source, [0, 4])
        with torch.inference_mode():
            expected = torch.softmax(synth["model"](preset(frames.permute(0, 3, 1, 2))), dim=1).numpy()
        got = scores.probs(key, [0, 4])
        np.testing.assert_allclose(got, expected, atol=2e-3)
        np.testing.assert_allclose(got.sum(axis=1), 1, atol=5e-3)
        rows.append(got)
    assert expected.max() > 0.5  # peaked, and different per video: a wrong transform could not pass
    assert np.abs(rows[0] - rows[1]).max() > 0.1


def test_class_names_from_the_weights_file_or_a_file(synth, tmp_path, capsys):
    assert ImageScores(run_scores(synth, weights="named.pth")).classes[:2] == ("c0", "c1")
    names = tmp_path / "names.txt"
    names.write_text("".join(f"n{i}\n" for i in range(1000)))
    assert ImageScores(run_scores(synth, "--classes", str(names), "--every", "8")).classes[-1] == "n999"
    assert ImageScores(run_scores(synth, "--classes", "imagenet")).classes[0] == "tench"
    names.write_text("a\nb\n")
    run_scores(synth, "--classes", str(names), "--every", "8", status=2)
    assert "names.txt: 2 class names for a model with 1000 outputs" in capsys.readouterr().err


def test_the_models_own_transforms_by_default():
    expected = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.transforms()
    assert repr(eval_transforms("resnet18")) == repr(expected)
    scaled = eval_transforms("resnet18", size=112)
    assert (scaled.crop_size, scaled.resize_size, scaled.mean) == ([112], [128], expected.mean)
    vit = eval_transforms("vit_b_16")
    assert (vit.crop_size, vit.resize_size) == ([224], [256])


def test_bad_input_is_one_line_naming_it(synth, capsys):
    root = synth["root"]
    base = ["data", "image-scores", str(root / "videos" / "train.txt"), "--root", str(root / "videos" / "videos"),
            "--out", str(root / "x.npz")]
    cases = [
        (["--model", "resnet_18", "--weights", str(root / "resnet18.pth")],
         "--model 'resnet_18' is not a torchvision classification model; did you mean resnet18"),
        (["--model", "resnet34", "--weights", str(root / "resnet18.pth")], "resnet18.pth: does not fit"),
        (["--model", "resnet18", "--weights", str(root / "missing.pth")], "missing.pth"),
        (["--model", "resnet18", "--weights", str(root / "resnet18.pth"), "--every", "0"], "--every must be >= 1"),
    ]
    cases = [(base + extra, message) for extra, message in cases]
    frames = ["data", "image-scores", str(root / "frames.txt"), "--root", str(root / "frames" / "rawframes"),
              "--out", str(root / "x.npz"), "--model", "resnet18", "--weights", str(root / "resnet18.pth")]
    cases += [([*frames, "--filename-tmpl", "flow_{}_{:05d}.jpg"], "names optical-flow frames"),
              ([*frames, "--filename-tmpl", "img.jpg"], "--filename-tmpl / --start-index: filename_tmpl 'img.jpg'")]
    for args, message in cases:
        assert main(args) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    assert not (root / "x.npz").exists()


def test_decoding_workers_give_the_same_file_and_report_a_bad_video_in_one_line(synth, capsys):
    alone = ImageScores(run_scores(synth))
    shared = ImageScores(run_scores(synth, "--workers", "2", "--batch-size", "1"))
    assert sorted(shared.videos) == sorted(alone.videos)
    for key in alone.videos:
        np.testing.assert_allclose(shared.probs(key, [0, 4]), alone.probs(key, [0, 4]), atol=1e-4)  # batch 1 vs 3
    root = synth["root"]
    broken = root / "broken.txt"
    broken.write_text((root / "videos.txt").read_text() + "square/missing_9.mp4 0\n")
    out = root / "broken.npz"
    assert main(["data", "image-scores", str(broken), "--root", str(root / "videos" / "videos"), "--model", "resnet18",
                 "--weights", str(root / "resnet18.pth"), "--out", str(out), "--every", "8", "--size", "32",
                 "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "missing_9.mp4" in err and "Traceback" not in err and not out.exists()
