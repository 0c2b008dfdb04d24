"""Errors in DataLoader workers read as with ``workers = 0``; dead and hung decoders name the file."""
from __future__ import annotations

import os
import shutil
import signal

import pytest
import torch
import torch.utils.data

from actioncore.data.loader import ClipLoader
from actioncore.data.watch import explain
from actioncore.errors import DataError

TROUBLED_DECODER = """
import os, signal, time
import actioncore

class Troubled:
    '''The PyAV decoder, except on files whose path contains ``on``: there it crashes, exits or hangs.'''

    def __init__(self, *, trouble: str = "none", on: str = "disc/train_0001"):
        self.inner = actioncore.build("decoder", "pyav")
        self.trouble, self.on = trouble, on

    def open(self, path):
        if self.on in str(path):
            if self.trouble == "segfault":
                os.kill(os.getpid(), signal.SIGSEGV)
            elif self.trouble == "exit":
                os._exit(3)
            elif self.trouble == "hang":
                time.sleep(3600)
        return self.inner.open(path)

@actioncore.hookimpl
def actioncore_decoders():
    return {"troubled": Troubled}
"""


@pytest.fixture
def troubled_env(site_dir):
    site_dir.add("acme-troubled", {"acme_troubled": TROUBLED_DECODER}, {"troubled": "acme_troubled"})
    return site_dir.env()


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def test_a_bad_file_in_a_worker_is_the_same_one_paragraph_error_as_without_workers(actioncore, experiment_file,
                                                                                      tiny_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    video = data / "videos/disc/train_0001.mp4"
    video.write_bytes(video.read_bytes()[:1500])
    messages = []
    for workers in (0, 2):
        exp = experiment_file(tmp_path / f"w{workers}", root=data, epochs=1, workers=workers)
        result = actioncore("run", str(exp), check=False)
        assert result.returncode == 2, result.stderr[-2000:]
        assert "Traceback" not in result.stderr and "worker process" not in result.stderr
        messages.append(last_line(result.stderr))
    assert messages[0] == messages[1]
    assert f"{data / 'train.txt'}:14" in messages[0] and "disc/train_0001.mp4" in messages[0]


@pytest.mark.slow
@pytest.mark.parametrize("trouble", ["segfault", "exit"])
def test_a_worker_that_dies_names_the_file_it_was_reading(actioncore, experiment_file, troubled_env, tmp_path,
                                                           trouble):
    exp = experiment_file(tmp_path, epochs=1, workers=1,
                          extra=f'[data.decoder]\ntype = "troubled"\ntrouble = "{trouble}"\n')
    result = actioncore("run", str(exp), env=troubled_env, check=False)
    assert result.returncode == 2, result.stderr[-2000:]
    message = last_line(result.stderr)
    # torch notices the death by SIGCHLD (naming the signal) or by a dead queue, whichever comes first
    assert "a DataLoader worker died (" in message
    assert "killed by signal: Segmentation fault" in message or "exited unexpectedly" in message
    assert "train.txt:14 (" in message and "disc/train_0001.mp4)" in message and "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 1])
def test_a_hanging_decoder_hits_data_timeout_naming_the_file(actioncore, experiment_file, troubled_env, tmp_path,
                                                             workers):
    exp = experiment_file(tmp_path, epochs=1, workers=workers, data="timeout = 2",
                          extra='[data.decoder]\ntype = "troubled"\ntrouble = "hang"\n')
    result = actioncore("run", str(exp), env=troubled_env, check=False)
    assert result.returncode == 2, result.stderr[-2000:]
    message = last_line(result.stderr)
    assert "train.txt:14" in message and "disc/train_0001.mp4" in message
    assert "longer than data.timeout = 2 s" in message and "Traceback" not in result.stderr


class CrashingAt(torch.utils.data.Dataset):
    def __init__(self, index: int):
        self.index = index

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.index:
            os.kill(os.getpid(), signal.SIGSEGV)
        return torch.zeros(2)


def test_a_dead_worker_stops_the_loaders_workers_so_cleanup_cannot_meet_it_again():
    # torch's SIGCHLD handler raises for every registered worker pid that died, at any later
    # child exit; a failed run's cleanup (loggers closing) once got that RuntimeError instead of
    # the explained DataError
    loader = ClipLoader(CrashingAt(5), batch_size=2, num_workers=1, persistent_workers=True)
    try:
        # torch notices the death by SIGCHLD (naming the signal) or by a dead queue, whichever comes first
        with pytest.raises(DataError, match=r"a DataLoader worker died \((is killed by signal: Segmentation fault|"
                                            r"exited unexpectedly)\)"):
            with loader.failures_explained():
                for _ in loader:
                    pass
        assert loader._iterator is None and loader._workers_iterator is None
    finally:
        loader.close()  # never leave a dead pid with torch's handler in the test process
    assert [batch.shape for batch in ClipLoader(CrashingAt(-1), batch_size=4, num_workers=1)] == [(4, 2)] * 2


def test_a_pipe_broken_by_a_dying_worker_is_the_same_error():
    # the worker can die while it sends a batch: the main process then reads a broken pipe
    # (ConnectionResetError) before torch has seen the process end
    loader = ClipLoader(CrashingAt(0), batch_size=1, num_workers=1, persistent_workers=True)
    try:
        loader._workers_iterator = torch.utils.data.DataLoader.__iter__(loader)  # starts the worker
        with pytest.raises(DataError, match=r"a DataLoader worker died \((is killed by signal: Segmentation fault|"
                                            r"exited unexpectedly)\)"):
            with loader.failures_explained():
                raise ConnectionResetError(104, "Connection reset by peer")
        with pytest.raises(ConnectionResetError):  # no dead worker: not ours to explain
            with ClipLoader(CrashingAt(-1), batch_size=1).failures_explained():
                raise ConnectionResetError(104, "Connection reset by peer")
    finally:
        loader.close()


def test_the_death_of_another_loaders_worker_is_left_to_that_loader():
    error = RuntimeError("DataLoader worker (pid 4242) is killed by signal: Segmentation fault. ")
    assert explain(error, None, str, workers={17, 18}) is None
    named = explain(error, None, str, workers={4242})
    assert isinstance(named, DataError) and "an unknown file" in str(named)
    assert explain(RuntimeError("shape mismatch"), None, str) is None
