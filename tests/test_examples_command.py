"""``actioncore examples``: every installed plugin's shipped experiments, listed and copied out."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

from actioncore.cli import main

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(REPO.glob("plugins/*/*/actioncore_*/examples/*.toml"))


def _listing(capsys, *args: str) -> list[dict]:
    assert main(["examples", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_lists_every_example_the_installed_plugins_ship(capsys):
    listed = _listing(capsys)
    assert sorted(Path(e["path"]).resolve() for e in listed) == [p.resolve() for p in SHIPPED]
    by_name = {e["name"]: e for e in listed}
    assert len(by_name) == len(listed)  # names are unique, so a flat copy never clashes
    quick = by_name["quickstart_slowfast"]
    assert (quick["distribution"], quick["task"], quick["model"]) == ("actioncore-slowfast", "recognition",
                                                                      "resnet3d_slowfast")
    assert quick["requires"] == ["actioncore-slowfast", "actioncore-cls-heads", "actioncore-lists",
                                 "actioncore-recognition"]
    # a model-free step, and a file whose task and model come from the file it includes
    assert (by_name["bsn_pgm_tiny_synth"]["task"], by_name["bsn_pgm_tiny_synth"]["model"]) == ("bsn_pgm", None)
    nl = by_name["i3d_nl_gaussian_r50_32x2x1_100e_kinetics400_rgb"]
    assert (nl["distribution"], nl["task"], nl["model"]) == ("actioncore-resnet3d", "recognition", "resnet3d")


def test_the_table_names_distribution_task_and_model(capsys):
    assert main(["examples", "tiny_stgcn"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "distribution", "task", "model"]
    assert lines[1].split() == ["tiny_stgcn", "actioncore-stgcn", "skeleton", "stgcn"]
    assert lines[-1].startswith("1 example(s); copy them with: actioncore examples --copy DIR")


def test_copies_by_glob_with_the_files_they_include(tmp_path, capsys):
    target = tmp_path / "configs"
    listed = _listing(capsys, "--copy", str(target), "i3d_nl_*", "quickstart_slowfast")
    assert sorted(e["name"] for e in listed) == ["i3d_nl_dot_product_r50_32x2x1_100e_kinetics400_rgb",
                                                 "i3d_nl_embedded_gaussian_r50_32x2x1_100e_kinetics400_rgb",
                                                 "i3d_nl_gaussian_r50_32x2x1_100e_kinetics400_rgb",
                                                 "quickstart_slowfast"]
    base = "i3d_r50_32x2x1_100e_kinetics400_rgb.toml"
    assert sorted(p.name for p in target.iterdir()) == sorted([base, "quickstart_slowfast.toml",
                                                               *(e["name"] + ".toml" for e in listed[:3])])
    for entry in listed:
        assert Path(entry["copied"][0]).read_bytes() == Path(entry["path"]).read_bytes()
        assert [Path(p).name for p in entry["copied"][1:]] == ([base] if entry["name"].startswith("i3d") else [])
    # the copy resolves on its own: the include is found beside it
    assert main(["config", str(target / "i3d_nl_gaussian_r50_32x2x1_100e_kinetics400_rgb.toml")]) == 0
    resolved = tomllib.loads(capsys.readouterr().out)
    assert resolved["model"]["backbone"]["non_local_cfg"]["mode"] == "gaussian"


def test_copy_keeps_a_changed_file_unless_forced(tmp_path, capsys):
    target = tmp_path / "configs"
    assert main(["examples", "--copy", str(target), "tiny_stgcn"]) == 0
    copy = target / "tiny_stgcn.toml"
    copy.write_text(copy.read_text() + "\n# my edit\n")
    capsys.readouterr()
    assert main(["examples", "--copy", str(target), "tiny_stgcn"]) == 2
    assert f"--copy: {copy} exists and differs from actioncore-stgcn's tiny_stgcn.toml; pass --force" \
        in capsys.readouterr().err
    assert copy.read_text().endswith("# my edit\n")
    assert main(["examples", "--copy", str(target), "--force", "tiny_stgcn"]) == 0
    assert "# my edit" not in copy.read_text()


def test_an_unknown_name_suggests_close_ones(capsys):
    assert main(["examples", "quickstart_slowfst"]) == 2
    assert "no installed example matches 'quickstart_slowfst'; did you mean quickstart_slowfast" \
        in capsys.readouterr().err


def test_a_broken_example_is_listed_with_its_error_and_name_clashes_are_refused(site_dir, tmp_path, capsys):
    site_dir.add("acme-examples", {"acme_examples.__init__": "", "acme_examples.hooks": ""},
                 {"acme": "acme_examples.hooks"})
    folder = site_dir.root / "acme_examples/examples"
    folder.mkdir()
    (folder / "broken.toml").write_text("[task\n")
    (folder / "tiny_stgcn.toml").write_text('[task]\ntype = "skeleton"\n')
    listed = {(e["distribution"], e["name"]): e for e in _listing(capsys, "broken", "tiny_stgcn")}
    broken = listed["acme-examples", "broken"]
    assert broken["task"] is None and "broken.toml: not valid TOML" in broken["error"]
    assert {d for d, n in listed if n == "tiny_stgcn"} == {"acme-examples", "actioncore-stgcn"}
    assert main(["examples", "--copy", str(tmp_path / "out"), "tiny_stgcn"]) == 2
    assert "--copy: acme-examples and actioncore-stgcn both ship 'tiny_stgcn.toml'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
