"""VideoMAE pre-training on the embedded set without labels, then fine-tuning from it."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import torch

import actioncore
from actioncore import load_config
from actioncore.sdk.data import synthesize
from actioncore.sdk.engine import load_weights
from actioncore_masked_video import cube_pixels, pixel_targets, tube_mask
from actioncore_videomae import VideoMAEPretrainer, VisionTransformer

pytestmark = [pytest.mark.usefixtures("torch_one_thread"), pytest.mark.actioncore_plugins(
    "actioncore_masked_video.hooks", "actioncore_videomae.hooks", "actioncore_lists.hooks",
    "actioncore_cls_heads.hooks", "actioncore_recognition.hooks")]

TINY = dict(embed_dims=32, depth=2, num_heads=2, img_size=32, patch_size=8, num_frames=4, tubelet_size=2)
BACKBONE = """
[model.backbone]
type = "videomae"
img_size = 32
patch_size = 8
embed_dims = 32
depth = 2
num_heads = 2
num_frames = 4
tubelet_size = 2
"""


EXAMPLE = (Path(__file__).resolve().parents[1] / "actioncore_masked_video" / "examples"
           / "videomae_vit_base_p16_pretrain_16x4_kinetics400.toml")


def test_full_size_pretraining_model_is_the_official_vit_b_with_its_decoder(actioncore_host):
    with torch.device("meta"):
        model = actioncore.build_model(load_config(EXAMPLE).model)
    count = sum(p.numel() for p in model.parameters())
    # encoder 86,227,200 (MMAction2's ViT-B backbone, norm instead of fc_norm); decoder side: 4 blocks
    # of width 384 (7,096,320) + norm (768) + head 384 -> 1536 (591,360) + encoder_to_decoder (294,912)
    # + mask token (384)
    assert sum(p.numel() for p in model.backbone.parameters()) == 86_227_200
    assert count == 94_210_944
    assert model.decoder.head.out_features == 3 * 2 * 16 * 16


def test_tube_mask_hides_the_ratio_in_every_slice_at_the_same_places():
    mask = tube_mask(batch=3, grid=(4, 14, 14), mask_ratio=0.9, generator=torch.Generator().manual_seed(0))
    assert mask.shape == (3, 4 * 196) and mask.dtype == torch.bool
    slices = mask.view(3, 4, 196)
    assert (slices.sum(dim=2) == int(0.9 * 196)).all()      # 176 of 196 per slice, as the official generator
    assert (slices == slices[:, :1]).all()                  # a tube: the same positions in every slice
    assert not torch.equal(slices[0, 0], slices[1, 0])      # each clip its own positions
    with pytest.raises(ValueError, match="at least one hidden and one visible"):
        tube_mask(batch=1, grid=(1, 2, 2), mask_ratio=0.2)


def test_normalised_pixel_target_is_the_closed_form():
    torch.manual_seed(0)
    video = torch.rand(2, 3, 4, 16, 16)
    targets = pixel_targets(video, tubelet_size=2, patch_size=8)
    assert targets.shape == (2, 2 * 2 * 2, 2 * 8 * 8 * 3)
    # cube (t=1, row=0, column=1) of clip 1 is token 1*4 + 0*2 + 1 = 5; values ordered (frame, y, x, channel)
    cube = video[1, :, 2:4, 0:8, 8:16].permute(1, 2, 3, 0).reshape(-1, 3)   # [128 pixels, 3 channels]
    mean = cube.sum(0) / 128
    std = ((cube - mean) ** 2).sum(0).div(127).sqrt()                      # unbiased
    expected = ((cube - mean) / (std + 1e-6)).reshape(-1)
    torch.testing.assert_close(targets[1, 5], expected)
    raw = pixel_targets(video, tubelet_size=2, patch_size=8, normalize=False)
    torch.testing.assert_close(raw[1, 5], cube.reshape(-1))
    assert torch.equal(cube_pixels(video, tubelet_size=2, patch_size=8)[1, 5], cube)


def test_the_decoder_learns_the_hidden_cubes_of_a_fixed_batch():
    """Below 127/128 (each normalised cube's mean square: the loss of predicting zeros) the
    predictions carry the hidden content, not only its mean."""
    torch.manual_seed(0)
    model = VideoMAEPretrainer(backbone=VisionTransformer(**TINY, use_mean_pooling=False),
                               decoder_embed_dims=16, decoder_depth=1, decoder_num_heads=2)
    video = 0.05 * torch.rand(4, 3, 4, 32, 32)
    for i in range(4):  # a coloured square moving down
        for t in range(4):
            video[i, :, t, 4 + 2 * t + i:14 + 2 * t + i, 6 + i:16 + i] += torch.tensor([0.9, 0.5, 0.2])[:, None, None]
    mask = tube_mask(batch=4, grid=(2, 4, 4), mask_ratio=0.75, generator=torch.Generator().manual_seed(1))
    targets = pixel_targets(video, tubelet_size=2, patch_size=8)
    targets = targets[mask].reshape(4, -1, targets.shape[2])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = torch.nn.functional.mse_loss(model((video - 0.45) / 0.25, mask), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 1.0 and losses[-1] < 0.95 < 127 / 128


@pytest.fixture(scope="module")
def unlabeled(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("unlabeled")
    synthesize("recognition", root, seed=0, size="tiny")
    lines = (root / "train.txt").read_text().splitlines()
    (root / "unlabeled.txt").write_text("".join(line.split()[0] + "\n" for line in lines))  # paths only
    return root


PIPELINE = """[
  {type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = 1},
  {type = "decode"},
  {type = "resize", scale = [32, 32], keep_ratio = false},
  {type = "normalize", mean = [123.675, 116.28, 103.53], std = [58.395, 57.12, 57.375]},
  {type = "format_shape", input_format = "NCTHW"},
]"""


def pretraining_toml(root: Path, work_dir: Path) -> str:
    return textwrap.dedent(f"""
        [task]
        type = "masked_video_pretraining"
        [model]
        type = "videomae_pretrainer"
        decoder_embed_dims = 16
        decoder_depth = 1
        decoder_num_heads = 2
    """) + BACKBONE + "use_mean_pooling = false\n" + textwrap.dedent(f"""
        [data]
        batch_size = 8
        workers = 0
        [data.train]
        type = "unlabeled_video_list"
        ann_file = "{root / 'unlabeled.txt'}"
        root = "{root / 'videos'}"
        pipeline = {textwrap.indent(PIPELINE, '        ').strip()}
        [optim]
        type = "adamw"
        lr = 0.002
        betas = [0.9, 0.95]
        weight_decay = 0.05
        [schedule]
        epochs = 2
        [runtime]
        work_dir = "{work_dir}"
        log_interval = 1
        deterministic = true
    """)


@pytest.fixture(scope="module")
def pretrained(unlabeled, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pretrain")
    path = folder / "pretrain.toml"
    path.write_text(pretraining_toml(unlabeled, folder / "wd"))
    actioncore.run(load_config(path))
    return folder / "wd"


def test_pretraining_on_unlabeled_videos_lowers_the_loss(pretrained):
    rows = [json.loads(line) for line in (pretrained / "log.jsonl").read_text().splitlines()]
    losses = [row["loss"] for row in rows if "loss" in row and row.get("mode", "train") == "train"]
    assert len(losses) == 12  # 48 clips / 8 x 2 epochs
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.03  # measured: 1.056 -> 1.000
    assert (pretrained / "checkpoints" / "latest.pth").is_file()


def test_fine_tuning_loads_the_pretrained_encoder(pretrained, tmp_path):
    checkpoint = pretrained / "checkpoints" / "latest.pth"
    from actioncore.sdk.weights import read_weights

    state = read_weights(checkpoint)
    fine = tmp_path / "fine.toml"
    fine.write_text('[task]\ntype = "recognition"\n[model]\ntype = "recognizer3d"\n' + BACKBONE
                    + '[model.head]\ntype = "timesformer"\nnum_classes = 12\nin_channels = 32\n')
    model = actioncore.build_model(load_config(fine).model)
    notes = load_weights(model, checkpoint, strict=False)  # what runtime.load_from does
    own = model.state_dict()
    encoder = [k for k in state if k.startswith("backbone.") and k in own]
    assert len(encoder) == len([k for k in own if k.startswith("backbone.")]) - 2  # all but fc_norm
    assert all(torch.equal(own[k], state[k]) for k in encoder)
    assert any("backbone.fc_norm.weight" in n for n in notes) and any("decoder." in n for n in notes)
    # the same through the backbone's ``pretrained`` key
    exp = load_config(fine, [f'model.backbone.pretrained="{checkpoint}"'])
    again = actioncore.build_model(exp.model)
    assert torch.equal(again.state_dict()["backbone.blocks.1.attn.qkv.weight"], state["backbone.blocks.1.attn.qkv.weight"])


def test_pipeline_without_device_normalisation_is_refused(unlabeled, tmp_path):
    text = pretraining_toml(unlabeled, tmp_path / "wd")
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('input_format = "NCTHW"', 'input_format = "NCHW"'))
    with pytest.raises(actioncore.sdk.ConfigError, match="NCTHW"):
        actioncore.run(load_config(path))


def test_info_and_bench_run_the_pretrainer_on_clips_and_a_mask(unlabeled, tmp_path, capsys):
    from actioncore.cli import main

    path = tmp_path / "pretrain.toml"
    path.write_text(pretraining_toml(unlabeled, tmp_path / "wd"))
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["input_shape"] == [1, 3, 4, 32, 32] and info["flops"] > 0
    assert main(["bench", "model", str(path), "--iterations", "1", "--json"]) == 0
    bench = json.loads(capsys.readouterr().out)
    assert bench["train_clips_per_s"] > 0 and bench["infer_clips_per_s"] > 0
    # the forward counted is pre-training's: with a 0.9 mask it encodes a tenth of the cubes
    assert main(["info", str(path), "--json", "--set", "task.mask_ratio=0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["flops"] > info["flops"]
