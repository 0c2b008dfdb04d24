"""The ``bsn_pgm`` task: BSN's proposal generation step, run by ``actioncore run``.

It has no model to train: it reads the TEM result of every video of the annotation files (what
the TEM experiment's test pass wrote, one CSV a video), generates candidate proposals with their
reference IoU, and writes them and their BSP features where the PEM experiment's
``bsn_proposals`` dataset reads them (``{output_dir}/pgm_proposals/{video}.csv`` and
``{output_dir}/pgm_features/{video}.npy``, MMAction2's layout).
"""
from __future__ import annotations

import itertools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from actioncore.sdk import ConfigError, Experiment, get_logger
from actioncore_localization import VideoAnnotation, read_activitynet

from .files import FEATURES_DIR, PROPOSALS_DIR, ProposalTable, read_tem_result, write_bsp_features, write_proposals
from .pgm import BSPSampling, best_overlaps, bsp_features, candidate_proposals

log = get_logger()

RECALL_IOUS = (0.5, 0.7, 0.9)
COUNTS = 3 + len(RECALL_IOUS)
"""Per video: 1, candidates, ground-truth segments, segments matched at each of RECALL_IOUS."""


def video_proposals(action: np.ndarray, start: np.ndarray, end: np.ndarray, annotation: VideoAnnotation, *,
                    peak_threshold: float, top_k: int, sampling: BSPSampling) -> tuple[ProposalTable, np.ndarray]:
    """One video's candidate proposals (all of them, best first, with IoU/IoA against its ground
    truth) and the BSP features of the best ``top_k``."""
    candidates = candidate_proposals(start, end, peak_threshold=peak_threshold)
    # PGM's reference IoU uses the segments unclipped (MMAction2 does the same)
    ground_truth = annotation.segments / annotation.feature_second
    iou, ioa = best_overlaps(candidates.tmin, candidates.tmax, ground_truth)
    table = ProposalTable(tmin=candidates.tmin, tmax=candidates.tmax, tmin_score=candidates.tmin_score,
                          tmax_score=candidates.tmax_score, score=candidates.score, match_iou=iou, match_ioa=ioa)
    features = bsp_features(action, candidates.tmin[:top_k], candidates.tmax[:top_k], sampling)
    return table, features


class ProposalGenerationTask:
    """``[task] type = "bsn_pgm"``: candidate proposals and BSP features from TEM results.

    :param tem_results_dir: the TEM experiment's test outputs (``{video_name}.csv`` files).
    :param ann_files: ActivityNet annotation files whose videos get proposals (train and val).
    :param output_dir: where ``pgm_proposals/`` and ``pgm_features/`` go; empty: the work dir.
    :param peak_threshold: a location is a boundary candidate at a local maximum or above this
        fraction of the video's highest start (end) probability.
    :param top_k: BSP features are computed for the best ``top_k`` proposals of each video (the
        PEM data step reads at most that many).
    :param num_sample_start, num_sample_end, num_sample_action, num_sample_interp,
        bsp_boundary_ratio: the BSP feature's sampling (see :class:`BSPSampling`).
    :param workers: processes sharing the videos (MMAction2's ``pgm_*_thread``); 0 runs them here.

    ``run`` returns, per annotation file and over all, the number of videos, the mean number of
    candidates a video and the share of ground-truth segments that some candidate matches at
    tIoU 0.5, 0.7 and 0.9: an upper bound on what PEM's ranking can recall.
    """

    def __init__(self, *, tem_results_dir: str, ann_files: list[str], output_dir: str = "",
                 peak_threshold: float = 0.5, top_k: int = 1000, num_sample_start: int = 8,
                 num_sample_end: int = 8, num_sample_action: int = 16, num_sample_interp: int = 3,
                 bsp_boundary_ratio: float = 0.2, workers: int = 0):
        if not ann_files:
            raise ConfigError("task.ann_files: name at least one annotation file to generate proposals for")
        if workers < 0:
            raise ConfigError(f"task.workers must be 0 (this process) or more, got {workers}")
        if top_k < 1:
            raise ConfigError(f"task.top_k must be positive, got {top_k}")
        if min(num_sample_start, num_sample_end, num_sample_action) < 2 or num_sample_interp < 1:
            raise ConfigError("task.num_sample_start/end/action must be at least 2 and num_sample_interp at least 1")
        self.tem_results_dir = Path(tem_results_dir)
        self.ann_files = list(ann_files)
        self.output_dir = output_dir
        self.peak_threshold = peak_threshold
        self.top_k = top_k
        self.workers = workers
        self.sampling = BSPSampling(num_sample_start=num_sample_start, num_sample_end=num_sample_end,
                                    num_sample_action=num_sample_action, num_sample_interp=num_sample_interp,
                                    bsp_boundary_ratio=bsp_boundary_ratio)

    def run(self, experiment: Experiment, *, resume: bool = False) -> dict[str, float]:
        """Generate and write proposals for every video; ``resume`` changes nothing (it is idempotent)."""
        out = Path(self.output_dir or experiment.runtime.work_dir)
        metrics: dict[str, float] = {}
        totals = np.zeros(COUNTS)
        for ann_file in self.ann_files:
            counts = self.generate(read_activitynet(ann_file), out)
            metrics.update(self._summary(Path(ann_file).stem, counts))
            totals += counts
        metrics.update(self._summary("all", totals))
        log.info("PGM wrote %d videos' proposals to %s and features to %s", int(totals[0]),
                 out / PROPOSALS_DIR, out / FEATURES_DIR)
        return metrics

    def generate(self, annotations: list[VideoAnnotation], out: Path) -> np.ndarray:
        """Write every video's outputs (in ``workers`` processes when above 0); the summed counts."""
        if self.workers == 0:
            return np.sum([self.generate_video(a, out) for a in annotations], axis=0)
        with ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            rows = list(pool.map(self.generate_video, annotations, itertools.repeat(out), chunksize=16))
        return np.sum(rows, axis=0)

    def generate_video(self, annotation: VideoAnnotation, out: Path) -> np.ndarray:
        """Write one video's proposals and features; its counts (1, candidates, ground-truth
        segments, segments matched at each of :data:`RECALL_IOUS`)."""
        tem = read_tem_result(self.tem_results_dir / f"{annotation.video_name}.csv")
        table, features = video_proposals(tem.action, tem.start, tem.end, annotation,
                                          peak_threshold=self.peak_threshold, top_k=self.top_k,
                                          sampling=self.sampling)
        write_proposals(out / PROPOSALS_DIR / f"{annotation.video_name}.csv", table)
        write_bsp_features(out / FEATURES_DIR / f"{annotation.video_name}.npy", features)
        counts = np.zeros(COUNTS)
        counts[:3] = 1, len(table), len(annotation.segments)
        if len(annotation.segments):
            gt = annotation.segments / annotation.feature_second
            best, _ = best_overlaps(gt[:, 0], gt[:, 1], np.stack([table.tmin, table.tmax], axis=1))
            counts[3:] = [(best >= iou).sum() for iou in RECALL_IOUS]
        return counts

    @staticmethod
    def _summary(prefix: str, counts: np.ndarray) -> dict[str, float]:
        videos, candidates, segments = counts[:3]
        summary = {f"{prefix}/videos": float(videos), f"{prefix}/candidates_per_video": candidates / max(videos, 1)}
        for iou, matched in zip(RECALL_IOUS, counts[3:]):
            summary[f"{prefix}/candidate_recall@{iou}"] = matched / max(segments, 1)
        return summary
