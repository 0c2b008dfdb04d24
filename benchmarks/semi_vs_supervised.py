"""Semi-supervised training against training on the labeled clips alone, same model and schedule.

For a ``semi_recognition`` experiment EXP, trains over each seed (default 0 and 1):

(a) **supervised**: the ``recognition`` task on ``[data.train]`` (the labeled clips) only, no
    ``[data.unlabeled]``; its epochs are scaled so that it takes the same number of optimizer
    steps, through the same learning-rate schedule, as (b) (an epoch of (b) is a pass over the
    unlabeled list, the labeled loader restarting);
(b) **semi**: EXP as it is (FixMatch or UDA with EXP's strong pipeline),

and prints a table of the test top-1 of each (the best-by-validation checkpoint, as
``actioncore run`` reports it), the margin (b) - (a), the wall time of each training and, for
(b), the last epoch's mean ``mask_ratio`` (unlabeled clips above the threshold) and
``pseudo_label_accuracy`` from its ``log.jsonl``, then the means over seeds; ``--json`` prints
all of it as JSON. Runs are ``actioncore run`` processes in the current directory (EXP's
relative data paths resolve there), one at a time, each in ``--out/<a|b>_seed<k>``.

    python benchmarks/semi_vs_supervised.py examples/quickstart_semi.toml [--seeds 0 1] [--set KEY=VALUE ...]

The measured numbers of ``examples/quickstart_semi.toml`` are in ``semi_vs_supervised.md``.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomli_w

from actioncore import load_config
from actioncore.config.loading import apply_override, read_experiment


def count_lines(path: str) -> int:
    return sum(1 for line in Path(path).read_text().splitlines() if line.strip() and not line.startswith("#"))


def variants(exp_path: Path, overrides: list[str]) -> tuple[dict, dict]:
    """The (a) supervised and (b) semi-supervised experiment tables."""
    table, origins = read_experiment(exp_path)
    for override in overrides:
        apply_override(table, origins, override)
    semi = json.loads(json.dumps(table))
    experiment = load_config(exp_path, overrides)
    if experiment.task is None or experiment.task.type != "semi_recognition" or experiment.data.unlabeled is None:
        raise SystemExit(f"{exp_path}: expected a semi_recognition experiment with [data.unlabeled]")
    batch = experiment.data.batch_size
    ratio = experiment.task.params.get("unlabeled_ratio", 1)
    semi_steps = math.ceil(count_lines(experiment.data.unlabeled.params["ann_file"]) / (batch * ratio))
    labeled_steps = math.ceil(count_lines(experiment.data.train.params["ann_file"]) / batch)
    scale = max(1, round(semi_steps / labeled_steps))
    supervised = json.loads(json.dumps(table))
    supervised["task"] = {"type": "recognition", **{k: v for k, v in table["task"].items() if k in ("classes", "metrics")}}
    supervised["data"].pop("unlabeled")
    supervised.setdefault("plugins", {})["require"] = [
        r for r in table.get("plugins", {}).get("require", []) if not r.startswith("actioncore-semi")]
    schedule = supervised.setdefault("schedule", {})
    epochs = table.get("schedule", {}).get("epochs", 1)
    schedule["epochs"] = epochs * scale
    for key in ("milestones",):
        if key in schedule:
            schedule[key] = [m * scale for m in schedule[key]]
    for key in ("step", "warmup_epochs"):
        if key in schedule:
            schedule[key] = schedule[key] * scale
    runtime = supervised.setdefault("runtime", {})
    runtime["eval_interval"] = table.get("runtime", {}).get("eval_interval", 1) * scale
    runtime["checkpoint_interval"] = table.get("runtime", {}).get("checkpoint_interval", 1) * scale
    return supervised, semi


LOGGED = ("mask_ratio", "pseudo_label_accuracy")
"""Per-iteration values of the semi task averaged over the last epoch (absent for (a))."""


def last_epoch_means(log: Path) -> dict[str, float]:
    """Mean of each of :data:`LOGGED` over the ``train`` records of the last epoch in ``log``."""
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    train = [r for r in records if r.get("event") == "train"]
    if not train:
        return {}
    last = [r for r in train if r.get("epoch") == train[-1].get("epoch")]
    return {key: statistics.mean(r[key] for r in last) for key in LOGGED if all(key in r for r in last)}


def train(table: dict, work_dir: Path, seed: int) -> dict:
    """One ``actioncore run`` of ``table`` with ``seed`` in ``work_dir``: its JSON result,
    ``seconds`` (wall time) and :func:`last_epoch_means`."""
    table = json.loads(json.dumps(table))
    table.setdefault("runtime", {}).update(seed=seed, work_dir=str(work_dir))
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / "experiment_in.toml"
    path.write_text(tomli_w.dumps(table))
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "actioncore", "run", str(path), "--json"],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"training {path} failed:\n{result.stderr[-3000:]}")
    return {**json.loads(result.stdout), "seconds": round(seconds, 1),
            **last_epoch_means(work_dir / "log.jsonl")}


def table_rows(results: dict[str, dict[int, dict]], seeds: list[int]) -> list[str]:
    """The printed table: one row per seed and the mean."""
    def cells(a: dict, b: dict) -> str:
        extra = "  ".join(f"{b[k]:>6.3f}" if k in b else f"{'-':>6}" for k in LOGGED)
        return (f"{a['top1']:>8.4f} {b['top1']:>8.4f} {b['top1'] - a['top1']:>+8.4f} "
                f"{a['seconds']:>7.0f} {b['seconds']:>7.0f}  {extra}")

    rows = [f"{'seed':>5} {'(a) sup':>8} {'(b) semi':>8} {'b - a':>8} {'s (a)':>7} {'s (b)':>7}  "
            f"{'mask':>6}  {'pl_acc':>6}"]
    rows += [f"{seed:>5} " + cells(results["supervised"][seed], results["semi"][seed]) for seed in seeds]
    mean = {name: {key: statistics.mean(r[key] for r in runs.values()) for key in ("top1", "seconds", *LOGGED)
                   if all(key in r for r in runs.values())} for name, runs in results.items()}
    rows.append(f"{'mean':>5} " + cells(mean["supervised"], mean["semi"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=None, help="work dirs (default: a temporary folder)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="semi_vs_supervised_"))
    supervised, semi = variants(args.experiment, args.overrides)
    results: dict[str, dict[int, dict]] = {"supervised": {}, "semi": {}}
    for seed in args.seeds:
        results["supervised"][seed] = train(supervised, out / f"a_seed{seed}", seed)
        results["semi"][seed] = train(semi, out / f"b_seed{seed}", seed)
        if not args.json:
            print(f"seed {seed}: test top-1 supervised {results['supervised'][seed]['top1']:.4f}  "
                  f"semi {results['semi'][seed]['top1']:.4f}", file=sys.stderr, flush=True)
    summary = {name: statistics.mean(r["top1"] for r in runs.values()) for name, runs in results.items()}
    if args.json:
        print(json.dumps({"runs": results, "mean_top1": summary,
                          "margin": summary["semi"] - summary["supervised"], "work_dirs": str(out)}, indent=1))
    else:
        print(f"{args.experiment}: test top-1, (a) labeled clips only, (b) semi-supervised (work dirs in {out})")
        print("\n".join(table_rows(results, args.seeds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
