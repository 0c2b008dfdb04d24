"""A 100,000-line list stays well under the README's 200 MB (benchmarks/scaling.py lists): the
records are small, with no per-line copies of the text or of the list's file name."""
from __future__ import annotations

import tracemalloc

import pytest

pytestmark = pytest.mark.actioncore_plugins("actioncore_lists.hooks")

LINES = 100_000
FORMATS = {
    "video_list": lambda i: f"class{i % 400:03d}/video_{i:07d}.mp4 {i % 400}",
    "rawframe_list": lambda i: f"class{i % 400:03d}/video_{i:07d} {100 + i % 200} {i % 400}",
}


@pytest.mark.parametrize("kind", list(FORMATS))
def test_a_100k_line_list_fits_in_little_memory(actioncore_host, tmp_path, kind):
    ann = tmp_path / "list.txt"
    ann.write_text("".join(FORMATS[kind](i) + "\n" for i in range(LINES)))
    factory = actioncore_host.registry.get("dataset", kind).factory
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        dataset = factory(ann_file=str(ann), pipeline=[], root="/data/videos")
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(dataset.records) == LINES
    assert dataset.records[-1].source == "/data/videos/" + FORMATS[kind](LINES - 1).split()[0]
    assert peak - base < 200 * 2**20
    # measured ~220 bytes a record (a slotted record and its joined path); 400 catches a dict or
    # a copy of the line per record
    assert (retained - base) / LINES < 400
