"""Scaling figures: big annotation lists, long untrimmed videos, memory per DataLoader worker.

Three measurements, each a subcommand (``all`` runs the three with their defaults)::

    python benchmarks/scaling.py lists [--lines 100000]
    python benchmarks/scaling.py long-video [--long 18000] [--short 600] [--clips 60]
    python benchmarks/scaling.py workers examples/quickstart.toml [--workers 1 2]

``lists``: writes a list of ``--lines`` lines in every line format the ``actioncore-lists`` data
sets read (video, raw-frame with and without offsets, multi-label, CMR, image, unlabeled) and
builds each as a training split through the real path (experiment TOML -> ``build_split`` ->
``ClipDataset``), plus the kernel's own ``read_list`` (``data split``, ``data image-scores``).
Reports the wall-clock seconds of the build (best of ``--repeat``, without tracing) and its
memory: the peak and the retained Python allocations under ``tracemalloc``, in a second build.

``long-video``: encodes (once, cached) two H.264 mp4s of the same content at ``--size`` px with
PyAV, ``--short`` and ``--long`` frames (x264 defaults otherwise: GOP 250, B-frames), and times
clips read through the data set path (``video_list`` -> ``pyav`` decoder: open, packet index,
seek, decode) with TSN-style sparse sampling, 1x1x3 and 1x1x8, on both, interleaved clip by clip.
Reports ms per clip and the long/short ratio, plus the work counters of the reader (frames
decoded, seeks per clip).

``workers``: starts the experiment's training loader with each worker count, pulls ``--batches``
batches, and reads every worker process's memory from ``/proc/PID/smaps_rollup``: RSS (what
``top`` shows, shared pages counted in every process) and USS (Private_Clean + Private_Dirty:
what the worker costs on its own, the figure to multiply by the worker count).

Run with one torch thread (the script sets it) on a quiet machine; ``--json`` prints one document.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import torch

from data_vs_mmaction2 import CountingDecoder, write_h264  # this folder is on sys.path when run as a script

MB = 1024 * 1024

# Lists

LIST_FORMATS: dict[str, tuple[str, Callable[[int], str]]] = {
    # name: (dataset table options, line i)
    "video_list": ('type = "video_list"', lambda i: f"class{i % 400:03d}/video_{i:07d}.mp4 {i % 400}"),
    "video_list multi_class": ('type = "video_list"\nmulti_class = true',
                               lambda i: f"class{i % 400:03d}/video_{i:07d}.mp4 {i % 400} {(i * 7) % 400}"),
    "rawframe_list": ('type = "rawframe_list"',
                      lambda i: f"class{i % 400:03d}/video_{i:07d} {100 + i % 200} {i % 400}"),
    "rawframe_list with_offset": ('type = "rawframe_list"\nwith_offset = true',
                                  lambda i: f"class{i % 400:03d}/video_{i:07d} {i % 50} {100 + i % 200} {i % 400}"),
    "cmr_list": ('type = "cmr_list"', lambda i: f"class{i % 400:03d}/video_{i:07d}.mp4 {100 + i % 200} {i % 400}"),
    "image_list": ('type = "image_list"', lambda i: f"class{i % 400:03d}/image_{i:07d}.jpg {i % 400}"),
    "unlabeled_video_list": ('type = "unlabeled_video_list"', lambda i: f"class{i % 400:03d}/video_{i:07d}.mp4"),
}


def write_list(path: Path, lines: int, line: Callable[[int], str]) -> Path:
    path.write_text("".join(line(i) + "\n" for i in range(lines)))
    return path


def split_builder(table: str, ann_file: Path, workdir: Path) -> Callable[[], object]:
    """``build_split`` of a training split over ``ann_file`` (``table``: the dataset's options)."""
    from actioncore.config import load_config
    from actioncore.data.splits import build_split
    from actioncore.plugin.host import current_host

    experiment_file = workdir / f"{ann_file.stem}.toml"
    experiment_file.write_text(
        f'[plugins]\nrequire = ["actioncore-lists"]\n[data]\nworkers = 0\n[data.train]\n{table}\n'
        f"ann_file = {json.dumps(str(ann_file))}\nroot = {json.dumps(str(workdir))}\n"
        'pipeline = [{type = "sample_frames", clip_len = 1, frame_interval = 1, num_clips = 3}]\n')
    experiment = load_config(experiment_file)
    registry = current_host().registry
    return lambda: build_split(experiment, "train", registry)


def measure_build(build: Callable[[], object], *, repeat: int) -> dict:
    """Seconds (best of ``repeat``, untraced) and traced peak / retained MB of one build."""
    seconds = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = build()
        seconds.append(time.perf_counter() - start)
        del result
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = build()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    count = len(result) if hasattr(result, "__len__") else len(result.lines)
    del result
    return {"seconds": min(seconds), "peak_mb": (peak - before) / MB, "retained_mb": (retained - before) / MB,
            "samples": count}


def bench_lists(args: argparse.Namespace) -> dict:
    from actioncore.data.list_lines import read_list

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for number, (name, (table, line)) in enumerate(LIST_FORMATS.items()):
            ann = write_list(workdir / f"list{number}.txt", args.lines, line)
            rows[name] = measure_build(split_builder(table, ann, workdir), repeat=args.repeat)
            rows[name]["file_mb"] = ann.stat().st_size / MB
        for name, table in (("read_list video", "video_list"), ("read_list rawframes", "rawframe_list")):
            ann = workdir / f"list{list(LIST_FORMATS).index(table)}.txt"
            rows[name] = measure_build(lambda: read_list(ann), repeat=args.repeat)
            rows[name]["file_mb"] = ann.stat().st_size / MB
    return {"lines": args.lines, "formats": rows}


def print_lists(report: dict) -> None:
    print(f"annotation lists of {report['lines']:,} lines: build seconds (best), traced peak / retained MB")
    for name, row in report["formats"].items():
        print(f"  {name:<28}{row['seconds']:6.3f} s  peak {row['peak_mb']:6.1f} MB  retained "
              f"{row['retained_mb']:6.1f} MB  (file {row['file_mb']:.1f} MB, {row['samples']:,} samples)")


# Long videos

def encode_video(path: Path, *, frames: int, size: int, seed: int = 0) -> Path:
    """An H.264 mp4 of ``frames`` frames (x264 defaults, GOP 250) of a textured square moving
    over smooth noise, with a new background every 300 frames so keyframes fall as in footage."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    backgrounds = [rng.integers(40, 200, size=(size // 8, size // 8, 3), dtype=np.uint8)
                   .repeat(8, 0).repeat(8, 1) for _ in range(8)]
    sprite = rng.integers(0, 256, size=(size // 4, size // 4, 3), dtype=np.uint8)

    def pictures():
        for t in range(frames):
            picture = backgrounds[(t // 300) % len(backgrounds)].copy()
            x, y = (3 * t) % (size - sprite.shape[1]), (2 * t) % (size - sprite.shape[0])
            picture[y:y + sprite.shape[0], x:x + sprite.shape[1]] = sprite
            yield picture

    return write_h264(path, pictures(), width=size, height=size)


def video_split(video: Path, num_clips: int, workdir: Path):
    """A ``video_list`` training split over the one video, TSN sampling 1x1x``num_clips``."""
    from actioncore.config import load_config
    from actioncore.data.splits import build_split
    from actioncore.plugin.host import current_host

    ann = workdir / f"{video.stem}_{num_clips}.txt"
    ann.write_text(f"{video.name} 0\n")
    experiment_file = workdir / f"{video.stem}_{num_clips}.toml"
    experiment_file.write_text(
        f'[plugins]\nrequire = ["actioncore-lists"]\n[data]\nworkers = 0\n[data.train]\ntype = "video_list"\n'
        f"ann_file = {json.dumps(str(ann))}\nroot = {json.dumps(str(video.parent))}\n"
        f'pipeline = [{{type = "sample_frames", clip_len = 1, frame_interval = 1, num_clips = {num_clips}}}, '
        '{type = "decode"}]\n')
    dataset = build_split(load_config(experiment_file), "train", current_host().registry)
    dataset.decoder = CountingDecoder(dataset.decoder)
    return dataset


def uncached_open_ms(video: Path, repeat: int = 5) -> float:
    """Median ms to open ``video`` with the packet index built afresh (a video's first clip)."""
    from actioncore.builtin.decoders.pyav import PyAVDecoder

    decoder = PyAVDecoder(index_cache_frames=0)
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        decoder.open(video).close()
        seconds.append(time.perf_counter() - start)
    return 1000 * statistics.median(seconds)


def bench_long_video(args: argparse.Namespace) -> dict:
    folder = Path(args.cache)
    folder.mkdir(parents=True, exist_ok=True)
    videos = {kind: encode_video(folder / f"{kind}_{frames}f_{args.size}px.mp4", frames=frames, size=args.size)
              for kind, frames in (("short", args.short), ("long", args.long))}
    report: dict = {"size": args.size, "frames": {"short": args.short, "long": args.long},
                    "file_mb": {k: v.stat().st_size / MB for k, v in videos.items()},
                    "uncached_open_ms": {k: uncached_open_ms(v) for k, v in videos.items()}, "sampling": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for num_clips in args.num_clips:
            datasets = {kind: video_split(video, num_clips, Path(tmp)) for kind, video in videos.items()}
            for dataset in datasets.values():  # warm-up: page cache, first-call setup
                for epoch in range(3):
                    dataset[(epoch, 0)]
                dataset.decoder.readers.clear()
            seconds: dict[str, list[float]] = {kind: [] for kind in datasets}
            for clip in range(args.clips):
                order = list(datasets) if clip % 2 == 0 else list(datasets)[::-1]
                for kind in order:
                    start = time.perf_counter()
                    sample = datasets[kind][(100 + clip, 0)]
                    seconds[kind].append(time.perf_counter() - start)
                    assert sample.frames.shape[0] == num_clips
            row = {}
            for kind, dataset in datasets.items():
                readers = dataset.decoder.readers
                row[kind] = {"ms_per_clip_median": 1000 * statistics.median(seconds[kind]),
                             "ms_per_clip_mean": 1000 * statistics.mean(seconds[kind]),
                             "frames_decoded_per_clip": statistics.mean(r.frames_decoded for r in readers),
                             "seeks_per_clip": statistics.mean(r.seeks for r in readers)}
            row["long_over_short"] = row["long"]["ms_per_clip_median"] / row["short"]["ms_per_clip_median"]
            report["sampling"][f"1x1x{num_clips}"] = row
    return report


def print_long_video(report: dict) -> None:
    frames = report["frames"]
    print(f"one clip read through video_list + pyav from a {frames['long']:,}-frame vs a {frames['short']:,}-frame "
          f"mp4 ({report['size']} px H.264; {report['file_mb']['long']:.1f} / {report['file_mb']['short']:.1f} MB)")
    opened = report["uncached_open_ms"]
    print(f"  first open (packet index built): long {opened['long']:.1f} ms, short {opened['short']:.1f} ms; "
          "later clips of a video reuse the decoder's cached index")
    for sampling, row in report["sampling"].items():
        long, short = row["long"], row["short"]
        print(f"  TSN {sampling}: long {long['ms_per_clip_median']:.2f} ms, short {short['ms_per_clip_median']:.2f} "
              f"ms per clip (median), ratio {row['long_over_short']:.2f}; frames decoded "
              f"{long['frames_decoded_per_clip']:.1f} / {short['frames_decoded_per_clip']:.1f}, seeks "
              f"{long['seeks_per_clip']:.2f} / {short['seeks_per_clip']:.2f}")


# Memory per worker

def process_memory(pid: int) -> dict[str, float]:
    """RSS, PSS and USS (private pages) of process ``pid`` in MB, from /proc/PID/smaps_rollup."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    return {"rss_mb": fields["Rss"], "pss_mb": fields["Pss"],
            "uss_mb": fields["Private_Clean"] + fields["Private_Dirty"]}


def child_processes(pid: int) -> list[int]:
    """Process ids of ``pid``'s children (the loader's workers), from /proc."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return sorted(children)


def bench_workers(args: argparse.Namespace) -> dict:
    from actioncore.config import load_config
    from actioncore.data.loader import build_loader
    from actioncore.data.splits import build_split
    from actioncore.plugin.host import current_host

    experiment = load_config(args.experiment)
    dataset = build_split(experiment, "train", current_host().registry)
    report: dict = {"experiment": args.experiment, "batch_size": experiment.data.batch_size,
                    "batches": args.batches, "main_before": process_memory(os.getpid()), "runs": []}
    for count in args.workers:
        loader = build_loader(dataset, batch_size=experiment.data.batch_size, workers=count, shuffle=True,
                              seed=0, persistent_workers=False)
        iterator = iter(loader)
        for _ in range(args.batches):
            next(iterator)
        workers = child_processes(os.getpid())
        if len(workers) != count:
            raise SystemExit(f"expected {count} worker processes, found {len(workers)}: {workers}")
        report["runs"].append({"workers": count, "main": process_memory(os.getpid()),
                               "per_worker": [process_memory(pid) for pid in workers]})
        iterator.close()
        loader.close()
        gc.collect()
    return report


def print_workers(report: dict) -> None:
    print(f"{report['experiment']}: training loader, batch {report['batch_size']}, after {report['batches']} "
          f"batches; memory in MB (RSS / PSS / USS)")
    before = report["main_before"]
    print(f"  main process before the loader: {before['rss_mb']:.0f} / {before['pss_mb']:.0f} / {before['uss_mb']:.0f}")
    for run in report["runs"]:
        cells = "; ".join(f"{w['rss_mb']:.0f} / {w['pss_mb']:.0f} / {w['uss_mb']:.0f}" for w in run["per_worker"])
        main = run["main"]
        print(f"  {run['workers']} worker(s): main {main['rss_mb']:.0f} / {main['pss_mb']:.0f} / {main['uss_mb']:.0f}; "
              f"each worker {cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    commands = parser.add_subparsers(dest="command", required=True)
    lists = commands.add_parser("lists", help="annotation list build time and memory")
    lists.add_argument("--lines", type=int, default=100_000)
    lists.add_argument("--repeat", type=int, default=3, help="timed builds; the best counts (default 3)")
    long = commands.add_parser("long-video", help="per-clip cost of a long vs a short video")
    long.add_argument("--long", type=int, default=18_000, help="frames of the long video (default 18000)")
    long.add_argument("--short", type=int, default=600, help="frames of the short video (default 600)")
    long.add_argument("--size", type=int, default=64, help="frame width and height (default 64)")
    long.add_argument("--clips", type=int, default=60, help="timed clips per video and sampling (default 60)")
    long.add_argument("--num-clips", type=int, nargs="+", default=[3, 8], help="TSN segments (default 3 8)")
    long.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "actioncore_bench_long_videos"),
                      help="folder for the encoded videos, reused between runs")
    workers = commands.add_parser("workers", help="memory of each DataLoader worker process")
    workers.add_argument("experiment", nargs="?", default="examples/quickstart.toml")
    workers.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    workers.add_argument("--batches", type=int, default=8, help="batches pulled before measuring (default 8)")
    commands.add_parser("all", help="the three with their defaults")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    # workers first: its main-process baseline must not hold what the other two allocated
    benches = {"workers": (bench_workers, print_workers), "lists": (bench_lists, print_lists),
               "long-video": (bench_long_video, print_long_video)}
    chosen = list(benches) if args.command == "all" else [args.command]
    report = {}
    for name in chosen:
        sub = args if args.command != "all" else parser.parse_args([name])
        bench, show = benches[name]
        report[name] = bench(sub)
        if not args.json:
            show(report[name])
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
