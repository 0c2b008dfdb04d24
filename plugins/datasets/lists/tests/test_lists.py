"""Parsing the MMAction2 and CMR annotation lists; every malformed line names file and line."""
from __future__ import annotations

import pytest

from actioncore.sdk import DataError
from actioncore.testing import assert_component_contract

pytestmark = pytest.mark.actioncore_plugins("actioncore_lists.hooks")

PIPELINE = [{"type": "sample_frames", "clip_len": 1, "num_clips": 3}, {"type": "decode"}]


def write(tmp_path, text, name="list.txt"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def build(host, kind, tmp_path, text, **params):
    return assert_component_contract(host, "dataset", kind,
                                     {"ann_file": write(tmp_path, text), "pipeline": PIPELINE, **params})


def test_unlabeled_video_list_keeps_paths_only(actioncore_host, tmp_path):
    videos = build(actioncore_host, "unlabeled_video_list", tmp_path, "a/x.mp4\n# comment\nb/y.mp4 3 7\n", root="/data")
    assert [(r.source, r.label, r.line) for r in videos.records] == [("/data/a/x.mp4", None, 1), ("/data/b/y.mp4", None, 3)]
    with pytest.raises(DataError, match="lists no samples"):
        build(actioncore_host, "unlabeled_video_list", tmp_path, "# nothing\n")


def test_video_list_single_and_multi_label(actioncore_host, tmp_path):
    videos = build(actioncore_host, "video_list", tmp_path, "a/x.mp4 3\n\n# comment\nb/y.mp4 0\n", root="/data")
    assert [(r.source, r.label, r.line) for r in videos.records] == [("/data/a/x.mp4", 3, 1), ("/data/b/y.mp4", 0, 4)]
    assert videos.default_decoder == "pyav" and [type(s).__name__ for s in videos.pipeline] == ["SampleFrames", "Decode"]
    multi = build(actioncore_host, "video_list", tmp_path, "a.mp4 1 4 7\n", multi_class=True)
    assert multi.records[0].label == (1, 4, 7)


def test_rawframe_list_with_and_without_offset(actioncore_host, tmp_path):
    plain = build(actioncore_host, "rawframe_list", tmp_path, "cls/v1 120 2\n")
    record = plain.records[0]
    assert (record.source, record.num_frames, record.label, record.frame_offset) == ("cls/v1", 120, 2, 0)
    assert plain.default_decoder == "frame_folder"
    offset = build(actioncore_host, "rawframe_list", tmp_path, "cls/v1 10 50 2\n", with_offset=True)
    assert (offset.records[0].frame_offset, offset.records[0].num_frames) == (10, 50)


def test_cmr_three_column_list(actioncore_host, tmp_path):
    cmr = build(actioncore_host, "cmr_list", tmp_path, "videos/a.mp4 300 5\nframes/b 0 1\n", root="r")
    assert [(r.source, r.num_frames, r.label) for r in cmr.records] == [("r/videos/a.mp4", 300, 5), ("r/frames/b", None, 1)]
    assert cmr.default_decoder == "auto"


@pytest.mark.parametrize("kind, text, params, complaint", [
    ("video_list", "a.mp4\n", {}, "list.txt:1: no label"),
    ("video_list", "a.mp4 1\nb.mp4 x\n", {}, "list.txt:2: labels must be integers, got 'x'"),
    ("video_list", "a.mp4 1 2\n", {}, "list.txt:1: 2 labels on a single-label list"),
    ("rawframe_list", "dir 3\n", {}, "list.txt:1: expected 'dir TOTAL_FRAMES LABEL'"),
    ("rawframe_list", "dir 0 3\n", {}, "list.txt:1: frame count must be positive"),
    ("rawframe_list", "dir 4 3\n", {"with_offset": True}, "expected 'dir OFFSET TOTAL_FRAMES LABEL'"),
    ("cmr_list", "a.mp4 3\n", {}, "list.txt:1: expected 'path TOTAL_FRAMES LABEL'"),
    ("video_list", "\n# nothing\n", {}, "lists no samples"),
])
def test_malformed_lines_name_file_and_line(actioncore_host, tmp_path, kind, text, params, complaint):
    with pytest.raises(DataError) as info:
        build(actioncore_host, kind, tmp_path, text, **params)
    assert complaint in str(info.value)
    assert str(tmp_path / "list.txt") in str(info.value)


def test_missing_annotation_file_is_named(actioncore_host, tmp_path):
    with pytest.raises(DataError, match=r"nope.txt: annotation file not found"):
        assert_component_contract(actioncore_host, "dataset", "video_list",
                                  {"ann_file": str(tmp_path / "nope.txt"), "pipeline": PIPELINE})
