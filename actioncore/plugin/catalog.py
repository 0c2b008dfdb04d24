"""Components provided by the plugins that live in this repository, for install hints.

When a config names a component no installed plugin provides, the error says which in-repo
distribution would. ``tests/test_catalog.py`` checks this table against what the in-repo
plugins really register, so it cannot drift.
"""
from __future__ import annotations

IN_REPO_PLUGINS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "actioncore-bsn": ("plugins/backbones/bsn", {
        "model": ("bsn_pem", "bsn_tem"),
        "task": ("bsn_pgm",),
        "dataset": ("bsn_proposals",),
        "decoder": ("bsn_proposals",),
        "transform": ("load_bsn_proposals",),
    }),
    "actioncore-cmr": ("plugins/backbones/cmr", {
        "backbone": ("resnet_cmr",),
    }),
    "actioncore-datasets": ("plugins/datasets/lists", {
        "dataset": ("cmr_list", "rawframe_list", "video_list"),
    }),
    "actioncore-recognition": ("plugins/tasks/recognition", {
        "task": ("recognition",),
        "model": ("recognizer2d", "recognizer3d"),
        "metric": ("mean_average_precision", "mean_class_accuracy", "mmit_mean_average_precision",
                   "top_k_accuracy"),
    }),
    "actioncore-detection": ("plugins/tasks/detection", {
        "task": ("detection",),
        "dataset": ("ava",),
        "transform": ("sample_ava_frames",),
        "metric": ("ava_frame_map",),
        "converter": ("ava_proposals",),
    }),
    "actioncore-tsn": ("plugins/backbones/resnet", {
        "backbone": ("resnet",),
    }),
    "actioncore-cls-heads": ("plugins/heads/cls_heads", {
        "head": ("gcn", "i3d", "slowfast", "timesformer", "trn", "tsm", "tsn", "x3d"),
    }),
    "actioncore-resnet3d": ("plugins/backbones/resnet3d", {
        "backbone": ("c3d", "resnet2plus1d", "resnet3d", "resnet3d_csn"),
    }),
    "actioncore-stgcn": ("plugins/backbones/stgcn", {
        "backbone": ("aagcn", "stgcn"),
    }),
    "actioncore-pose": ("plugins/datasets/pose", {
        "dataset": ("pose_records",),
        "decoder": ("pose_records",),
        "converter": ("pose",),
        "transform": ("format_gcn_input", "format_heatmap", "gen_ske_feat", "generate_pose_target",
                      "pose_center_crop", "pose_compact", "pose_decode", "pose_flip", "pose_random_resized_crop",
                      "pose_resize", "pre_normalize_2d", "pre_normalize_3d", "uniform_sample_frames"),
    }),
    "actioncore-skeleton": ("plugins/tasks/skeleton", {
        "task": ("skeleton",),
        "model": ("recognizer_gcn",),
    }),
    "actioncore-posec3d": ("plugins/backbones/posec3d", {
        "backbone": ("posec3d_slowonly",),
    }),
    "actioncore-slowfast": ("plugins/backbones/slowfast", {
        "backbone": ("resnet3d_slowfast",),
    }),
    "actioncore-ava-detector": ("plugins/backbones/ava_detector", {
        "model": ("ava_detector",),
        "head": ("acrn", "ava_bbox", "fbo"),
    }),
    "actioncore-x3d": ("plugins/backbones/x3d", {
        "backbone": ("x3d",),
    }),
    "actioncore-timesformer": ("plugins/backbones/timesformer", {
        "backbone": ("timesformer",),
    }),
    "actioncore-tsm": ("plugins/backbones/tsm", {
        "backbone": ("resnet_tin", "resnet_tsm", "tanet"),
    }),
    "actioncore-localization": ("plugins/tasks/localization", {
        "task": ("localization",),
        "dataset": ("activitynet",),
        "decoder": ("localization_features",),
        "transform": ("load_localization_feature",),
        "metric": ("AR@AN",),
    }),
    "actioncore-bmn": ("plugins/backbones/bmn", {
        "model": ("bmn",),
    }),
    "actioncore-toy3d": ("plugins/backbones/toy3d", {
        "backbone": ("toy3d",),
        "head": ("linear_head",),
    }),
}
"""distribution -> (folder in the repository, {kind: names})."""


def provider_of(kind: str, name: str) -> tuple[str, str] | None:
    """The in-repo distribution and its folder that register ``name`` in ``kind``, if any."""
    for distribution, (folder, provided) in IN_REPO_PLUGINS.items():
        if name in provided.get(kind, ()):
            return distribution, folder
    return None
