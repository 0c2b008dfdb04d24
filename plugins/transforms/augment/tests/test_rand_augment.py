"""rand_augment: every op against PIL on a frame, one draw per clip, the mask and the boxes."""
from __future__ import annotations

import numpy as np
import PIL.Image as Image
import PIL.ImageDraw as ImageDraw
import PIL.ImageEnhance as ImageEnhance
import PIL.ImageOps as ImageOps
import pytest
import torch

from actioncore.sdk import ConfigError

from actioncore_augment.rand_augment import (BOXES_DROPPED, FILL_COLOR, OPS, OPS_BY_NAME, Draw, RandAugment,
                                             apply_op)

pytestmark = pytest.mark.actioncore_plugins("actioncore_augment.hooks")


def pil_reference(name: str, img: Image.Image, v: float, negative: bool, centre: tuple[float, float]) -> Image.Image:
    """video-data-aug's op on a PIL image (its rand_augment.py, with the same fill)."""
    s = -1 if negative else 1
    w, h = img.size
    affine = {"ShearX": (1, s * v, 0, 0, 1, 0), "ShearY": (1, 0, 0, s * v, 1, 0),
              "TranslateX": (1, 0, s * v * w, 0, 1, 0), "TranslateY": (1, 0, 0, 0, 1, s * v * h)}
    if name in affine:
        return img.transform(img.size, Image.AFFINE, affine[name], fillcolor=FILL_COLOR)
    if name == "CutoutAbs":
        x0, y0 = int(max(0, centre[0] - v / 2.0)), int(max(0, centre[1] - v / 2.0))
        out = img.copy()
        ImageDraw.Draw(out).rectangle((x0, y0, min(w, x0 + v), min(h, y0 + v)), FILL_COLOR)
        return out
    return {
        "Identity": lambda: img,
        "AutoContrast": lambda: ImageOps.autocontrast(img),
        "Equalize": lambda: ImageOps.equalize(img),
        "Rotate": lambda: img.rotate(s * v, fillcolor=FILL_COLOR),
        "Solarize": lambda: ImageOps.solarize(img, v),
        "Color": lambda: ImageEnhance.Color(img).enhance(v),
        "Contrast": lambda: ImageEnhance.Contrast(img).enhance(v),
        "Brightness": lambda: ImageEnhance.Brightness(img).enhance(v),
        "Sharpness": lambda: ImageEnhance.Sharpness(img).enhance(v),
        "Posterize": lambda: ImageOps.posterize(img, int(v)),
    }[name]()


# (largest |difference| in any channel, fraction of pixels allowed to differ at all)
TOLERANCE = {
    "AutoContrast": (1, 1.0),  # torchvision scales in float and truncates, PIL through an int LUT
    "Color": (1, 1.0),         # PIL's integer luma vs torchvision's float weights
    "Contrast": (1, 1.0),      # PIL blends with the rounded mean gray, torchvision with the exact mean
    "Rotate": (255, 0.005),    # nearest-neighbour ties at a handful of pixels
}


@pytest.mark.parametrize("magnitude", [10, 30])
@pytest.mark.parametrize("negative", [False, True])
@pytest.mark.parametrize("name", [op.name for op in OPS])
def test_each_op_matches_pil(name, negative, magnitude, image):
    img = image()
    op = OPS_BY_NAME[name]
    centre = (50.3, 7.9)
    frames = torch.from_numpy(img).permute(2, 0, 1)[None]
    out, _ = apply_op(op, frames, magnitude=magnitude, draw=Draw(negative, centre), fill=FILL_COLOR)
    ours = out[0].permute(1, 2, 0).numpy().astype(int)
    ref = np.asarray(pil_reference(name, Image.fromarray(img), op.value(magnitude), negative, centre)).astype(int)
    largest, fraction = TOLERANCE.get(name, (0, 0.0))
    diff = np.abs(ours - ref)
    assert diff.max() <= largest
    assert (diff.max(-1) > 0).mean() <= fraction
    if name != "Identity" and not (name in ("Solarize", "Posterize") and magnitude == 30):  # 256, 8 bits: no-ops
        assert (ref != img).any(), "the reference op changed nothing: the comparison would prove nothing"


def test_values_at_magnitude_10_are_the_originals():
    values = {op.name: op.value(10) for op in OPS}
    assert values["Rotate"] == pytest.approx(10)
    assert values["Solarize"] == pytest.approx(256 / 3)
    assert values["Color"] == values["Sharpness"] == pytest.approx(0.35)
    assert values["ShearX"] == values["TranslateY"] == pytest.approx(0.1)
    assert int(values["Posterize"]) == 5
    assert values["CutoutAbs"] == pytest.approx(112 / 3)
    assert len(OPS) == 15


def test_one_draw_for_all_frames(clip_sample):
    step = RandAugment(num_ops=2, magnitude=10)
    for seed in range(12):
        sample = clip_sample(seed)
        before = sample.frames.clone()
        out = step(sample)
        ops = [OPS_BY_NAME[name] for name in out.meta["rand_augment"]["ops"]]
        draw = Draw(out.meta["rand_augment"]["negative"], out.meta["rand_augment"]["centre"])
        for n in range(before.shape[0]):  # each frame on its own, with the clip's draw, gives the same
            x = before[n].permute(2, 0, 1)[None]
            for op in ops:
                x, _ = apply_op(op, x, magnitude=10, draw=draw, fill=FILL_COLOR)
            assert torch.equal(out.frames[n], x[0].permute(1, 2, 0))


def test_draws_come_from_the_sample_rng_with_replacement(clip_sample):
    step = RandAugment(num_ops=2)
    draws = [tuple(step(clip_sample(seed)).meta["rand_augment"]["ops"]) for seed in range(120)]
    assert draws == [tuple(step(clip_sample(seed)).meta["rand_augment"]["ops"]) for seed in range(120)]
    assert any(a == b for a, b in draws)  # with replacement
    assert len({name for pair in draws for name in pair}) == 15
    centres = [step(clip_sample(seed)).meta["rand_augment"]["centre"] for seed in range(120)]
    xs = np.array([c[0] for c in centres])
    assert 1 <= xs.min() and xs.max() <= 64  # np.random.uniform(W): uniform on (1, W]


def test_mask_follows_geometric_ops_and_cutout_only(clip_sample):
    sample = clip_sample()
    mask = sample.person_mask[:, None]
    frames = sample.frames.permute(0, 3, 1, 2)
    draw = Draw(False, (10.0, 20.0))
    for name in ("Rotate", "TranslateX", "ShearY", "CutoutAbs"):
        _, moved = apply_op(OPS_BY_NAME[name], frames, magnitude=10, draw=draw, fill=FILL_COLOR, mask=mask)
        assert not torch.equal(moved, mask) and set(moved.unique().tolist()) <= {0, 1}
    _, moved = apply_op(OPS_BY_NAME["TranslateX"], frames, magnitude=10, draw=draw, fill=FILL_COLOR, mask=mask)
    assert torch.equal(moved[..., :, 8 - 6:24 - 6], mask[..., :, 8:24])  # 0.1 * 64 = 6.4 px to the left
    for name in ("Equalize", "Solarize", "Brightness", "Posterize"):
        _, same = apply_op(OPS_BY_NAME[name], frames, magnitude=10, draw=draw, fill=FILL_COLOR, mask=mask)
        assert torch.equal(same, mask)


def test_boxes_are_dropped_after_a_geometric_op(clip_sample):
    seen = set()
    for seed in range(60):
        sample = clip_sample(seed)
        sample.boxes = [np.array([[8, 12, 24, 30]], np.float32)] * 4
        out = RandAugment(num_ops=1)(sample)
        (name,) = out.meta["rand_augment"]["ops"]
        geometric = OPS_BY_NAME[name].geometric
        assert (out.boxes is None) == geometric
        assert (BOXES_DROPPED in out.meta) == geometric
        seen.add(geometric)
    assert seen == {True, False}


def test_bad_parameters_and_placement(clip_sample):
    with pytest.raises(ValueError, match="magnitude"):
        RandAugment(magnitude=31)
    with pytest.raises(ValueError, match="num_ops"):
        RandAugment(num_ops=-1)
    sample = clip_sample()
    sample.meta["input_format"] = "NCTHW"
    with pytest.raises(ConfigError, match="before format_shape"):
        RandAugment()(sample)
