"""Progress bars on a terminal (a pseudo-terminal here), the unchanged log lines elsewhere."""
from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import struct
import sys
import termios
import threading
import time

import pytest

from actioncore.cli import main
from actioncore.progress import ENV_NO_PROGRESS, plain_output, progress_enabled


class Terminal:
    """A pseudo-terminal 120 columns wide whose output is collected by a thread."""

    END = "<end of output>"

    def __init__(self):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
        self.master, self.stream = master, os.fdopen(slave, "w", buffering=1, encoding="utf-8")
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO once the other end is closed
                return
            if not data:
                return
            self.chunks.append(data)

    def close(self) -> str:
        """Everything written so far. Linux may drop unread output once the terminal's other
        end is closed, so a marker is written and waited for before closing."""
        self.stream.write(self.END)
        self.stream.flush()
        deadline = time.monotonic() + 10
        while self.END.encode() not in b"".join(self.chunks)[-64:] and time.monotonic() < deadline:
            time.sleep(0.01)
        self.stream.close()
        self.reader.join(timeout=10)
        os.close(self.master)
        text = b"".join(self.chunks).decode("utf-8", "replace").replace("\r\n", "\n")
        assert text.endswith(self.END), "the terminal's output did not all arrive"
        return text.removesuffix(self.END)


@pytest.fixture
def terminal(monkeypatch):
    """A terminal that ``terminal.attach()`` makes sys.stderr (in the test: pytest's capture
    replaces sys.stderr when the test starts); every bar update is drawn (no 0.1 s rate limit)."""
    term = Terminal()
    term.attach = lambda: monkeypatch.setattr(sys, "stderr", term.stream)
    monkeypatch.setenv("TQDM_MININTERVAL", "0")
    monkeypatch.setenv("TQDM_MINITERS", "1")
    monkeypatch.delenv(ENV_NO_PROGRESS, raising=False)
    yield term
    if not term.stream.closed:
        term.close()


def test_bars_only_on_a_terminal_unless_turned_off(terminal, monkeypatch):
    terminal.attach()
    assert progress_enabled(terminal.stream) and not progress_enabled(io.StringIO())
    with plain_output(True):
        assert not progress_enabled(terminal.stream)
    assert progress_enabled(terminal.stream)
    monkeypatch.setenv(ENV_NO_PROGRESS, "1")
    assert not progress_enabled(terminal.stream)


def test_training_on_a_terminal_draws_bars_with_the_log_lines_intact(capsys, terminal, experiment_file, tmp_path):
    exp = experiment_file(tmp_path, epochs=1)
    terminal.attach()
    assert main(["run", str(exp), "--json"]) == 0
    assert "top1" in json.loads(capsys.readouterr().out)
    screen = terminal.close()
    # the epoch's bar: iterations, loss, lr and clips/s; then the evaluation's, in batches
    # (tqdm may skip a redraw, so not every step is asserted)
    assert re.search(r"\repoch 1/1: +\d+%\|.*\| [1-6]/6 \[", screen)
    assert re.search(r"loss=\d\.\d{4}, lr=0\.0\d*, clips_s=\d+\.\d\]", screen)
    assert re.search(r"\rval: +\d+%\|.*\| [0-3]/3 \[", screen)
    # log lines come out whole, each on a line of its own (tqdm.write clears the bar first)
    lines = [line.rsplit("\r", 1)[-1] for line in screen.split("\n")]
    assert any(re.fullmatch(r"\S+ \S+ INFO epoch 1/1 iter 2/6 loss .* clips/s eta \d+:\d\d:\d\d", line)
               for line in lines)
    assert sum(" INFO val: top1 " in line for line in lines) == 1


def test_no_progress_keeps_plain_lines_on_a_terminal(capsys, terminal, experiment_file, tmp_path):
    exp = experiment_file(tmp_path, epochs=1)
    terminal.attach()
    assert main(["run", str(exp), "--no-progress"]) == 0
    screen = terminal.close()
    assert "%|" not in screen and "\r" not in screen
    assert " INFO epoch 1/1 iter 6/6 loss " in screen and " INFO val: top1 " in screen
    # the run's own log.jsonl plots (loss, lr and the val metrics)
    assert main(["plot", str(tmp_path / "wd"), "--out", str(tmp_path / "curves.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["panels"] == ["loss", "lr", "top1", "top5", "mean_class_accuracy"]


def test_data_check_draws_a_bar_per_split_on_a_terminal(capsys, terminal, experiment_file, tmp_path):
    exp = experiment_file(tmp_path)
    terminal.attach()
    assert main(["data", "check", str(exp)]) == 0
    assert capsys.readouterr().out.splitlines() == ["train: 48 checked, 0 bad", "val: 24 checked, 0 bad"]
    screen = terminal.close()
    assert re.search(r"\rcheck train: +\d+%\|.*\| \d+/48 \[", screen)
    assert re.search(r"\rcheck val: +\d+%\|.*\| \d+/24 \[", screen)
