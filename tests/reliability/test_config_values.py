"""Config values are checked when the experiment is read (``actioncore config`` exits 2 naming
the key), not epochs into a run; malformed structure never ends in a Python traceback."""
from __future__ import annotations

import pytest

from actioncore.config import load_config
from actioncore.errors import ConfigError
from actioncore.plugin.host import PluginHost, use_host


@pytest.mark.parametrize("section, key, value, minimum", [
    ("data", "batch_size", 0, 1), ("data", "workers", -1, 0), ("data", "prefetch_factor", 0, 1),
    ("data", "val_batch_size", 0, 1), ("optim", "accumulate", 0, 1), ("schedule", "epochs", -1, 1),
    ("schedule", "epochs", 0, 1), ("runtime", "seed", -3, 0), ("runtime", "log_interval", 0, 1),
    ("runtime", "checkpoint_interval", 0, 1), ("runtime", "eval_interval", 0, 1),
    ("runtime", "checkpoint_every_iters", -1, 0),
    ("data", "max_consecutive_bad", 0, 1), ("data", "timeout", -1, 0),
])
def test_values_out_of_range_fail_at_load_time_naming_file_and_key(tmp_path, section, key, value, minimum):
    experiment = tmp_path / "exp.toml"
    experiment.write_text(f"[{section}]\n{key} = {value}\n")
    with use_host(PluginHost(autoload=False)), pytest.raises(ConfigError) as info:
        load_config(experiment)
    assert f"exp.toml: {section}.{key}: must be at least {minimum}, got {value}" in str(info.value)
    experiment.write_text(f"[{section}]\n{key} = {minimum}\n")
    with use_host(PluginHost(autoload=False)):
        assert getattr(getattr(load_config(experiment), section), key) == minimum


def test_a_range_error_from_set_names_the_set_argument(tmp_path):
    experiment = tmp_path / "exp.toml"
    experiment.write_text("[runtime]\nseed = 1\n")
    with use_host(PluginHost(autoload=False)), pytest.raises(ConfigError) as info:
        load_config(experiment, ["runtime.checkpoint_interval=0"])
    assert "--set runtime.checkpoint_interval=0: runtime.checkpoint_interval: must be at least 1, got 0" in str(info.value)


@pytest.mark.parametrize("text, complaint", [
    ("a = " + "[" * 3000 + "]" * 3000 + "\n", "exp.toml: arrays or tables are nested too deeply to read"),
    ("[" + ".".join(["t"] * 200) + "]\n", "exp.toml: 't.t.t.t...' is nested more than 64 levels deep"),
])
def test_deeply_nested_values_are_a_config_error(tmp_path, text, complaint):
    experiment = tmp_path / "exp.toml"
    experiment.write_text(text)
    with use_host(PluginHost(autoload=False)), pytest.raises(ConfigError) as info:
        load_config(experiment)
    assert complaint in str(info.value)
    (tmp_path / "ok.toml").write_text("")
    with use_host(PluginHost(autoload=False)), pytest.raises(ConfigError, match="--set a=.*nested more than 64"):
        load_config(tmp_path / "ok.toml", ["a=" + "[" * 70 + "]" * 70])


def test_a_long_include_chain_is_a_config_error(tmp_path):
    for i in range(40):
        (tmp_path / f"c{i}.toml").write_text(f'include = ["c{i + 1}.toml"]\n')
    (tmp_path / "c40.toml").write_text("[runtime]\nseed = 1\n")
    with use_host(PluginHost(autoload=False)), pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c0.toml")
    assert f"{tmp_path / 'c0.toml'}: the include chain is longer than 32 files (it reaches" in str(info.value)
    (tmp_path / "c20.toml").write_text("[runtime]\nseed = 2\n")  # 21 files deep: fine
    with use_host(PluginHost(autoload=False)):
        assert load_config(tmp_path / "c0.toml").runtime.seed == 2


def test_config_checks_component_values_and_run_checks_the_classes_file_first(actioncore, experiment_file, tmp_path):
    exp = experiment_file(tmp_path, epochs=1)
    bad_k = actioncore("config", str(exp), "--set", 'task.metrics=[{type = "top_k_accuracy", topk = [1, 0]}]',
                       check=False)
    assert bad_k.returncode == 2 and "Traceback" not in bad_k.stderr
    assert "task.metrics[0]: building metric 'top_k_accuracy'" in bad_k.stderr
    assert "every k in topk must be an integer >= 1, got 0" in bad_k.stderr
    missing = actioncore("run", str(exp), "--set", f'task.classes="{tmp_path / "nope.txt"}"', check=False)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert f"task.classes {tmp_path / 'nope.txt'}: cannot read class names: No such file or directory" in missing.stderr
    assert not (tmp_path / "wd/checkpoints").exists()  # it stopped before training
