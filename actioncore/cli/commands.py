"""Handlers of the ``actioncore`` subcommands; each returns the exit status."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any



def _print_json(document: Any) -> None:
    if os.environ.get("RANK", "0") != "0":  # under torchrun, one document from rank 0
        return
    json.dump(document, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def plugins(args: argparse.Namespace) -> int:
    from ..plugin.host import current_host

    report = current_host().describe()
    if args.json:
        _print_json(report)
        return 0
    for p in report["plugins"]:
        print(f"{p['distribution']} {p['version']}  [{p['entry_point']}]"
              + ("" if p["status"] == "loaded" else f"  ({p['status']})"))
        for kind, names in p["components"].items():
            print(f"    {kind}: {', '.join(names)}")
    for d in report["disabled"]:
        print(f"{d}  (disabled by ACTIONCORE_DISABLED_PLUGINS)")
    if report["failures"]:
        print(f"\n{len(report['failures'])} plugin failure(s):")
        for f in report["failures"]:
            print(f"  {f['distribution']} {f['version']} [{f['entry_point']}] at {f['stage']}: {f['error']}")
    return 0


def components(args: argparse.Namespace) -> int:
    from ..plugin.host import current_host

    registry = current_host().registry
    table: dict[str, list[dict[str, str]]] = defaultdict(list)
    for c in registry.items(args.kind):
        table[c.kind].append({"name": c.name, "distribution": c.distribution,
                              "version": c.version, "factory": c.qualname})
    if args.json:
        _print_json(dict(table))
        return 0
    for kind, entries in table.items():
        print(f"{kind}:")
        width = max(len(e["name"]) for e in entries)
        for e in entries:
            print(f"  {e['name']:<{width}}  {e['distribution']} {e['version']}")
    return 0


def weights_list(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..weights.catalog import experiment_label, human_size, registered_weights, summary
    from ..weights.zoo import TASKS

    if args.task is not None and args.task not in TASKS:
        raise ConfigError(f"weights list --task: one of {', '.join(TASKS)}, got '{args.task}'")
    rows = [summary(entry, dist) for entry, dist in registered_weights(task=args.task)]
    if args.json:
        _print_json(rows)
        return 0
    header = ("name", "architecture", "dataset", "top1", "size", "cached", "experiment")
    table = [header] + [(r["name"], r["architecture"], r["dataset"],
                         "-" if r["top1"] is None else f"{100 * r['top1']:.2f}", human_size(r["size"]), r["cached"],
                         experiment_label(r))
                        for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print(f"{len(rows)} checkpoint(s)")
    return 0


def weights_show(args: argparse.Namespace) -> int:
    from ..weights.cache import cached_file, converted_file
    from ..weights.catalog import find_weights, is_cached

    entry, distribution = find_weights(args.name)
    document = {**entry.to_dict(), "distribution": distribution, "cached": "yes" if is_cached(entry) else "no",
                "file": str(cached_file(entry)), "converted": str(converted_file(entry))}
    if args.json:
        _print_json(document)
        return 0
    for key, value in document.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, "", []))
        elif isinstance(value, list):
            value = " ".join(map(str, value))
        print(f"{key + ':':<17}{'' if value is None else value}")
    return 0


def weights_download(args: argparse.Namespace) -> int:
    from ..weights.catalog import find_weights
    from ..weights.download import fetch

    entry, _ = find_weights(args.name)
    path = fetch(entry, progress=not (args.quiet or args.json))
    if args.json:
        _print_json({"name": entry.name, "path": str(path), "url": entry.url, "size": path.stat().st_size})
    else:
        print(path)
    return 0


def weights_import(args: argparse.Namespace) -> int:
    from ..weights.cache import converted_file
    from ..weights.importing import import_checkpoint

    entry = import_checkpoint(args.file, name=args.name, experiment=args.config, overrides=args.overrides,
                              classes=args.classes or "", dataset=args.dataset or "", source_format=args.format,
                              replace=args.replace)
    report = {"name": entry.name, "converted": str(converted_file(entry)), "source_format": entry.source_format,
              "experiment": entry.experiment, "sha256": entry.sha256, "parameters": entry.num_params}
    if args.json:
        _print_json(report)
    else:
        print(f"imported {args.file} ({entry.source_format}) as weights '{entry.name}': {report['converted']}")
    return 0


def config(args: argparse.Namespace) -> int:
    from ..config import dump_experiment, experiment_to_dict, load_config

    experiment = load_config(args.experiment, args.overrides)
    if experiment.task is not None:
        # values only a component can judge (metric top-k, a task's thresholds) fail here, not at run time
        from ..config.build import instantiate
        from ..plugin.host import current_host

        instantiate(experiment.task, current_host().registry, "task")
    if args.json:
        _print_json(experiment_to_dict(experiment))
    else:
        sys.stdout.write(dump_experiment(experiment))
    return 0


def _load(args: argparse.Namespace):
    from ..config import load_config

    overrides = list(args.overrides)
    if getattr(args, "work_dir", None):
        overrides.append(f"runtime.work_dir={json.dumps(args.work_dir)}")
    return load_config(args.experiment, overrides)


def run(args: argparse.Namespace) -> int:
    from .. import api

    if args.allow_changes and not args.resume:
        from ..errors import ConfigError

        raise ConfigError("--allow-changes only applies to --resume")
    metrics = api.run(_load(args), resume=args.resume, allow_changes=args.allow_changes)
    if args.json:
        _print_json(metrics)
    return 0


def test(args: argparse.Namespace) -> int:
    from .. import api

    experiment = _load(args)
    metrics = api.evaluate(experiment, args.checkpoint, out=args.out, weights=args.weights)
    if args.json:
        _print_json(metrics)
    elif not metrics:  # a stage whose test pass only writes outputs for the next one (BSN's TEM)
        print(f"no metrics: the {experiment.task.type} task scores nothing for this model; its test pass wrote its outputs only")
    else:
        for name, value in metrics.items():
            if isinstance(value, list):
                print(f"{name}:", *(f"  {item}" for item in value), sep="\n")
            else:
                print(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}")
    return 0


def infer(args: argparse.Namespace) -> int:
    from .. import api

    inputs = list(args.inputs)
    experiment = None
    if args.checkpoint is not None or inputs[0].endswith(".toml"):
        args.experiment = inputs.pop(0)
        experiment = _load(args)
    elif args.overrides:  # the weights' own experiment, changed
        from ..weights.catalog import find_weights
        from ..weights.resolve import entry_experiment

        experiment = entry_experiment(find_weights(args.weights)[0], overrides=args.overrides)
    if not inputs:
        from ..errors import ConfigError

        raise ConfigError("infer: no INPUT given (video files or frame folders)")
    results = api.infer(experiment, args.checkpoint, inputs, topk=args.topk, weights=args.weights, clips=args.clips)
    if args.json:
        _print_json(results)
        return 0
    for result in results:
        seen = [f"{result['clips']} clip(s)" if result.get("clips") else "", result.get("device", "")]
        print(result["input"] + (f"  ({', '.join(s for s in seen if s)})" if any(seen) else ""))
        for p in result["predictions"]:
            print(f"  {p['score']:.3f}  {p['label']}  {p.get('name', '')}")
    return 0


def data_synth(args: argparse.Namespace) -> int:
    from ..builtin.synth import synthesize
    from ..errors import DataError

    if args.list:
        return _list_synth(args)
    if not args.kind or not args.out:
        raise DataError("data synth needs a KIND and --out DIR, e.g. 'actioncore data synth recognition "
                        "--out data/synth'; 'actioncore data synth --list' shows the kinds on offer")
    options = {"size": args.size} if args.size else {}
    report = synthesize(args.kind, Path(args.out), seed=args.seed, **options)
    if args.json:
        _print_json(report.as_dict())
        return 0
    total = sum(report.num_samples.values())
    print(f"wrote the {report.kind} data set to {report.root}: {len(report.classes)} classes, "
          f"{total} samples ({', '.join(f'{k} {v}' for k, v in report.num_samples.items())})")
    for split, path in report.ann_files.items():
        print(f"  {split}: {path}")
    return 0


def _list_synth(args: argparse.Namespace) -> int:
    from ..builtin.synth import list_kinds

    kinds = list_kinds()
    if args.json:
        _print_json(kinds)
        return 0
    for name, kind in kinds.items():
        options = ", ".join(f"{o}: {spec['type']} = {spec['default']!r}" for o, spec in kind["options"].items())
        print(f"{name}  ({kind['distribution']} {kind['version']})")
        if kind["description"]:
            print(f"    {kind['description']}")
        print(f"    options: {options or 'none'}")
    return 0


def data_convert(args: argparse.Namespace) -> int:
    from ..plugin.host import current_host

    converter = current_host().registry.get("converter", args.format).factory
    report = converter(Path(args.source), Path(args.target), trust_pickle=args.trust_pickle)
    if args.json:
        _print_json(report)
    else:
        print(f"converted {args.source} -> {args.target} ({args.format})")
        for key, value in dict(report).items():
            print(f"  {key}: {value}")
    return 0


def data_split(args: argparse.Namespace) -> int:
    from ..data.label_split import split_list

    result = split_list(args.list, args.out, ratio=args.labeled, seed=args.seed, unlabeled=args.unlabeled,
                        format=args.format, with_offset=args.with_offset, group=args.group)
    if args.json:
        _print_json(result.as_dict())
        return 0
    print(f"{args.list} ({result.format} list, {len(result.per_class)} classes): "
          f"{result.labeled} labeled -> {result.labeled_file}, "
          f"{result.unlabeled} unlabeled ({args.unlabeled}) -> {result.unlabeled_file}")
    return 0


def data_image_scores(args: argparse.Namespace) -> int:
    from ..data.image_scoring import ScoreOptions, load_classifier, score_videos
    from ..data.list_lines import read_list
    from ..engine.distributed import resolve_device

    device = resolve_device(args.device)
    annotations = read_list(args.list, format=args.format)
    classifier = load_classifier(args.model, args.weights, size=args.size, classes=args.classes, device=device)
    options = ScoreOptions(every=args.every, batch_size=args.batch_size, workers=args.workers,
                           filename_tmpl=args.filename_tmpl, start_index=args.start_index)
    report = score_videos(annotations, args.out, classifier, root=args.root, options=options, device=device)
    if args.json:
        _print_json(report)
    else:
        print(f"wrote {report['target']}: {report['videos']} videos, {report['frames']} frames, "
              f"{report['classes']} classes{'' if report['class_names'] else ' (no class names)'}")
    return 0


def data_check(args: argparse.Namespace) -> int:
    from ..data.check import check_splits
    from ..plugin.host import current_host

    experiment = _load(args)
    results = check_splits(experiment, current_host().registry)
    bad = sum(len(r.bad) for r in results)
    if args.json:
        _print_json({"splits": {r.split: {"checked": r.checked, "bad": [
            {"where": b.where, "source": b.source, "reason": b.reason} for b in r.bad]} for r in results},
            "bad": bad})
    else:
        for r in results:
            print(f"{r.split}: {r.checked} checked, {len(r.bad)} bad")
            for b in r.bad:
                print(f"  {b.where}: {b.reason}")
    return 1 if bad else 0


def bench_data(args: argparse.Namespace) -> int:
    from ..data.bench import bench_split, dataset_loader, workers_sweep
    from ..data.splits import build_split
    from ..errors import ConfigError
    from ..plugin.host import current_host

    experiment = _load(args)
    registry = current_host().registry
    dataset = build_split(experiment, args.split, registry)
    batch_size = experiment.data.batch_size
    if args.workers_sweep is not None:
        counts = args.workers_sweep or list(range((os.cpu_count() or 1) + 1))
        if any(n < 0 for n in counts):
            raise ConfigError(f"--workers-sweep: worker counts must be 0 or more, got {counts}")
        loader, step, timed = dataset_loader(dataset, batch_size=batch_size), None, f"{args.split} pipeline"
        if args.with_model:
            step, own_loader = _training_step(experiment, registry)
            if own_loader is not None:  # the step needs the task's batches (labeled + unlabeled, ...)
                if args.split != "train":
                    raise ConfigError(f"--with-model: task '{experiment.task.type}' trains on its own batches, "
                                      f"not on data.{args.split}'s; leave out --split")
                loader, timed = own_loader, f"{experiment.task.type} training batches"
        rows = workers_sweep(loader, workers=counts, clips=args.clips, step=step)
        if args.json:
            _print_json({"split": args.split, "timed": timed, "batch_size": batch_size, "sweep": rows})
            return 0
        for row in rows:
            model = (f", {row['with_model_step_clips_per_s']:.1f} with the model's training step"
                     if "with_model_step_clips_per_s" in row else "")
            print(f"{timed}, {row['workers']} worker(s): {row['clips_per_s']:.1f} clips/s{model}")
        return 0
    result = bench_split(dataset, workers=experiment.data.workers, batch_size=batch_size, clips=args.clips)
    if args.json:
        _print_json(result)
    else:
        print(f"{args.split} pipeline: {result['single_process_clips_per_s']:.1f} clips/s in one process, "
              f"{result['clips_per_s']:.1f} clips/s with {result['workers']} workers")
    return 0


def _training_step(experiment, registry):
    """The experiment's training step (forward, loss, backward, SGD step) on a batch, on the CPU,
    and, where the task makes its training batches itself, a loader of those with N workers."""
    import itertools

    import torch

    from ..engine.loaders import own_train_loader

    adapter = _adapter(experiment)
    model = adapter.build_model(experiment).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    device = torch.device("cpu")
    iterations = itertools.count()

    def step(batch) -> None:
        adapter.train_step(model, {**batch, "iteration": next(iterations)}, device)["loss"].backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    if own_train_loader(experiment, adapter, registry, workers=0) is None:  # trains on data.train alone
        return step, None
    return step, lambda workers: own_train_loader(experiment, adapter, registry, workers=workers)


def _adapter(experiment):
    from ..api import _task

    task = _task(experiment, "adapter")
    return task.adapter(experiment)


def info(args: argparse.Namespace) -> int:
    from ..engine.profile import model_info
    from ..plugin.host import current_host

    experiment = _load(args)
    if experiment.model is None:  # a model-free step, e.g. BSN's proposal generation
        result = {"parameters": 0, "trainable_parameters": 0, "flops": 0, "macs": 0, "input_shape": [],
                  "split": None, "note": "the experiment has no [model]"}
    else:
        result = model_info(experiment, _adapter(experiment), current_host().registry, split=args.split)
    if args.json:
        _print_json(result)
    else:
        print(f"parameters: {result['parameters']:,} ({result['trainable_parameters']:,} trainable)")
        print(flops_line(result, args.flops))
        print(f"input:      {result['input_shape']} ({result['split']} pipeline on {result['input_from']})"
              if result["split"] else f"note:       {result['note']}")
    return 0


def flops_line(result: dict[str, Any], convention: str) -> str:
    """The line of ``info`` that says which count it is: FLOPs (2 per multiply-add) or
    multiply-adds, which MMAction2 (fvcore/mmengine) prints as "FLOPs"."""
    def amount(n: int) -> str:
        return f"{n / 1e9:.2f} G" if n >= 1e9 else f"{n / 1e6:.2f} M"

    if convention == "macs":
        return (f"MACs:       {amount(result['macs'])} multiply-adds per sample (forward); MMAction2 reports this "
                f"number as \"FLOPs\" (= {amount(result['flops'])} FLOPs at 2 per multiply-add)")
    return (f"FLOPs:      {amount(result['flops'])} per sample (forward, 2 per multiply-add); MMAction2's "
            f"\"FLOPs\" count multiply-adds: {amount(result['macs'])} here (--flops macs)")


def bench_model(args: argparse.Namespace) -> int:
    from ..engine.distributed import resolve_device
    from ..engine.profile import bench_model as bench
    from ..errors import ConfigError
    from ..plugin.host import current_host

    experiment = _load(args)
    if experiment.model is None:
        raise ConfigError("the experiment has no [model] to time (a model-free step, e.g. BSN's proposal generation)")
    result = bench(experiment, _adapter(experiment), current_host().registry,
                   device=resolve_device(experiment.runtime.device), iterations=args.iterations,
                   channels_last=args.channels_last or experiment.runtime.channels_last,
                   compile=args.compile or experiment.runtime.compile)
    if args.json:
        _print_json(result)
    else:
        print(f"train {result['train_clips_per_s']:.2f} clips/s, inference {result['infer_clips_per_s']:.2f} clips/s "
              f"(batch {result['batch_size']}, {result['device']}; input {result['input_shape']} "
              f"from {result['input_from']})")
        if result["train_batch_from"] != result["input_from"]:
            print(f"training step on a batch of {result['train_clips_per_step']} clips from "
                  f"{result['train_batch_from']}")
    return 0


def convert_mmaction2(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..weights.convert import convert_checkpoint

    report = convert_checkpoint(load_config(args.config, args.overrides), args.source, args.target,
                                source_format="mmaction2-1.x", where=args.config)
    if args.json:
        _print_json(report)
    else:
        print(f"wrote {report['checkpoint']}: {report['tensors']} tensors, {report['parameters']:,} parameters")
    return 0


def export(args: argparse.Namespace) -> int:
    from ..deploy.export import export_experiment, parse_shape

    shape = parse_shape(args.input_shape) if args.input_shape else None
    report = export_experiment(_load(args), args.checkpoint, format=args.format, out=args.out,
                               dynamic_batch=args.dynamic_batch, opset=args.opset, input_shape=shape,
                               tolerance=args.tolerance, experiment_file=args.experiment)
    if args.json:
        _print_json(report)
        return 0
    check = report["verification"]
    print(f"wrote {report['path']} ({report['format']}, {report['size_bytes'] / 2**20:.2f} MiB, "
          f"exported in {report['export_seconds']:.1f} s)")
    print(f"  input {report['input']['name']} {report['input']['shape']}"
          + (f"  {report['input']['layout']}" if report['input']['layout'] else ""))
    print(f"  outputs {', '.join(o['name'] + ' ' + str(o['shape']) for o in report['outputs'])}")
    print(f"  checked with {check['runtime']} at batch {', '.join(map(str, check['batch_sizes']))}: "
          f"max abs difference {check['max_abs_diff']:.3g} (tolerance {check['tolerance']:g})")
    print(f"  described in {report['sidecar']}")
    return 0


def publish(args: argparse.Namespace) -> int:
    from ..deploy.publish import publish_checkpoint

    report = publish_checkpoint(args.checkpoint, args.out)
    if args.json:
        _print_json(report)
        return 0
    print(f"wrote {report['path']} ({report['size_bytes'] / 2**20:.2f} MiB; "
          f"{args.checkpoint}: {report['source_size_bytes'] / 2**20:.2f} MiB)")
    print(f"sha256 {report['sha256']}")
    return 0


def plugin_new(args: argparse.Namespace) -> int:
    from ..plugin.scaffold import scaffold

    created = scaffold(args.name, kind=args.kind, parent=Path(args.out))
    if args.json:
        _print_json({"path": str(created.root), "distribution": created.distribution,
                     "package": created.package, "files": [str(f) for f in created.files]})
        return 0
    print(f"created {created.distribution} in {created.root}")
    for f in created.files:
        print(f"  {f}")
    print(f"\nnext: pip install -e {created.root} && pytest {created.root}")
    return 0


def examples(args: argparse.Namespace) -> int:
    from .examples import examples as handler

    return handler(args)


def plot(args: argparse.Namespace) -> int:
    from ..curves import plot_curves

    metrics = [m for item in args.metrics for m in item.split(",") if m] if args.metrics else None
    report = plot_curves(args.work_dir, args.out, metrics=metrics, x=args.x, dpi=args.dpi)
    if args.json:
        _print_json(report)
    else:
        print(f"wrote {report['path']} ({report['size'][0]}x{report['size'][1]} px): "
              f"{', '.join(report['panels'])} by {report['x']}")
    return 0


__all__ = ["examples", "plot", "export", "publish", "weights_download", "weights_import", "weights_list", "weights_show", "convert_mmaction2", "bench_model", "info", "bench_data", "data_check", "data_synth", "components", "config", "infer", "plugin_new", "plugins", "run", "test"]

# actioncore demo / explain: handlers in their own module
from .demo import demo, explain  # noqa: E402

__all__ += ["demo", "explain"]

# actioncore data frames / resize / lists, extract: handlers in their own module
from .dataprep import data_frames, data_lists, data_resize, extract  # noqa: E402

__all__ += ["data_frames", "data_lists", "data_resize", "extract"]

from .dataprep import data_flow  # noqa: E402  (actioncore data flow)

__all__ += ["data_flow"]

# actioncore fuse: late fusion of score files, handler in its own module
from .fuse import fuse  # noqa: E402

__all__ += ["fuse"]

# actioncore data audio-features: handler in its own module
from .audio import data_audio_features  # noqa: E402

__all__ += ["data_audio_features"]
