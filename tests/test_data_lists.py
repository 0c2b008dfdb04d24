"""``actioncore data lists``: each data set's official annotation files (a few hand-written lines in
their published formats) to the lists the real dataset classes read."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import actioncore
from actioncore.cli import main
from actioncore.data.prep.lists import build_lists
from actioncore.errors import DataError
from actioncore.plugin.host import PluginHost, use_host

PLUGINS = ("actioncore_lists.hooks", "actioncore_localization.hooks", "actioncore_detection.hooks")
PIPELINE = [{"type": "sample_frames", "clip_len": 1, "num_clips": 1}, {"type": "decode"}]


@pytest.fixture(scope="module")
def module_host():
    """One host with the three dataset plugins for the whole module (registering them costs seconds)."""
    host = PluginHost(autoload=False)
    for module in PLUGINS:
        host.register(module)
    return host


@pytest.fixture
def actioncore_host(module_host):
    with use_host(module_host):
        yield module_host


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def video_records(path, **params):
    dataset = actioncore.build("dataset", "video_list", ann_file=str(path), pipeline=PIPELINE, **params)
    return [(r.source, r.label) for r in dataset.records]


def test_folder_tree_videos_and_frame_folders(actioncore_host, tmp_path, capsys):
    tree = tmp_path / "tree"
    for video in ("walk/b.mp4", "walk/a.avi", "jump/c.mp4", "Run/d.mkv"):
        (tree / video).parent.mkdir(parents=True, exist_ok=True)
        (tree / video).write_bytes(b"")
    frames = tmp_path / "frames"
    for name, count in (("walk/a", 3), ("walk/b", 2), ("jump/c", 5)):
        (frames / name).mkdir(parents=True)
        for k in range(1, count + 1):
            (frames / name / f"img_{k:05d}.jpg").write_bytes(b"")
    assert main(["data", "lists", "folder", str(tree), "--out", str(tmp_path / "out"), "--frames", str(frames),
                 "--prefix", "mine", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["missing_frames"] == {"mine": ["Run/d"]}
    assert (tmp_path / "out" / "classes.txt").read_text() == "Run\njump\nwalk\n"  # sorted: label = rank
    assert video_records(tmp_path / "out" / "mine_videos.txt") == [
        ("Run/d.mkv", 0), ("jump/c.mp4", 1), ("walk/a.avi", 2), ("walk/b.mp4", 2)]
    raw = actioncore.build("dataset", "rawframe_list", ann_file=str(tmp_path / "out" / "mine_rawframes.txt"),
                           pipeline=PIPELINE)
    assert [(r.source, r.num_frames, r.label) for r in raw.records] == [("jump/c", 5, 1), ("walk/a", 3, 2),
                                                                          ("walk/b", 2, 2)]
    only_frames = build_lists("folder", frames, tmp_path / "out2")  # a tree of frame folders
    assert [Path(f).name for f in only_frames["files"]] == ["folder_rawframes.txt", "classes.txt"]
    assert (tmp_path / "out2" / "folder_rawframes.txt").read_text() == "jump/c 5 0\nwalk/a 3 1\nwalk/b 2 1\n"


def test_ucf101_splits(actioncore_host, tmp_path):
    ann = write(tmp_path / "ucfTrainTestlist", {
        "classInd.txt": "1 ApplyEyeMakeup\n2 ApplyLipstick\n3 Archery\n",
        "trainlist01.txt": "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\nArchery/v_Archery_g08_c02.avi 3\n",
        "testlist01.txt": "ApplyLipstick/v_ApplyLipstick_g01_c01.avi\r\nArchery/v_Archery_g01_c01.avi\r\n",
    })
    report = build_lists("ucf101", ann, tmp_path / "out", split=1)
    assert report["counts"] == {"ucf101_train_split_1": 2, "ucf101_val_split_1": 2}
    assert video_records(tmp_path / "out" / "ucf101_train_split_1_videos.txt", root="/d") == [
        ("/d/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi", 0), ("/d/Archery/v_Archery_g08_c02.avi", 2)]
    assert video_records(tmp_path / "out" / "ucf101_val_split_1_videos.txt")[0] == (
        "ApplyLipstick/v_ApplyLipstick_g01_c01.avi", 1)
    (ann / "trainlist01.txt").write_text("Archery/v_Archery_g08_c02.avi 2\n")
    with pytest.raises(DataError, match=r"trainlist01.txt:1: label 2 disagrees"):
        build_lists("ucf101", ann, tmp_path / "out", split=1)
    (ann / "trainlist01.txt").write_text("Archery/v_Archery_g08_c02.avi 3\n")
    with pytest.raises(DataError, match="trainlist02.txt: UCF-101 trainlist not found"):
        build_lists("ucf101", ann, tmp_path / "out")


def test_hmdb51_split_files(actioncore_host, tmp_path):
    ann = write(tmp_path / "testTrainMulti_7030_splits", {
        "brush_hair_test_split1.txt": "April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1 \nBrushing_my_hair_f_nm_np1_le_goo_0.avi 2 \n"
                                      "Aussie_Brushing_Hair_f_nm_np1_ri_med_0.avi 0 \n",
        "cartwheel_test_split1.txt": "Acrobacias_de_un_fenomeno_cartwheel_f_cm_np1_le_bad_8.avi 1 \n",
    })
    build_lists("hmdb51", ann, tmp_path / "out", split=1)
    assert video_records(tmp_path / "out" / "hmdb51_train_split_1_videos.txt") == [
        ("brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi", 0),
        ("cartwheel/Acrobacias_de_un_fenomeno_cartwheel_f_cm_np1_le_bad_8.avi", 1)]
    assert video_records(tmp_path / "out" / "hmdb51_val_split_1_videos.txt") == [
        ("brush_hair/Brushing_my_hair_f_nm_np1_le_goo_0.avi", 0)]


def test_kinetics_csv_clip_names(actioncore_host, tmp_path):
    header = "label,youtube_id,time_start,time_end,split,is_cc\n"
    ann = write(tmp_path / "annotations", {
        "kinetics_train.csv": header + "testifying,---QUuC4vJs,84,94,train,0\n"
                              '"passing American football (in game)",--3ouPhoy2A,20,30,train,0\n',
        "kinetics_val.csv": header + "testifying,--07WQ2iBlw,1,11,val,0\n",
    })
    build_lists("kinetics", ann, tmp_path / "out", prefix="kinetics400")
    assert video_records(tmp_path / "out" / "kinetics400_train_list_videos.txt") == [
        ("testifying/---QUuC4vJs_000084_000094.mp4", 1),
        ("passing_American_football_(in_game)/--3ouPhoy2A_000020_000030.mp4", 0)]
    build_lists("kinetics", ann, tmp_path / "flat", level=1)
    assert video_records(tmp_path / "flat" / "kinetics400_val_list_videos.txt") == [("--07WQ2iBlw_000001_000011.mp4", 1)]
    assert (tmp_path / "out" / "classes.txt").read_text().splitlines() == [
        "passing American football (in game)", "testifying"]


def test_something_something_v2_templates(actioncore_host, tmp_path):
    ann = write(tmp_path / "sthv2", {
        "something-something-v2-labels.json": json.dumps({"Approaching something with your camera": "0",
                                                          "Holding something next to something": "1"}),
        "something-something-v2-train.json": json.dumps([
            {"id": "78687", "label": "holding potato next to vicks vaporub bottle",
             "template": "Holding [something] next to [something]", "placeholders": ["potato", "vicks"]}]),
        "something-something-v2-validation.json": json.dumps([
            {"id": "74225", "label": "approaching a cup with your camera",
             "template": "Approaching [something] with your camera", "placeholders": ["a cup"]}]),
    })
    build_lists("sthv2", ann, tmp_path / "out")
    assert video_records(tmp_path / "out" / "sthv2_train_list_videos.txt") == [("78687.webm", 1)]
    assert video_records(tmp_path / "out" / "sthv2_val_list_videos.txt") == [("74225.webm", 0)]


def test_diving48_and_moments_in_time(actioncore_host, tmp_path):
    diving = write(tmp_path / "diving48", {
        "Diving48_vocab.json": json.dumps([["Back", "15som", "NoTwis", "PIKE"], ["Back", "15som", "NoTwis", "TUCK"]]),
        "Diving48_V2_train.json": json.dumps([{"vid_name": "-mmq0PT-u8k_00155", "label": 1, "start_frame": 0,
                                              "end_frame": 184}]),
        "Diving48_V2_test.json": json.dumps([{"vid_name": "0ZWUwZk4ZVU_00000", "label": 0, "start_frame": 0,
                                             "end_frame": 96}]),
    })
    build_lists("diving48", diving, tmp_path / "d")
    assert video_records(tmp_path / "d" / "diving48_train_list_videos.txt") == [("-mmq0PT-u8k_00155.mp4", 1)]
    assert (tmp_path / "d" / "classes.txt").read_text().splitlines()[0] == "Back 15som NoTwis PIKE"
    mit = write(tmp_path / "mit", {
        "moments_categories.txt": "adult+female+singing,0\nadult+female+speaking,1\n",
        "trainingSet.csv": "adult+female+speaking/yt-0a3_bXK7vVw_1.mp4,adult+female+speaking,3,0\n",
        "validationSet.csv": "adult+female+singing/0P3XG_vBMHI_245.mp4,adult+female+singing,3,0\n",
    })
    build_lists("mit", mit, tmp_path / "m")
    assert video_records(tmp_path / "m" / "mit_train_list_videos.txt") == [
        ("adult+female+speaking/yt-0a3_bXK7vVw_1.mp4", 1)]
    assert video_records(tmp_path / "m" / "mit_val_list_videos.txt") == [("adult+female+singing/0P3XG_vBMHI_245.mp4", 0)]


VIDEO_INFO = ("video,numFrame,seconds,fps,rfps,subset,featureFrame\n"
              "v_--1DO2V4K74,6337,211.53,29.97,29.95,training,6336\n"
              "v_--6bJUbfpnQ,796,26.75,29.75,29.76,validation,784\n")


@pytest.mark.parametrize("official", [False, True])
def test_activitynet_to_the_localization_dataset(actioncore_host, tmp_path, official):
    segments = {"v_--1DO2V4K74": [{"segment": [30.0, 205.0], "label": "Rock climbing"}],
                "v_--6bJUbfpnQ": [{"segment": [2.5, 24.0], "label": "Drinking beer"}]}
    if official:  # activity_net.v1-3.min.json: ids without v_, durations, subsets
        database = {"version": "VERSION 1.3", "taxonomy": [], "database": {
            "--1DO2V4K74": {"subset": "training", "duration": 211.53, "annotations": segments["v_--1DO2V4K74"]},
            "--6bJUbfpnQ": {"subset": "validation", "duration": 26.75, "annotations": segments["v_--6bJUbfpnQ"]},
            "--never-downloaded": {"subset": "training", "duration": 9.0, "annotations": []}}}
        ann = write(tmp_path / "anet", {"activity_net.v1-3.min.json": json.dumps(database),
                                        "video_info_new.csv": VIDEO_INFO})
    else:  # BSN's anet_anno_action.json
        action = {"v_--1DO2V4K74": {"duration_second": 211.53, "duration_frame": 6337, "feature_frame": 6336,
                                    "annotations": segments["v_--1DO2V4K74"]},
                  "v_--6bJUbfpnQ": {"duration_second": 26.75, "duration_frame": 796, "feature_frame": 784,
                                    "annotations": segments["v_--6bJUbfpnQ"]}}
        ann = write(tmp_path / "anet", {"anet_anno_action.json": json.dumps(action), "video_info_new.csv": VIDEO_INFO})
    report = build_lists("activitynet", ann, tmp_path / "out")
    assert report["counts"] == {"train": 1, "val": 1, "test": 0}
    pipeline = [{"type": "load_localization_feature", "temporal_dim": 100, "feat_dim": 4}]
    train = actioncore.build("dataset", "activitynet", ann_file=str(tmp_path / "out" / "anet_anno_train.json"),
                             root="feats", pipeline=pipeline)
    (video,) = train.annotations
    assert (video.video_name, video.duration_frame, video.feature_frame, video.fps) == ("v_--1DO2V4K74", 6337, 6336, 29.97)
    assert video.segments.tolist() == [[30.0, 205.0]] and video.labels == ("Rock climbing",)
    assert train.records[0].source == "feats/v_--1DO2V4K74.csv"
    full = json.loads((tmp_path / "out" / "anet_anno_full.json").read_text())
    assert list(full) == ["v_--1DO2V4K74", "v_--6bJUbfpnQ"]


def test_ava_tables_load_in_the_ava_dataset(actioncore_host, tmp_path):
    ann = write(tmp_path / "annotations", {
        "ava_train_v2.2.csv": "-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,80,1\n-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,9,1\n"
                              "-5KQ66BBWC4,0903,0.226,0.032,0.366,0.497,12,0\n",
        "ava_val_v2.2.csv": "1j20qq1JyX4,0902,0.002,0.118,0.714,0.977,12,0\n",
        "ava_train_excluded_timestamps_v2.2.csv": "-5KQ66BBWC4,0903\n",
        "ava_val_excluded_timestamps_v2.2.csv": "",
        "ava_action_list_v2.2_for_activitynet_2019.pbtxt": 'item {\n  name: "bend/bow (at the waist)"\n  id: 1\n}\n'
        'item {\n  name: "dance"\n  id: 9\n}\nitem {\n  name: "stand"\n  id: 12\n}\nitem {\n  name: "watch (a person)"\n  id: 80\n}\n',
    })
    frames = tmp_path / "rawframes"
    (frames / "-5KQ66BBWC4").mkdir(parents=True)
    report = build_lists("ava", ann, tmp_path / "out", frames=frames)
    assert report["counts"] == {"train": {"videos": 1, "rows": 3}, "val": {"videos": 1, "rows": 1}}
    assert report["missing_frames"] == {"val": ["1j20qq1JyX4"]}
    assert (tmp_path / "out" / "ava_train_videos.txt").read_text() == "-5KQ66BBWC4\n"
    experiment = (tmp_path / "out" / "ava_data.toml").read_text()
    import tomllib
    tables = tomllib.loads(experiment)["data"]
    params = {k: v for k, v in tables["train"].items() if k != "type"}
    dataset = actioncore.build("dataset", tables["train"]["type"], pipeline=[], num_classes=81, **params)
    assert [(k.video_id, k.timestamp) for k in dataset.keyframes] == [("-5KQ66BBWC4", 902)]  # 0903 excluded
    (ann / "ava_val_v2.2.csv").write_text("1j20qq1JyX4,0902,0.002\n")
    with pytest.raises(DataError, match=r"ava_val_v2.2.csv:1: expected video_id"):
        build_lists("ava", ann, tmp_path / "out")


def test_unknown_format_and_missing_source(tmp_path):
    with pytest.raises(DataError, match="formats are folder, ucf101"):
        build_lists("ucf", tmp_path, tmp_path / "out")
    assert main(["data", "lists", "kinetics", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
