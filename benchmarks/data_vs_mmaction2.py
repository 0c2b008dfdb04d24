"""Train-pipeline throughput against MMAction2 1.2.0 (PyAV and decord), one process, same videos.

Encodes ``--videos`` 340x256 H.264 videos of 300 frames with PyAV (x264 defaults: CRF 23,
B-frames, GOP 250 plus scene-cut keyframes; textured content that moves and changes scene every
75-95 frames, so keyframes land about every 85 frames as in real clips; see
:func:`synthetic_video` for the two kinds of content) and caches them in a temporary folder.
Then builds the same logical train pipeline in both toolboxes:

- TSN 1x1x8: SampleFrames(1, 1, 8) -> decode -> Resize(-1, 256) -> MultiScaleCrop(224, scales
  (1, .875, .75, .66), fixed grid, max_wh_scale_gap 1) -> Resize(224x224) -> Flip(0.5) ->
  FormatShape(NCHW)
- SlowFast 32x2x1: SampleFrames(32, 2, 1) -> decode -> Resize(-1, 256) -> RandomResizedCrop ->
  Resize(224x224) -> Flip(0.5) -> FormatShape(NCTHW)

for MMAction2 with ``PyAVInit``/``PyAVDecode`` and with ``DecordInit``/``DecordDecode`` (their
defaults: PyAV's default threading, decord with one thread), and for actioncore through its own
path: an experiment TOML, ``build_split`` and the ``video_list`` dataset with the default
``pyav`` decoder. Each pipeline runs in this one process, without DataLoader workers, over the
same videos (clip j from video j mod N; both MMAction2 pipelines draw the same frames for it,
actioncore draws its own from its seeded generator). The toolboxes take turns clip by clip, in
an order that rotates, so that load from other processes hits all of them alike; clips/s and
the ratios are reported per round of ``--clips`` clips as well as overall, in wall-clock time
(the bar) and per CPU-second of this process (steadier on a shared machine).

MMAction2 and decord are measuring sticks: nothing in the package or its tests imports them.
Install them with ``shared/peers/setup.sh /tmp/peers`` and run::

    PYTHONPATH=/tmp/peers python benchmarks/data_vs_mmaction2.py [--videos N] [--clips N] [--json]

More options: ``--rounds``, ``--styles`` (``tsn`` 1x1x8, ``tsn3`` 1x1x3, ``slowfast``),
``--content natural|noise``, ``--noskip`` (also time actioncore without skipping non-reference
frames), ``--decoder-threads N`` (also time actioncore with FFmpeg frame threading on N threads),
``--nocache`` (also time actioncore without its packet-index cache), ``--nooverlap`` (also time
actioncore never decoding on a helper thread, see ``actioncore.data.deferred``), ``--cache``
(where the videos are kept), ``--busy`` (a CPU burner process keeps one
core busy beside the benchmark, as another job would: see :func:`cpu_burner`). The report
records the load average before and after, and with ``--busy`` the share of a core the burner
got (about 1.0 when the machine had a core for it).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import av
import numpy as np
import torch

WIDTH, HEIGHT, FRAMES, FPS = 340, 256, 300, 25
ENCODING_VERSION = 2
"""Bump when the synthetic videos change, so that stale cached files are not reused."""

STYLES = {
    "tsn": {"clip_len": 1, "frame_interval": 1, "num_clips": 8},
    "tsn3": {"clip_len": 1, "frame_interval": 1, "num_clips": 3},
    "slowfast": {"clip_len": 32, "frame_interval": 2, "num_clips": 1},
}
LABELS = {"tsn": "TSN 1x1x8", "tsn3": "TSN 1x1x3", "slowfast": "SlowFast 32x2x1"}


def is_tsn(style: str) -> bool:
    """TSN styles: 2D input (NCHW) and MultiScaleCrop; the others are SlowFast's (NCTHW)."""
    return style.startswith("tsn")


# Videos


def _smooth_noise(rng: np.random.Generator, height: int, width: int,
                  scales: tuple[int, ...] = (64, 32, 16, 8, 4, 2)) -> np.ndarray:
    """Float ``[H, W, 3]`` multi-scale value noise, zero mean and unit variance: coarse structure
    with fine detail, the kind of texture natural footage has (1/f-like spectrum)."""
    out = np.zeros((height, width, 3), np.float32)
    for scale in scales:
        grid = rng.standard_normal((height // scale + 2, width // scale + 2, 3)).astype(np.float32)
        ys, xs = np.arange(height) / scale, np.arange(width) / scale
        y0, x0 = ys.astype(int), xs.astype(int)
        fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
        top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
        bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
        out += scale ** 0.8 * (top * (1 - fy) + bottom * fy)
    return (out - out.mean()) / out.std()


def _noise_scene(rng: np.random.Generator, step: int) -> Callable[[int], np.ndarray]:
    """Fine random 2x2-pixel texture panning ``step`` px per frame (no spatial structure)."""
    shape = (HEIGHT // 2, (WIDTH + 100 * step) // 2 + 1, 3)
    texture = rng.integers(0, 256, size=shape, dtype=np.uint8)
    texture = texture.repeat(2, axis=0).repeat(2, axis=1)
    return lambda t: np.ascontiguousarray(texture[:, step * t:step * t + WIDTH])


def _natural_scene(rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    """A textured background panning at a random velocity, three textured objects moving on their
    own paths over it, and +-3 levels of per-frame sensor noise."""
    vx, vy = rng.uniform(-4, 4), rng.uniform(-2, 2)
    margin = 8
    canvas_h, canvas_w = HEIGHT + int(abs(vy) * 100) + margin, WIDTH + int(abs(vx) * 100) + margin
    background = np.clip(128 + 45 * _smooth_noise(rng, canvas_h, canvas_w), 0, 255).astype(np.uint8)
    sprites = []
    for _ in range(3):
        h, w = int(rng.integers(40, 90)), int(rng.integers(40, 90))
        texture = 128 + 60 * _smooth_noise(rng, h, w, (16, 8, 4, 2))
        texture = np.clip(texture, 0, 255).astype(np.uint8)
        sprites.append((texture, rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h),
                        rng.uniform(-5, 5), rng.uniform(-3, 3)))

    def frame(t: int) -> np.ndarray:
        x = round(margin // 2 + (vx * t if vx > 0 else -vx * (100 - t)))
        y = round(margin // 2 + (vy * t if vy > 0 else -vy * (100 - t)))
        picture = background[y:y + HEIGHT, x:x + WIDTH].copy()
        for texture, sx, sy, dx, dy in sprites:
            h, w = texture.shape[:2]
            px, py = int(sx + dx * t) % (WIDTH - w), int(sy + dy * t) % (HEIGHT - h)
            picture[py:py + h, px:px + w] = texture
        noise = rng.integers(-3, 4, size=picture.shape, dtype=np.int16)
        return np.clip(picture + noise, 0, 255).astype(np.uint8)

    return frame


def synthetic_video(path: Path, seed: int, content: str = "natural") -> Path:
    """A 340x256, 300-frame x264 video (x264 defaults, GOP 250) with a new scene every 75-95 frames.

    ``natural``: smooth multi-scale textures, camera pan and moving objects; x264 makes about
    70% of the frames B-frames, 45% non-reference, as in ordinary footage, and decoding takes
    about 0.4 ms per frame on one core. ``noise``: 2x2-pixel random noise panning 2-4 px per
    frame; depending on the speed x264 picks B-frames for half the frames or almost none.
    """
    rng = np.random.default_rng(seed)
    cuts = [0]
    while cuts[-1] < FRAMES:
        cuts.append(cuts[-1] + int(rng.integers(75, 96)))
    step = int(rng.integers(2, 5))
    scenes = [_natural_scene(rng) if content == "natural" else _noise_scene(rng, step)
              for _ in cuts]

    def pictures():
        for index in range(FRAMES):
            scene = int(np.searchsorted(cuts, index, side="right")) - 1
            yield scenes[scene](index - cuts[scene])

    return write_h264(path, pictures(), width=WIDTH, height=HEIGHT)


def write_h264(path: Path, pictures: Iterable[np.ndarray], *, width: int, height: int) -> Path:
    """Encode RGB ``pictures`` to an mp4 at 25 fps with x264's defaults (GOP 250, B-frames),
    written under another name first so that an interrupted run leaves no partial ``path``."""
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = 250  # x264's own default keyint (FFmpeg's would be 12)
        for picture in pictures:
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    partial.replace(path)
    return path


def cached_videos(count: int, folder: Path, content: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(count):
        path = folder / f"{content}_{seed:03d}.mp4"
        if not path.exists():
            synthetic_video(path, seed, content)
        paths.append(path)
    return paths


def stream_stats(path: Path) -> dict:
    """Keyframe indices and the share of non-reference frames (H.264 ``nal_ref_idc == 0``)."""
    with av.open(str(path)) as container:
        packets = [(p.pts, p.is_keyframe, _nal_ref_idc(bytes(p)))
                   for p in container.demux(video=0) if p.size]
    packets.sort()
    return {"keyframes": [i for i, (_, key, _) in enumerate(packets) if key],
            "nonref_share": sum(ref == 0 for *_, ref in packets) / len(packets)}


def _nal_ref_idc(data: bytes) -> int | None:
    """nal_ref_idc of the first slice in a length-prefixed (mp4) H.264 access unit."""
    pos = 0
    while pos + 5 <= len(data):
        size, header = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4]
        if header & 0x1F in (1, 5):
            return header >> 5
        pos += 4 + size
    return None


# Pipelines


def mmaction2_pipeline(style: str, backend: str) -> Callable[[str], object]:
    """MMAction2 1.2.0's train pipeline for ``style`` with ``backend`` 'pyav' or 'decord'."""
    from mmaction.registry import TRANSFORMS
    from mmaction.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    init, decode = {"pyav": ("PyAVInit", "PyAVDecode"),
                    "decord": ("DecordInit", "DecordDecode")}[backend]
    crop = (
        dict(type="MultiScaleCrop", input_size=224, scales=(1, 0.875, 0.75, 0.66),
             random_crop=False, max_wh_scale_gap=1)
        if is_tsn(style) else dict(type="RandomResizedCrop")
    )
    configs = [
        dict(type=init),
        dict(type="SampleFrames", **STYLES[style]),
        dict(type=decode),
        dict(type="Resize", scale=(-1, 256)),
        crop,
        dict(type="Resize", scale=(224, 224), keep_ratio=False),
        dict(type="Flip", flip_ratio=0.5),
        dict(type="FormatShape", input_format="NCHW" if is_tsn(style) else "NCTHW"),
    ]
    steps = [TRANSFORMS.build(c) for c in configs]

    def run(path: str) -> np.ndarray:
        results = {"filename": path, "label": 0, "start_index": 0, "modality": "RGB"}
        for step in steps:
            results = step(results)
        return results["imgs"]

    return run


def actioncore_dataset(style: str, videos: list[Path], workdir: Path, decoder: str = '"pyav"',
                       overlap: str = "auto"):
    """actioncore's train split for ``style``: experiment TOML -> build_split -> ClipDataset."""
    from actioncore.config import load_config
    from actioncore.data.splits import build_split
    from actioncore.plugin.host import current_host

    ann = workdir / "train.txt"
    ann.write_text("".join(f"{p.name} 0\n" for p in videos))
    sampling = STYLES[style]
    crop = (
        '{type = "multi_scale_crop", input_size = 224, scales = [1, 0.875, 0.75, 0.66], '
        "random_crop = false, max_wh_scale_gap = 1}"
        if is_tsn(style) else '{type = "random_resized_crop"}'
    )
    sample = ", ".join(f"{key} = {value}" for key, value in sampling.items())
    toml = f"""
[data]
batch_size = 1
workers = 0
decoder = {decoder}
[data.train]
type = "video_list"
ann_file = {json.dumps(str(ann))}
root = {json.dumps(str(videos[0].parent))}
pipeline = [
  {{type = "sample_frames", {sample}}},
  {{type = "decode", overlap = "{overlap}"}},
  {{type = "resize", scale = [-1, 256]}},
  {crop},
  {{type = "resize", scale = [224, 224], keep_ratio = false}},
  {{type = "flip", flip_ratio = 0.5}},
  {{type = "format_shape", input_format = "{'NCHW' if is_tsn(style) else 'NCTHW'}"}},
]
"""
    experiment_file = workdir / f"{style}-{len(list(workdir.glob('*.toml')))}.toml"
    experiment_file.write_text(toml)
    experiment = load_config(experiment_file)
    return build_split(experiment, "train", current_host().registry)


def runners(style: str, videos: list[Path], workdir: Path, *, noskip: bool = False,
            nocache: bool = False, threads: int = 1,
            no_overlap: bool = False) -> dict[str, Callable[[int, int], object]]:
    """``run(round, clip)`` per toolbox; clip ``j`` of every round is drawn from video ``j % N``.

    ``noskip`` adds actioncore with ``skip_nonref = false`` (every frame up to a wanted one
    decoded), to show what skipping non-reference frames buys. ``nocache`` adds actioncore with
    ``index_cache_frames = 0``: each clip builds its video's packet index anew, as MMAction2's
    readers do on every open (``actioncore`` reuses the index of a video it opened before).
    ``no_overlap`` adds actioncore with ``decode`` never decoding on a helper thread (its default
    does where a core is spare), to show what that buys in the conditions of the run.
    """
    paths = [str(p) for p in videos]

    def ours(dataset):
        def run(round_: int, clip: int):
            return dataset[(round_, clip % len(paths))].frames
        return run

    def theirs(pipeline):
        def run(round_: int, clip: int):
            return pipeline(paths[clip % len(paths)])
        return run

    run = {"actioncore": ours(actioncore_dataset(style, videos, workdir)),
           "mmaction2-pyav": theirs(mmaction2_pipeline(style, "pyav")),
           "mmaction2-decord": theirs(mmaction2_pipeline(style, "decord"))}
    if noskip:
        decoder = '{type = "pyav", skip_nonref = false}'
        run["actioncore-noskip"] = ours(actioncore_dataset(style, videos, workdir, decoder))
    if nocache:
        decoder = '{type = "pyav", index_cache_frames = 0}'
        run["actioncore-nocache"] = ours(actioncore_dataset(style, videos, workdir, decoder))
    if no_overlap:
        run["actioncore-nooverlap"] = ours(actioncore_dataset(style, videos, workdir, overlap="off"))
    if threads > 1:
        decoder = f'{{type = "pyav", threads = {threads}}}'
        run[f"actioncore-threads{threads}"] = ours(actioncore_dataset(style, videos, workdir, decoder))
    return run


def check_shapes(run: dict[str, Callable[[int, int], object]], style: str) -> dict[str, tuple]:
    shapes = {name: tuple(np.asarray(r(0, 0)).shape) for name, r in run.items()}
    expected = (STYLES[style]["num_clips"], 3, 224, 224) if is_tsn(style) else (1, 3, 32, 224, 224)
    for name, shape in shapes.items():
        if shape != expected:
            raise SystemExit(f"{name} {style} output shape {shape}, expected {expected}")
    return shapes


class CountingDecoder:
    """Wraps a decoder and keeps its readers, to read their work counters afterwards."""

    def __init__(self, decoder):
        self.decoder = decoder
        self.readers = []

    def open(self, path):
        reader = self.decoder.open(path)
        self.readers.append(reader)
        return reader


def decoder_work(style: str, videos: list[Path], workdir: Path, clips: int) -> dict:
    """actioncore's frames decoded and seeks per clip, with and without skipping, untimed."""
    work: dict = {}
    for label, decoder in (("skipping", '"pyav"'),
                           ("no_skipping", '{type = "pyav", skip_nonref = false}')):
        dataset = actioncore_dataset(style, videos, workdir, decoder)
        dataset.decoder = counting = CountingDecoder(dataset.decoder)
        last = [int(dataset[(1, clip % len(videos))].frame_indices.max()) for clip in range(clips)]
        work[label] = {
            "frames_decoded": statistics.mean(r.frames_decoded for r in counting.readers),
            "seeks": statistics.mean(r.seeks for r in counting.readers),
        }
        work["from_start_frames"] = statistics.mean(last) + 1
    return work


# Load

BURNER = """
import os, sys
parent = int(sys.argv[1])
while os.getppid() == parent:  # the benchmark died without stopping us: stop
    for _ in range(200_000):
        pass
"""


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def cpu_burner(enabled: bool) -> Iterator[dict]:
    """With ``enabled``, a process spinning a pure-Python loop (one busy core) while the block runs.

    It is stopped when the block ends, on Ctrl-C and on errors too; killed outright, this process
    leaves it orphaned, and the burner stops itself when it sees its parent change. The dict
    yielded holds the burner's ``pid``, and is filled on exit with its CPU seconds, the block's
    wall-clock seconds and their ratio: the share of a core the burner had (below 1.0, other
    jobs took part of it).
    """
    report: dict = {}
    if not enabled:
        yield report
        return
    burner = subprocess.Popen([sys.executable, "-c", BURNER, str(os.getpid())])
    report["pid"] = burner.pid
    start = time.perf_counter()
    try:
        yield report
    finally:
        try:
            cpu = process_cpu_seconds(burner.pid)
        except OSError:  # it stopped already
            cpu = float("nan")
        burner.terminate()
        burner.wait()
        wall = time.perf_counter() - start
        report.update(burner_cpu_s=cpu, wall_s=wall, burner_core_share=cpu / wall)


# Timing


def measure(run: dict[str, Callable[[int, int], object]], *, clips: int, rounds: int) -> dict:
    """Clips/s per toolbox, overall and per round, in wall-clock and in CPU time.

    The toolboxes alternate clip by clip (the order rotating with each clip), so that load from
    other processes lands on all of them alike; a round is ``clips`` clips of each. CPU time is
    this process's, all threads (PyAV's default decoding threads and decord's helper thread
    included): steadier than wall-clock on a shared machine, though the bar is wall-clock.
    """
    names = list(run)
    wall = {name: [0.0] * rounds for name in names}
    cpu = {name: [0.0] * rounds for name in names}
    turn = 0
    for round_ in range(rounds):
        np.random.seed(1000 + round_)
        for clip in range(clips):
            # MMAction2 samples with the global NumPy generator: both of its pipelines draw
            # the same indices for a clip.
            state = np.random.get_state()
            turn += 1
            for name in names[turn % len(names):] + names[:turn % len(names)]:
                np.random.set_state(state)
                start, start_cpu = time.perf_counter(), time.process_time()
                run[name](round_ + 1, clip)
                wall[name][round_] += time.perf_counter() - start
                cpu[name][round_] += time.process_time() - start_cpu
    result: dict = {}
    for label, seconds in (("wall", wall), ("cpu", cpu)):
        rate = {name: clips * rounds / sum(values) for name, values in seconds.items()}
        per_round = {name: [clips / v for v in values] for name, values in seconds.items()}
        ratios = {}
        for peer in [name for name in names if name != "actioncore"]:
            each = [a / b for a, b in zip(per_round["actioncore"], per_round[peer])]
            ratios[peer] = {"overall": rate["actioncore"] / rate[peer],
                            "median_round": statistics.median(each),
                            "min_round": min(each), "max_round": max(each), "rounds": each}
        result[label] = {"clips_per_s": rate, "clips_per_s_rounds": per_round,
                         "ours_over": ratios}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8, help="number of videos (default 8)")
    parser.add_argument("--clips", type=int, default=16,
                        help="clips per toolbox per round and style (default 16)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--styles", default="tsn,slowfast", help="comma-separated: tsn (1x1x8), tsn3 (1x1x3), slowfast")
    parser.add_argument("--content", choices=("natural", "noise"), default="natural",
                        help="synthetic video content (see synthetic_video; default natural)")
    cache = os.path.join(tempfile.gettempdir(), f"actioncore_bench_videos_v{ENCODING_VERSION}")
    parser.add_argument("--cache", default=cache,
                        help="folder for the encoded videos, reused between runs")
    parser.add_argument("--decoder-threads", type=int, default=1, metavar="N",
                        help="also time actioncore with the pyav decoder's threads = N (FFmpeg frame threading)")
    parser.add_argument("--nocache", action="store_true",
                        help="also time actioncore with index_cache_frames = 0 (no packet-index cache)")
    parser.add_argument("--nooverlap", action="store_true",
                        help='also time actioncore with decode overlap = "off" (never a helper thread)')
    parser.add_argument("--noskip", action="store_true",
                        help="also time actioncore with skip_nonref = false")
    parser.add_argument("--busy", action="store_true",
                        help="keep one core busy with a CPU burner process beside the benchmark")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.json:
        # MMAction2's loggers print to stdout: keep stdout for the JSON document alone.
        stdout = os.fdopen(os.dup(sys.stdout.fileno()), "w")
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        import decord
        import mmaction
    except ImportError as exc:
        print(f"needs MMAction2 1.2.0 and decord on PYTHONPATH ({exc}); install them with "
              "shared/peers/setup.sh /tmp/peers and run with PYTHONPATH=/tmp/peers",
              file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    videos = cached_videos(args.videos, Path(args.cache), args.content)
    stats = {p.name: stream_stats(p) for p in videos}
    report: dict = {
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "videos": args.videos, "clips_per_round": args.clips, "rounds": args.rounds,
        "video": f"{WIDTH}x{HEIGHT} H.264 (x264 defaults), {FRAMES} frames, {args.content} content",
        "streams": stats,
        "versions": {"av": av.__version__, "torch": torch.__version__,
                     "mmaction2": mmaction.__version__, "decord": decord.__version__},
        "styles": {}, "loadavg_before": os.getloadavg(),
    }
    if not args.json:
        share = statistics.mean(s["nonref_share"] for s in stats.values())
        print(f"{args.videos} videos, {report['video']}: keyframes of the first at "
              f"{stats[videos[0].name]['keyframes']}, {share:.0%} non-reference frames")
        print(f"{args.clips} clips per toolbox per round, {args.rounds} rounds, one process\n")
    with tempfile.TemporaryDirectory() as tmp, cpu_burner(args.busy) as busy:
        for style in args.styles.split(","):
            run = runners(style, videos, Path(tmp), noskip=args.noskip, nocache=args.nocache, no_overlap=args.nooverlap,
                          threads=args.decoder_threads)
            check_shapes(run, style)
            for r in run.values():  # warm-up: page cache, lazy imports, first-call setup
                for clip in range(len(videos)):
                    r(0, clip)
            result = measure(run, clips=args.clips, rounds=args.rounds)
            result["decoder_work"] = decoder_work(style, videos, Path(tmp), args.clips)
            report["styles"][style] = result
            if not args.json:
                print_style(style, result)
    report.update(loadavg_after=os.getloadavg(), busy=busy or None)
    if not args.json:
        print(f"load average (1, 5, 15 min) before {report['loadavg_before']}, after {report['loadavg_after']}")
        if busy:
            print(f"CPU burner: {busy['burner_cpu_s']:.1f} CPU-s in {busy['wall_s']:.1f} s, "
                  f"{busy['burner_core_share']:.0%} of a core")
    if args.json:
        stdout.write(json.dumps(report, indent=2) + "\n")
        stdout.flush()
    return 0


def print_style(style: str, result: dict) -> None:
    label = LABELS[style]
    wall, cpu = result["wall"], result["cpu"]
    print(f"{label}: clips/s wall-clock (per round min-max), clips per CPU-second")
    for name, rate in wall["clips_per_s"].items():
        rounds = wall["clips_per_s_rounds"][name]
        print(f"  {name:<18}{rate:7.2f}  ({min(rounds):6.2f}-{max(rounds):6.2f})"
              f"   cpu {cpu['clips_per_s'][name]:7.2f}")
    for peer, r in wall["ours_over"].items():
        print(f"  actioncore / {peer:<18}{r['overall']:5.2f}x  (per round: median "
              f"{r['median_round']:.2f}, {r['min_round']:.2f}-{r['max_round']:.2f})   "
              f"cpu {cpu['ours_over'][peer]['overall']:5.2f}x")
    work = result["decoder_work"]
    print(f"  actioncore frames decoded per clip: {work['skipping']['frames_decoded']:.1f} "
          f"({work['no_skipping']['frames_decoded']:.1f} with skip_nonref = false; decoding from "
          f"frame 0 to the last wanted frame would take {work['from_start_frames']:.1f}); "
          f"seeks per clip {work['skipping']['seeks']:.2f}")
    print()


if __name__ == "__main__":
    sys.exit(main())
