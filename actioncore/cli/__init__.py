"""The ``actioncore`` command. Parsing stays import-light: handlers load what they need."""
from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from ..errors import ActionCoreError, StorageError
from ..progress import plain_output

EXIT_USER_ERROR = 2
EXIT_SYSTEM_ERROR = 1
"""The machine refused (a full disk, an unwritable work dir): not a mistake in the command."""

_COMMANDS = "actioncore.cli.commands"


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, TOML-typed: --set data.batch_size=4 (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actioncore",
        description="Video understanding with plugins: train, evaluate and ship action models.",
        epilog="Run 'actioncore COMMAND --help' for a command's options.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("plugins", help="installed plugin distributions, what they register, failures")
    _add_json(p)
    p.set_defaults(handler="plugins")

    p = sub.add_parser("components", help="registered names per kind with their distribution")
    p.add_argument("kind", nargs="?", help="only this kind (backbone, head, dataset, ...)")
    _add_json(p)
    p.set_defaults(handler="components")

    p = sub.add_parser("config", help="print the fully resolved experiment as TOML")
    p.add_argument("experiment", help="experiment TOML file")
    _add_overrides(p)
    _add_json(p)
    p.set_defaults(handler="config")

    p = sub.add_parser("run", help="train, validate on schedule, test at the end")
    p.add_argument("experiment")
    _add_overrides(p)
    p.add_argument("--work-dir", help="overrides runtime.work_dir")
    p.add_argument("--resume", action="store_true", help="continue from the work dir's latest checkpoint")
    p.add_argument("--allow-changes", action="store_true",
                   help="with --resume: continue under an experiment that differs from the checkpoint's "
                        "(the changed keys are logged; optimizer settings and the schedule take the new values)")
    _add_json(p)
    p.set_defaults(handler="run")

    p = sub.add_parser("test", help="evaluate a checkpoint; metrics as a flat name -> number map")
    p.add_argument("experiment")
    _add_weights(p)
    p.add_argument("--out", help="write per-sample predictions to this JSON file")
    _add_overrides(p)
    _add_json(p)
    p.set_defaults(handler="test")

    p = sub.add_parser("infer", help="top-k predictions with class names for videos or frame folders",
                       usage="actioncore infer [EXPERIMENT.toml] (--checkpoint C | --weights NAME) INPUT...",
                       description="With --checkpoint the experiment comes first; with --weights it may be "
                                   "left out (the weights' own experiment and class list are used): a first "
                                   "argument ending in .toml is the experiment, the rest are inputs.")
    _add_weights(p)
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.set_defaults(more_inputs=True)
    p.add_argument("--topk", type=int, default=5)
    p.add_argument("--clips", type=int, metavar="N", help="clips scored per video and averaged: sets the test "
                   "pipeline's num_clips (default: the pipeline's own; 2D segment models: the segments)")
    _add_overrides(p)
    _add_json(p)
    p.set_defaults(handler="infer")

    p = sub.add_parser("info", help="model parameters, FLOPs and input shape")
    p.add_argument("experiment")
    _add_overrides(p)
    p.add_argument("--split", default="train", help="whose pipeline gives the input shape (default train)")
    p.add_argument("--flops", choices=("flops", "macs"), default="flops",
                   help="count per forward: flops (2 per multiply-add, default) or macs (multiply-adds, what "
                        "MMAction2's get_flops and model zoo call \"FLOPs\")")
    _add_json(p)
    p.set_defaults(handler="info")

    data = sub.add_parser("data", help="embedded data sets, checks, label splits, image scores, conversions")
    data_sub = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    p = data_sub.add_parser("synth", help="generate an embedded data set")
    p.add_argument("kind", nargs="?", help="a data set the installed plugins offer (--list): recognition, "
                   "rawframes, skeleton, localization, detection, ...")
    p.add_argument("--out", help="folder to write (new, empty, or an earlier synthetic set); required with KIND")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", default=None, help="tiny (tests), default, or large (recognition: 5x the training clips)")
    p.add_argument("--list", action="store_true", help="list the data sets on offer, their plugins and options")
    _add_json(p)
    p.set_defaults(handler="data_synth")
    p = data_sub.add_parser("check", help="verify every annotated file exists and decodes")
    p.add_argument("experiment")
    _add_overrides(p)
    _add_json(p)
    p.set_defaults(handler="data_check")
    p = data_sub.add_parser("split", help="a labeled fraction of a list, per class (labeled.txt, unlabeled.txt)")
    p.add_argument("list", metavar="LIST", help="an MMAction2 video list (path LABEL) or raw-frame list "
                   "(dir TOTAL_FRAMES LABEL)")
    p.add_argument("--labeled", type=float, required=True, metavar="R",
                   help="fraction in (0, 1]: per class max(round(n * R), 1) lines are drawn as labeled")
    p.add_argument("--seed", type=int, default=3, help="seed of the draw (default 3, video-data-aug's)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for labeled.txt and unlabeled.txt")
    p.add_argument("--unlabeled", choices=("rest", "all"), default="rest",
                   help="unlabeled.txt holds the lines not drawn (rest, default) or the whole list (all, "
                        "as video-data-aug's configs used it); labels are kept either way")
    p.add_argument("--group", metavar="REGEX", help="draw whole groups: lines whose paths give the same match "
                   "(its first parenthesised group, if any) are labeled together, so that no scene or actor is "
                   "labeled with one class only; e.g. '_g(\\d+)_' for UCF-101, 'train_\\d+' for the "
                   "embedded set's scene keys")
    _add_list_format(p)
    _add_json(p)
    p.set_defaults(handler="data_split")
    p = data_sub.add_parser("image-scores", help="per-frame class probabilities of a torchvision image "
                            "classifier for every video of a list (distillation targets, .npz)")
    p.add_argument("list", metavar="LIST", help="an MMAction2 video list or raw-frame list")
    p.add_argument("--root", default="", help="folder the list's paths are relative to")
    p.add_argument("--model", required=True, help="a torchvision classification model name, e.g. resnet18")
    p.add_argument("--weights", required=True, metavar="FILE",
                   help="its weights: a local torchvision state dict .pth (never downloaded)")
    p.add_argument("--out", required=True, metavar="SCORES.npz")
    p.add_argument("--every", type=int, default=1, metavar="K", help="score frames 0, K, 2K, ... (default 1)")
    p.add_argument("--size", type=int, default=None,
                   help="center-crop size (default: the model's own ImageNet transforms, 224 for resnet18); "
                        "the resize before it scales along")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--classes", metavar="FILE|imagenet",
                   help="class names, one per line, or 'imagenet' for torchvision's names of the model's "
                        "ImageNet weights (default: those stored in the weights file, if any)")
    p.add_argument("--device", default="auto", help="auto (a GPU if there is one), cpu or cuda[:N]")
    p.add_argument("--workers", type=int, default=0, help="processes that decode videos (default 0: this one)")
    p.add_argument("--filename-tmpl", default="img_{:05d}.jpg", help="frame file names of raw-frame folders")
    p.add_argument("--start-index", type=int, default=1, help="number of a raw-frame folder's first file")
    _add_list_format(p, offsets=False)
    _add_json(p)
    p.set_defaults(handler="data_image_scores")
    p = data_sub.add_parser("convert", help="import another toolbox's annotation file into a safe format")
    p.add_argument("format", metavar="NAME", help="a registered converter (actioncore components converter)")
    _add_convert_arguments(p)
    p = data_sub.add_parser("convert-pose", help="MMAction2 pose pickle -> safe pose records (convert pose)")
    _add_convert_arguments(p)
    p.set_defaults(format="pose")

    from .dataprep import add_parsers as add_dataprep_parsers  # data frames / resize / lists, extract

    add_dataprep_parsers(sub, data_sub)
    from .audio import add_parsers as add_audio_parsers  # data audio-features

    add_audio_parsers(data_sub)

    from .fuse import add_parser as add_fuse_parser  # fuse: late fusion of score files

    add_fuse_parser(sub)

    bench = sub.add_parser("bench", help="throughput in clips/s")
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="COMMAND", required=True)
    p = bench_sub.add_parser("data", help="clips/s of the train pipeline, one process and N workers")
    p.add_argument("experiment")
    _add_overrides(p)
    p.add_argument("--clips", type=int, default=64, help="clips to time after warm-up (default 64)")
    p.add_argument("--split", default="train")
    p.add_argument("--workers-sweep", nargs="*", type=int, metavar="N", default=None,
                   help="clips/s with each of these worker counts (no value: 0 to the number of cores)")
    p.add_argument("--with-model", action="store_true",
                   help="with --workers-sweep: also with the model's training step consuming each batch")
    _add_json(p)
    p.set_defaults(handler="bench_data")
    p = bench_sub.add_parser("model", help="training and inference clips/s of the model")
    p.add_argument("experiment")
    _add_overrides(p)
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--channels-last", action="store_true",
                   help="convolution weights in channels-last layout (default: runtime.channels_last)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model first; inference with the "
                   "weights frozen in, as `actioncore test` runs it (default: runtime.compile)")
    _add_json(p)
    p.set_defaults(handler="bench_model")

    convert = sub.add_parser("convert", help="other toolboxes' checkpoints to ours")
    convert_sub = convert.add_subparsers(dest="convert_command", metavar="SOURCE", required=True)
    p = convert_sub.add_parser("mmaction2", help="an MMAction2 checkpoint (1.x, or 0.x as 0.24 wrote them) to an actioncore checkpoint")
    p.add_argument("source", metavar="IN.pth")
    p.add_argument("target", metavar="OUT")
    p.add_argument("--config", required=True, help="the experiment whose model the weights are for")
    _add_overrides(p)
    _add_json(p)
    p.set_defaults(handler="convert_mmaction2")

    p = sub.add_parser("export", help="a trained model as an ONNX or TorchScript file, checked against the eager "
                       "model, with a JSON sidecar (input shape, mean/std, classes)")
    p.add_argument("experiment")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--format", required=True, help="onnx (torch's dynamo exporter, checked with onnxruntime; "
                   "needs actioncore[export]) or torchscript (torch.jit.trace)")
    p.add_argument("--out", required=True, metavar="FILE", help="the model file; FILE.json describes it")
    p.add_argument("--dynamic-batch", action="store_true",
                   help="any batch size (checked at batch 1 and 3); default: the batch of the input shape")
    p.add_argument("--opset", type=int, help="ONNX opset version (default: the exporter's)")
    p.add_argument("--input-shape", metavar="N,...",
                   help="the input shape, batch first, e.g. 1,8,3,224,224 (default: the test pipeline's, batch 1)")
    p.add_argument("--tolerance", type=float, default=1e-4,
                   help="largest absolute difference from the eager model's outputs allowed (default 1e-4)")
    _add_overrides(p)
    _add_json(p)
    p.set_defaults(handler="export")

    p = sub.add_parser("publish", help="a weights-only copy of a checkpoint, named OUT-<sha256 prefix>.pth")
    p.add_argument("checkpoint", metavar="C")
    p.add_argument("out", metavar="OUT", help="file name to write; '-<first 8 hex digits of its sha256>.pth' is appended")
    _add_json(p)
    p.set_defaults(handler="publish")

    _add_demo_parsers(sub)

    weights = sub.add_parser("weights", help="the model zoo: known pretrained checkpoints, download, import")
    weights_sub = weights.add_subparsers(dest="weights_command", metavar="COMMAND", required=True)
    p = weights_sub.add_parser("list", help="name, architecture, dataset, top-1, size, cached, experiment")
    p.add_argument("--task", help="only this task family (recognition, skeleton, localization, detection)")
    _add_json(p)
    p.set_defaults(handler="weights_list")
    p = weights_sub.add_parser("show", help="everything a zoo entry says, whether it is cached and where")
    p.add_argument("name", metavar="NAME")
    _add_json(p)
    p.set_defaults(handler="weights_show")
    p = weights_sub.add_parser(
        "download", help="fetch an entry's file into the cache (ACTIONCORE_HOME): verified, resumable; "
        "prints its path", description="Download a zoo entry's checkpoint into the cache (ACTIONCORE_HOME, "
        "default ~/.cache/actioncore) with a progress bar on stderr. A broken-off download resumes where it "
        "stopped when run again; the file is checked against the entry's sha256 (or hash prefix) and size "
        "before it takes its place, and deleted on a mismatch. Two processes never download one file twice. "
        "With ACTIONCORE_OFFLINE=1 nothing is downloaded: a missing file is an error naming the URL and "
        "where to put the file.")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler="weights_download")
    p = weights_sub.add_parser(
        "import", help="make your own checkpoint (ours or MMAction2's) a zoo entry you can name",
        description="Convert FILE for the model EXP builds (MMAction2's layout is recognised by its keys), "
        "check that it loads, keep it in the cache and record the entry NAME in ACTIONCORE_HOME/imported.toml; "
        "then NAME works wherever a zoo name does ('weights list' shows it as 'imported').")
    p.add_argument("file", metavar="FILE", help="the checkpoint (.pth)")
    p.add_argument("--name", required=True, help="the name to give it (letters, digits and _.+-)")
    p.add_argument("--config", required=True, metavar="EXP", help="the experiment whose model the weights fit")
    _add_overrides(p)
    p.add_argument("--classes", metavar="LIST", help="the shipped class list of its outputs (kinetics400, ...)")
    p.add_argument("--dataset", help="the data set it was trained on (default: the class list's name)")
    p.add_argument("--format", default="auto", help="auto (default: by the file's keys), actioncore, "
                   "mmaction2-1.x, mmaction2-0.x or torchvision")
    p.add_argument("--replace", action="store_true", help="import over an entry imported earlier under NAME")
    _add_json(p)
    p.set_defaults(handler="weights_import")

    p = sub.add_parser("examples", help="the example experiments installed plugins ship; copy them to run or edit",
                       description="List every example experiment the installed plugin distributions ship in their "
                       "packages (distribution, file, task, model); with --copy, copy them (all, or those NAMEs "
                       "select) and the files they include into DIR. Paths inside an example (data, work_dir) "
                       "are relative to the folder you run it from.")
    p.add_argument("names", nargs="*", metavar="NAME", help="example names or shell globs (default: all), "
                   "e.g. quickstart_slowfast or 'tiny_*'")
    p.add_argument("--copy", metavar="DIR", help="copy the selected examples into DIR")
    p.add_argument("--force", action="store_true", help="with --copy: overwrite files in DIR that differ")
    _add_json(p)
    p.set_defaults(handler="examples")

    plugin = sub.add_parser("plugin", help="tools for plugin authors")
    plugin_sub = plugin.add_subparsers(dest="plugin_command", metavar="COMMAND", required=True)
    p = plugin_sub.add_parser("new", help="scaffold a plugin package with a passing test")
    p.add_argument("name", help="short name, e.g. 'acme' -> distribution actioncore-acme")
    p.add_argument("--kind", required=True, help="kind of the component it registers")
    p.add_argument("--out", default=".", help="parent folder of the new package (default: .)")
    _add_json(p)
    p.set_defaults(handler="plugin_new")
    p = sub.add_parser("plot", help="training curves (loss, lr, metrics) from a work dir's log.jsonl as an image",
                       description="One panel per quantity: the training loss and learning rate, then each "
                                   "evaluation metric with a line per split. Needs matplotlib "
                                   "(pip install 'actioncore[plot]').")
    p.add_argument("work_dir", metavar="WORK_DIR", help="a run's work dir (runtime.work_dir), holding log.jsonl")
    p.add_argument("--out", required=True, metavar="FILE", help="the image to write: .png, .pdf or .svg")
    p.add_argument("--metrics", nargs="+", metavar="NAME",
                   help="only these quantities, in this order (default: loss, lr and every metric)")
    p.add_argument("--x", choices=("iteration", "epoch"), default="iteration", help="x axis (default iteration)")
    p.add_argument("--dpi", type=int, default=100, help="pixels per inch; a panel is 8 x 2.5 inches (default 100)")
    _add_json(p)
    p.set_defaults(handler="plot")
    _add_progress_option(parser)
    return parser


def _add_demo_parsers(sub) -> None:
    """``demo`` and ``explain`` (handlers in :mod:`actioncore.cli.demo`)."""
    p = sub.add_parser("demo", help="a video (file, stream or camera) with the model's top-k labels drawn, as "
                       "mp4 or gif; --long: per-window labels and a timeline JSON",
                       usage="actioncore demo [EXP.toml] (--checkpoint C | --weights NAME) INPUT --out OUT.mp4|.gif",
                       description="Runs the experiment's model on INPUT with its test pipeline and draws what it "
                                   "says: recognition the top-k labels, skeleton the pose and its label, detection "
                                   "boxes. INPUT may be a live source FFmpeg opens (a URL, /dev/video0 with "
                                   "--input-format v4l2, file:clip.mp4): it is read frame by frame and scored in "
                                   "windows, as with --long.")
    _add_weights(p)
    p.add_argument("inputs", nargs="+", metavar="EXP INPUT")
    p.set_defaults(more_inputs=True)
    p.add_argument("--out", required=True, metavar="OUT", help="the video to write: .mp4 (H.264) or .gif")
    p.add_argument("--topk", type=int, default=5, help="labels drawn per frame (default 5)")
    p.add_argument("--long", action="store_true", help="score a sliding window; the timeline goes to OUT.json")
    p.add_argument("--window", type=float, default=2.0, metavar="S", help="window length in seconds (default 2)")
    p.add_argument("--stride", type=float, default=1.0, metavar="S", help="seconds between windows (default 1)")
    p.add_argument("--max-seconds", type=float, metavar="S", help="stop reading INPUT after S seconds of video")
    p.add_argument("--input-format", metavar="FMT", help="FFmpeg input format of INPUT (v4l2, mpegts, ...)")
    _add_overrides(p)
    _add_json(p)
    p.set_defaults(handler="demo")

    p = sub.add_parser("explain", help="Grad-CAM heat maps of a recognizer over a video's frames, as a gif",
                       usage="actioncore explain [EXP.toml] (--checkpoint C | --weights NAME) VIDEO --out OUT.gif")
    _add_weights(p)
    p.add_argument("inputs", nargs="+", metavar="EXP VIDEO")
    p.set_defaults(more_inputs=True)
    p.add_argument("--out", required=True, metavar="OUT", help=".gif (or .mp4), one frame per segment / time step")
    p.add_argument("--target-class", metavar="K|NAME", help="class to explain (default: the top prediction)")
    p.add_argument("--layer", metavar="NAME", help="module to take activations from (default: the backbone's last "
                   "stage, e.g. backbone.layer4; MMAction2's slashes work too)")
    p.add_argument("--alpha", type=float, default=0.5, help="heat map opacity (default 0.5)")
    _add_overrides(p)
    _add_json(p)
    p.set_defaults(handler="explain")


def _add_progress_option(parser: argparse.ArgumentParser) -> None:
    """``--no-progress`` on every command (after its name, where users type options): plain log
    lines instead of progress bars even on a terminal (as ACTIONCORE_NO_PROGRESS=1 does)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                _add_progress_option(command)
            return
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bars, plain log lines (default: bars when stderr is a terminal)")


def _add_weights(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--checkpoint", help="a checkpoint file")
    which.add_argument("--weights", metavar="NAME", help="known pretrained weights by name (actioncore weights "
                       "list), fetched and converted on first use into the cache (ACTIONCORE_HOME)")


def _add_list_format(p: argparse.ArgumentParser, *, offsets: bool = True) -> None:
    p.add_argument("--format", choices=("auto", "video", "rawframes"), default="auto",
                   help="list format (default auto: video when the first path has a video file suffix)")
    if offsets:
        p.add_argument("--with-offset", action="store_true",
                       help="raw-frame lines are 'dir OFFSET TOTAL_FRAMES LABEL'")


def _add_convert_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="IN")
    p.add_argument("target", metavar="OUT")
    p.add_argument("--trust-pickle", action="store_true",
                   help="allow loading IN if it is a pickle (it can run code: only for files you trust)")
    _add_json(p)
    p.set_defaults(handler="data_convert")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "more_inputs", False) and not any(e.startswith("-") for e in extra):
        args.inputs += extra  # infer EXP --checkpoint C INPUT...: the inputs after the option
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        handler = getattr(importlib.import_module(_COMMANDS), args.handler)
        with plain_output(args.no_progress):
            return int(handler(args) or 0)
    except ActionCoreError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"actioncore {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_SYSTEM_ERROR if isinstance(exc, StorageError) else EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("actioncore: interrupted", file=sys.stderr)
        return 130
