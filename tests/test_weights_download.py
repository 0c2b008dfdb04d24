"""The download service: a loopback server (actioncore.testing.FileServer) stands in for the internet."""
from __future__ import annotations

import hashlib
import io
import json
import logging
import subprocess
import sys

import pytest
import torch
from torch import nn

from actioncore.errors import CheckpointError
from actioncore.weights import download
from actioncore.weights.cache import cached_file
from actioncore.weights.download import fetch
from actioncore.weights.zoo import WeightsEntry

FILE = "toy_20240101-0123abcd.pth"


def checkpoint_bytes(seed: int = 0) -> bytes:
    """A real torch.save file of random weights (about 130 kB, several of the server's chunks)."""
    torch.manual_seed(seed)
    buffer = io.BytesIO()
    torch.save(nn.Linear(128, 256).state_dict(), buffer)
    return buffer.getvalue()


def serve(server, data: bytes, name: str = FILE, **fields) -> WeightsEntry:
    """Put ``data`` on the server; an entry for it (sha256 and size unless ``fields`` say otherwise)."""
    (server.root / name).write_bytes(data)
    fields = {"sha256": hashlib.sha256(data).hexdigest(), "file_size": len(data), **fields}
    return WeightsEntry(name="toy", architecture="Linear", task="recognition", dataset="ucf101",
                        url=server.url(name), source_format="actioncore", fits="a test file", **fields)


def test_download_with_progress_verified_by_sha256(weights_server, capsys):
    data = checkpoint_bytes()
    entry = serve(weights_server, data)
    path = fetch(entry)
    assert path == cached_file(entry) and path.read_bytes() == data
    assert not path.with_name(FILE + ".part").exists()
    record = json.loads(path.with_name(FILE + ".sha256.json").read_text())
    assert record["sha256"] == entry.sha256 and record["size"] == len(data)
    err = capsys.readouterr().err
    assert "toy" in err and "100%" in err  # tqdm's bar on stderr
    assert weights_server.ranges(FILE) == [None]


def test_a_cached_file_is_neither_downloaded_nor_hashed_again(weights_server, monkeypatch):
    entry = serve(weights_server, checkpoint_bytes())
    path = fetch(entry, progress=False)
    monkeypatch.setattr(download, "file_hasher", lambda p: pytest.fail("hashed a verified file again"))
    assert fetch(entry, progress=False) == path
    assert weights_server.count(FILE) == 1


def test_a_changed_cached_file_is_verified_again(weights_server):
    entry = serve(weights_server, checkpoint_bytes())
    path = fetch(entry, progress=False)
    path.write_bytes(checkpoint_bytes(seed=1))  # same size, other bytes, newer mtime
    with pytest.raises(CheckpointError, match="has sha256 .*, expected sha256 " + entry.sha256):
        fetch(entry, progress=False)
    assert not path.exists()
    assert fetch(entry, progress=False).read_bytes() == checkpoint_bytes()  # downloaded afresh


def test_download_verified_by_hash_prefix(weights_server):
    data = checkpoint_bytes()
    entry = serve(weights_server, data, sha256="", file_size=None, hash_prefix=hashlib.sha256(data).hexdigest()[:8])
    assert fetch(entry, progress=False).read_bytes() == data


def test_a_dropped_connection_resumes_with_a_range_request(weights_server, caplog):
    data = checkpoint_bytes()
    entry = serve(weights_server, data)
    weights_server.drop_after(FILE, 40_000)
    with caplog.at_level(logging.WARNING, logger="actioncore.weights"):
        path = fetch(entry, progress=False)
    assert path.read_bytes() == data
    assert weights_server.ranges(FILE) == [None, "bytes=40000-"]
    assert [r.status for r in weights_server.requests] == [200, 206]
    assert "broke off" in caplog.text and "40,000 bytes; resuming (1 of 2)" in caplog.text


def test_a_download_that_keeps_breaking_says_what_arrived_and_resumes_when_run_again(weights_server, monkeypatch):
    data = checkpoint_bytes()
    entry = serve(weights_server, data)
    monkeypatch.setattr(download, "RESUMES", 0)
    weights_server.drop_after(FILE, 50_000)
    with pytest.raises(CheckpointError) as caught:
        fetch(entry, progress=False)
    message = str(caught.value)
    assert "50,000 bytes" in message and "run again to resume" in message and entry.url in message
    part = cached_file(entry).with_name(FILE + ".part")
    assert part.stat().st_size == 50_000 and not cached_file(entry).exists()
    assert fetch(entry, progress=False).read_bytes() == data
    assert weights_server.ranges(FILE) == [None, "bytes=50000-"]


def test_a_server_that_ignores_the_range_sends_the_whole_file_again(weights_server, monkeypatch):
    data = checkpoint_bytes()
    entry = serve(weights_server, data)
    monkeypatch.setattr(download, "RESUMES", 0)
    weights_server.drop_after(FILE, 30_000)
    with pytest.raises(CheckpointError):
        fetch(entry, progress=False)
    weights_server.honour_ranges = False
    assert fetch(entry, progress=False).read_bytes() == data
    assert weights_server.ranges(FILE) == [None, "bytes=30000-"]
    assert [r.status for r in weights_server.requests] == [200, 200]


def test_a_silent_server_times_out_like_a_dropped_connection(weights_server, monkeypatch):
    data = checkpoint_bytes()
    entry = serve(weights_server, data)
    monkeypatch.setattr(download, "TIMEOUT_S", 0.3)
    monkeypatch.setattr(download, "RESUMES", 0)
    weights_server.delay_s = 2.0  # one chunk, then silence
    with pytest.raises(CheckpointError, match="broke off .*timed out.* after 16,384 bytes"):
        fetch(entry, progress=False)
    weights_server.delay_s = 0.0
    assert fetch(entry, progress=False).read_bytes() == data
    assert weights_server.ranges(FILE) == [None, "bytes=16384-"]


def test_a_hash_mismatch_deletes_the_file_and_names_both_hashes(weights_server):
    data = checkpoint_bytes()
    entry = serve(weights_server, data)
    weights_server.serve_wrong_bytes(FILE)
    with pytest.raises(CheckpointError) as caught:
        fetch(entry, progress=False)
    actual = hashlib.sha256(bytes(255 - b for b in data)).hexdigest()
    message = str(caught.value)
    assert entry.url in message and entry.sha256 in message and actual in message
    assert [p.name for p in cached_file(entry).parent.iterdir()] == [FILE + ".lock"]  # the lock stays


def test_a_hash_prefix_mismatch_names_the_prefix(weights_server):
    data = checkpoint_bytes()
    entry = serve(weights_server, data, sha256="", hash_prefix="0123abcd")
    with pytest.raises(CheckpointError, match=f"has sha256 {hashlib.sha256(data).hexdigest()}, "
                                              "expected sha256 starting with 0123abcd"):
        fetch(entry, progress=False)
    assert not cached_file(entry).exists()


def test_a_size_mismatch_deletes_the_file(weights_server):
    data = checkpoint_bytes()
    entry = serve(weights_server, data, file_size=len(data) + 1)
    with pytest.raises(CheckpointError, match=f"has {len(data):,} bytes, expected {len(data) + 1:,}"):
        fetch(entry, progress=False)
    assert [p.name for p in cached_file(entry).parent.iterdir()] == [FILE + ".lock"]  # the lock stays


def test_http_errors_name_the_url(weights_server):
    entry = serve(weights_server, b"x")
    (weights_server.root / FILE).unlink()
    with pytest.raises(CheckpointError, match=f"{entry.url} answered HTTP 404"):
        fetch(entry, progress=False)


def test_offline_never_connects_and_names_the_url_and_path(weights_server, monkeypatch):
    entry = serve(weights_server, checkpoint_bytes())
    monkeypatch.setenv("ACTIONCORE_OFFLINE", "1")
    with pytest.raises(CheckpointError) as caught:
        fetch(entry)
    assert entry.url in str(caught.value) and str(cached_file(entry)) in str(caught.value)
    assert weights_server.requests == []


def test_offline_uses_a_file_put_in_place_by_hand_once_verified(weights_server, monkeypatch):
    data = checkpoint_bytes()
    entry = serve(weights_server, data)
    monkeypatch.setenv("ACTIONCORE_OFFLINE", "1")
    cached_file(entry).parent.mkdir(parents=True)
    cached_file(entry).write_bytes(data)
    assert fetch(entry) == cached_file(entry)
    assert cached_file(entry).with_name(FILE + ".sha256.json").is_file() and weights_server.requests == []


RACE = """
import sys
from actioncore.weights.download import fetch
from actioncore.weights.zoo import WeightsEntry

entry = WeightsEntry(name="toy", architecture="Linear", task="recognition", dataset="ucf101", url=sys.argv[1],
                     sha256=sys.argv[2], source_format="actioncore", fits="a test file")
from actioncore.weights.cache import cached_file

before = "absent" if not cached_file(entry).exists() else "present"
print(before, fetch(entry, progress=False))
"""


def test_two_processes_download_one_file_once(weights_server):
    data = checkpoint_bytes()
    entry = serve(weights_server, data)
    weights_server.delay_s = 0.2  # 9 chunks: the download lasts about 2 s, both processes meet
    processes = [subprocess.Popen([sys.executable, "-c", RACE, entry.url, entry.sha256], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    # both found no file when they began, yet the server sent it once: one waited for the other's
    assert sorted(out.strip() for out, _ in outputs) == [f"absent {cached_file(entry)}"] * 2
    assert weights_server.ranges(FILE) == [None]
    assert cached_file(entry).read_bytes() == data
