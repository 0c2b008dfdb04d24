"""The data-preparation commands: ``data frames``, ``data flow``, ``data resize``, ``data lists`` and ``extract``.

Parsers are added by :func:`add_parsers`; handlers load what they need when they run.
"""
from __future__ import annotations

import argparse
from typing import Any


def add_parsers(sub: Any, data_sub: Any) -> None:
    """The subcommands of ``data`` (``data_sub``) and the top-level ``extract`` (``sub``)."""
    from . import _add_json, _add_overrides

    p = data_sub.add_parser("frames", help="frames of a video (or each video under a folder) as "
                            "DIR/<video name>/img_00001.jpg, ...; resumable, in parallel")
    p.add_argument("source", metavar="SRC", help="a video file or a folder searched recursively for videos")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--short-side", type=int, help="resize so the shorter side has N pixels (default: keep)")
    p.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    p.add_argument("--ext", default="jpg", help="image format of the files (default jpg)")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality 1-100 (default 95, OpenCV's)")
    _add_json(p)
    p.set_defaults(handler="data_frames")

    p = data_sub.add_parser("flow", help="optical flow of a video (or each video under a folder) with torchvision's "
                            "RAFT as DIR/<video name>/flow_x_00001.jpg, flow_y_00001.jpg, ... (denseflow's layout)")
    p.add_argument("source", metavar="SRC", help="a video file or a folder searched recursively for videos")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--weights", required=True, metavar="FILE", help="the RAFT state dict (a local file, e.g. "
                   "torchvision's raft_small_C_T_V2-01064c6d.pth); nothing is downloaded")
    p.add_argument("--model", default="raft_small", choices=("raft_small", "raft_large"),
                   help="torchvision's RAFT variant the weights are for (default raft_small)")
    p.add_argument("--short-side", type=int, help="resize frames so the shorter side has N pixels (default: keep)")
    p.add_argument("--bound", type=float, default=20.0, help="flow clipped to [-B, B] pixels, mapped to 0..255 "
                   "(default 20, denseflow's)")
    p.add_argument("--iterations", type=int, default=12, help="RAFT's flow updates (default 12)")
    p.add_argument("--batch-pairs", type=int, default=8, help="frame pairs per RAFT call (default 8)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality 1-100 (default 95)")
    _add_json(p)
    p.set_defaults(handler="data_flow")

    p = data_sub.add_parser("resize", help="videos re-encoded (H.264 or MPEG-4) with a smaller short side")
    p.add_argument("source", metavar="SRC", help="a video file or a folder searched recursively for videos")
    p.add_argument("--out", required=True, metavar="DIR", help="DIR/<video name>.mp4 each")
    p.add_argument("--short-side", type=int, required=True, metavar="N")
    p.add_argument("--fps", type=float, help="frame rate of the result (default: the source's)")
    p.add_argument("--codec", default="h264", help="h264 (default) or mpeg4")
    p.add_argument("--keep-audio", action="store_true", help="keep the first audio stream (AAC)")
    p.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    _add_json(p)
    p.set_defaults(handler="data_resize")

    p = data_sub.add_parser("lists", help="file lists from a folder tree or a data set's official annotations "
                            "(folder, ucf101, hmdb51, kinetics, sthv2, diving48, mit, activitynet, ava)")
    p.add_argument("format", metavar="FORMAT", help="folder, ucf101, hmdb51, kinetics, sthv2, diving48, mit, "
                   "activitynet or ava (docs/data.md: the files each expects)")
    p.add_argument("source", metavar="SRC", help="the folder tree (folder) or the folder of annotation files")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--frames", metavar="DIR", help="frame folders (data frames' output): also write raw-frame "
                   "lists with their frame counts")
    p.add_argument("--prefix", help="list file name prefix (default: the data set's, e.g. ucf101)")
    p.add_argument("--split", type=int, help="ucf101/hmdb51: only this split (1-3; default all)")
    p.add_argument("--level", type=int, help="kinetics: 2 (class/clip, default) or 1 (clip)")
    p.add_argument("--video-ext", help="suffix of the video files (default: the data set's, e.g. .mp4)")
    _add_json(p)
    p.set_defaults(handler="data_lists")

    p = sub.add_parser("extract", help="clip features of untrimmed videos for localization (BMN/BSN), "
                       "rescaled to 100 steps as ActivityNet's csv_mean_100")
    p.add_argument("experiment", help="a recognition experiment (its test pipeline and model)")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("videos", nargs="+", metavar="VIDEOS", help="video files or folders of videos")
    p.add_argument("--out", required=True, metavar="DIR", help="DIR/<video>.csv, DIR/raw/<video>.npy, "
                   "DIR/video_info.csv")
    p.add_argument("--clip-len", type=int, default=1, help="frames per clip (default 1, TSN's RGB snippets)")
    p.add_argument("--stride", type=int, default=16, help="frames between clip centres (default 16)")
    p.add_argument("--frame-interval", type=int, default=1, help="frames between a clip's frames (default 1)")
    p.add_argument("--steps", type=int, default=100, help="rows of each rescaled feature file (default 100)")
    p.add_argument("--batch-clips", type=int, default=32, help="clips per forward (default 32)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    _add_overrides(p)
    _add_json(p)
    p.set_defaults(handler="extract")


def _report(args: argparse.Namespace, report: dict[str, Any], line: str) -> int:
    from .commands import _print_json

    if args.json:
        _print_json(report)
    else:
        print(line)
        for name, reason in report.get("failed", {}).items():
            print(f"  failed: {name}: {reason}")
    return 1 if report.get("failed") else 0


def data_frames(args: argparse.Namespace) -> int:
    from ..data.prep.frames import extract_frames

    report = extract_frames(args.source, args.out, short_side=args.short_side, workers=args.workers,
                            ext=args.ext, quality=args.quality).as_dict()
    skipped = sum(1 for r in report["done"].values() if r["skipped"])
    frames = sum(r["frames"] for r in report["done"].values())
    return _report(args, report, f"{args.out}: {len(report['done'])} videos ({skipped} already complete), "
                                 f"{frames} frames; {len(report['failed'])} failed")


def data_flow(args: argparse.Namespace) -> int:
    from ..data.prep.flow import extract_flow

    report = extract_flow(args.source, args.out, weights=args.weights, model=args.model, short_side=args.short_side,
                          bound=args.bound, iterations=args.iterations, batch_pairs=args.batch_pairs,
                          device=args.device, quality=args.quality).as_dict()
    skipped = sum(1 for r in report["done"].values() if r["skipped"])
    pairs = sum(r["frames"] for r in report["done"].values())
    return _report(args, report, f"{args.out}: flow of {len(report['done'])} videos ({skipped} already complete), "
                                 f"{pairs} x/y pairs; {len(report['failed'])} failed")


def data_resize(args: argparse.Namespace) -> int:
    from ..data.prep.resize import resize_videos

    report = resize_videos(args.source, args.out, short_side=args.short_side, fps=args.fps, codec=args.codec,
                           keep_audio=args.keep_audio, workers=args.workers).as_dict()
    return _report(args, report, f"{args.out}: {len(report['done'])} videos re-encoded; "
                                 f"{len(report['failed'])} failed")


def data_lists(args: argparse.Namespace) -> int:
    from ..data.prep.lists import build_lists

    report = build_lists(args.format, args.source, args.out, frames=args.frames, prefix=args.prefix,
                         split=args.split, level=args.level, video_ext=args.video_ext)
    if args.json:
        from .commands import _print_json

        _print_json(report)
        return 0
    counts = ", ".join(f"{k} {v}" for k, v in report["counts"].items())
    print(f"{args.format}: {counts}")
    for path in report["files"]:
        print(f"  {path}")
    for name, missing in report.get("missing_frames", {}).items():
        print(f"  {name}: {len(missing)} videos without a frame folder, left out (first: {missing[0]})")
    return 0


def extract(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..data.prep.features import extract_features

    report = extract_features(load_config(args.experiment, args.overrides), args.checkpoint, args.videos, args.out,
                              clip_len=args.clip_len, stride=args.stride, frame_interval=args.frame_interval,
                              num_steps=args.steps, batch_clips=args.batch_clips, device=args.device)
    return _report(args, report, f"{args.out}: features of {len(report['done'])} videos "
                                 f"({report['steps']} steps each); {len(report['failed'])} failed")
