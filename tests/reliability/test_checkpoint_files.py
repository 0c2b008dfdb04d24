"""Files handed in as checkpoints: each kind of bad file is one line naming it, never a hint to unpickle."""
from __future__ import annotations

import os

import pytest
import torch

from actioncore.cli import main
from actioncore.engine.checkpoint import load_checkpoint
from actioncore.errors import CheckpointError
from actioncore.weights.files import read_weights


class NotData:
    pass


def _good(path):
    torch.save({"w": torch.ones(3)}, path)
    return path


@pytest.mark.parametrize("reader", [load_checkpoint, read_weights])
def test_each_bad_file_gets_its_own_message(tmp_path, reader):
    cases = {
        "random.pth": (os.urandom(4096).replace(b"PK", b"pk").lstrip(b"\x80"), "not a checkpoint: neither a PyTorch zip"),
        "empty.pth": (b"", "not a checkpoint: neither a PyTorch zip archive nor a pickle stream (0 bytes, empty)"),
        "truncated.pth": (_good(tmp_path / "g.pth").read_bytes()[:200], "not a readable checkpoint: a truncated or damaged zip"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError) as info:
            reader(tmp_path / name)
        assert str(info.value).startswith(f"{tmp_path / name}: {message}"), str(info.value)
        assert "weights_only" not in str(info.value)
    torch.save({"w": torch.ones(1), "hook": NotData()}, tmp_path / "objects.pth")
    with pytest.raises(CheckpointError, match=r"objects.pth: refused to load: .*\(the first: [\w.]*NotData\)"):
        reader(tmp_path / "objects.pth")
    assert torch.equal(read_weights(_good(tmp_path / "ok.pth"))["w"], torch.ones(3))


def in_quickstart_folder(folder, monkeypatch):
    """Work in ``folder`` with the quickstart's class list where it expects it (read at start)."""
    monkeypatch.chdir(folder)
    (folder / "data/synth").mkdir(parents=True)
    (folder / "data/synth/classes.txt").write_text("".join(f"class_{i}\n" for i in range(12)))


def test_cli_test_with_random_bytes_exits_2_in_one_line(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    in_quickstart_folder(tmp_path, monkeypatch)
    quickstart = Path(__file__).resolve().parents[2] / "examples" / "quickstart.toml"
    (tmp_path / "noise.pth").write_bytes(b"\x00\x01" * 1000)
    assert main(["test", str(quickstart), "--checkpoint", str(tmp_path / "noise.pth")]) == 2
    err = capsys.readouterr().err.strip()
    assert "noise.pth: not a checkpoint" in err and "Traceback" not in err and "weights_only" not in err
    assert len(err.splitlines()) == 1


def test_a_checkpoint_of_another_shape_is_one_line_for_test_and_infer(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    import actioncore

    in_quickstart_folder(tmp_path, monkeypatch)
    quickstart = Path(__file__).resolve().parents[2] / "examples" / "quickstart.toml"
    state = actioncore.build_model(actioncore.load_config(quickstart)).state_dict()
    state["head.fc_cls.weight"] = torch.zeros(5, state["head.fc_cls.weight"].shape[1])
    torch.save({"state_dict": state}, tmp_path / "five.pth")
    for command in (["test", str(quickstart), "--checkpoint", "five.pth"],
                    ["infer", str(quickstart), "--checkpoint", "five.pth", str(quickstart)]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert ("five.pth: does not fit the experiment's model: 0 missing (e.g. []), 0 unexpected (e.g. []), "
                "1 of another shape ['head.fc_cls.weight: checkpoint [5, 512], model [12, 512]']") in err
