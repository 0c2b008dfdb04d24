"""The command line as a user meets it: exit codes, JSON, messages without tracebacks."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from actioncore.cli import main


def test_help_does_not_import_torch():
    code = "import sys; from actioncore.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plugins_lists_three_failures_and_exits_0(broken_site, cli):
    result = cli("plugins", env=broken_site.env())
    assert result.returncode == 0, result.stderr
    assert "3 plugin failure(s):" in result.stdout
    for text in ("acme-import-error 1.0 [import_error = acme_import_error] at import: ImportError: no module named acme_native",
                 "acme-hook-error 1.0 [hook_error = acme_hook_error] at hook actioncore_backbones: RuntimeError: backbone registry exploded",
                 "acme-duplicate 1.0 [duplicate = acme_duplicate] at conflict: backbone 'toy3d' is registered by both actioncore-toy3d"):
        assert text in result.stdout
    report = json.loads(cli("plugins", "--json", env=broken_site.env()).stdout)
    assert {f["distribution"] for f in report["failures"]} == {"acme-import-error", "acme-hook-error", "acme-duplicate"}


def test_components_json_attributes_names(broken_site, cli):
    result = cli("components", "--json", env=broken_site.env())
    table = json.loads(result.stdout)
    assert {"name": "linear_head", "distribution": "actioncore-toy3d", "version": "0.1.0",
            "factory": "actioncore_toy3d.net.LinearHead"} in table["head"]
    assert "toy3d" not in [c["name"] for c in table["backbone"]]  # claimed twice: unusable
    only = json.loads(cli("components", "head", "--json", env=broken_site.env()).stdout)
    assert list(only) == ["head"]
    bad = cli("components", "heads", env=broken_site.env())
    assert bad.returncode == 2 and "Did you mean 'head'" in bad.stderr and "Traceback" not in bad.stderr


EXPERIMENT = """
    [task]
    type = "echo"
    [model.backbone]
    type = "toy3d"
    [model.head]
    type = "linear_head"
    in_channels = 16
    num_classes = 3
"""


def test_config_prints_toml_that_loads_back_and_json(echo_host, site_dir, tmp_path, cli):
    exp = tmp_path / "exp.toml"
    exp.write_text(textwrap.dedent(EXPERIMENT))
    result = cli("config", str(exp), "--set", "data.batch_size=3", env=site_dir.env())
    assert result.returncode == 0, result.stderr
    resolved = tmp_path / "resolved.toml"
    resolved.write_text(result.stdout)
    again = cli("config", str(resolved), env=site_dir.env())
    assert again.stdout == result.stdout
    document = json.loads(cli("config", str(exp), "--json", env=site_dir.env()).stdout)
    assert document["data"]["batch_size"] == 8 and document["model"]["head"]["num_classes"] == 3


@pytest.mark.parametrize("text, overrides, expected", [
    ("[data]\nbatch_sizee = 2\n", [], "data.batch_sizee: unknown key"),
    ("[data]\nbatch_size = 'x'\n", [], "data.batch_size: expected int, got 'x'"),
    ("[model.backbone]\ntype = 'toy_3d'\n", [], "Did you mean 'toy3d'"),  # or 'tv_s3d' (actioncore-torchvision-video)
    ("[model.head]\ntype = 'linear_head'\nnum_classes = 2\n", [], "model.head.in_channels: missing required key"),
    ('include = ["exp.toml"]\n', [], "include cycle"),
    ("", ["--set", "data.batch_size"], "expected KEY=VALUE"),
    ("[data\n", [], "not valid TOML"),
])
def test_config_mistakes_exit_2_with_file_and_key(echo_host, tmp_path, capsys, text, overrides, expected):
    exp = tmp_path / "exp.toml"
    exp.write_text(text + "\n[task]\ntype = 'echo'\n")
    assert main(["config", str(exp), *overrides]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert err.startswith("actioncore config: error: ")
    assert "exp.toml" in err or "--set" in err


def test_debug_shows_the_traceback(echo_host, site_dir, tmp_path, cli):
    exp = tmp_path / "exp.toml"
    exp.write_text("[task]\ntype = 'echo'\n[data]\nbatch_sizee = 2\n")
    plain = cli("config", str(exp), env=site_dir.env())
    assert plain.returncode == 2 and "Traceback" not in plain.stderr and "batch_sizee" in plain.stderr
    debug = cli("--debug", "config", str(exp), env=site_dir.env())
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_run_writes_a_log_that_starts_with_the_plugins(echo_host, site_dir, tmp_path, cli):
    exp = tmp_path / "exp.toml"
    exp.write_text(textwrap.dedent(EXPERIMENT) + '[runtime]\nwork_dir = "wd"\n')
    result = cli("run", str(exp), "--set", "task.greeting=hi", "--json", env=site_dir.env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"top1": 1.0}
    assert json.loads((tmp_path / "wd/echo.json").read_text()) == {"greeting": "hi", "resume": False}
    first = (tmp_path / "wd/run.log").read_text().splitlines()[0]
    assert "plugins loaded: actioncore 0.1.0, " in first
    assert "actioncore-toy3d 0.1.0" in first and "acme-task 1.0" in first


def test_run_without_a_task_plugin_says_so(tmp_path, cli, site_dir):
    exp = tmp_path / "exp.toml"
    exp.write_text("[task]\ntype = 'recognition'\n")
    result = cli("run", str(exp), env=site_dir.env(ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD="1"))
    assert result.returncode == 2
    assert "task.type: unknown task 'recognition'. Available tasks: none." in result.stderr
    assert "provided by actioncore-recognition, which is installed but not loaded (is ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD=1" in result.stderr


def test_python_m_actioncore_and_help(cli):
    result = cli("--help")
    assert result.returncode == 0 and "plugins" in result.stdout and "components" in result.stdout
