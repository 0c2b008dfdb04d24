"""Clip transforms: MMAction2 arithmetic, geometry fused into one resample, uint8 to the end."""
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from actioncore.data.geometry import Geometry
from actioncore.data.pipeline import Pipeline, materialize
from actioncore.data.sample import VideoSample
from actioncore.builtin.transforms import (
    TRANSFORMS, CenterCrop, ColorJitter, Flip, FormatShape, MultiScaleCrop, Normalize, RandomCrop,
    RandomRescale, RandomResizedCrop, Resize, TenCrop, ThreeCrop, collate, normalize_on_device,
)
from actioncore.errors import ConfigError, DataError


def coord_frames(n: int = 2, h: int = 48, w: int = 64) -> torch.Tensor:
    """uint8 [n, h, w, 3] whose pixel (t, y, x) holds (x, y, t), so output shows its source."""
    t, y, x = torch.meshgrid(torch.arange(n), torch.arange(h), torch.arange(w), indexing="ij")
    return torch.stack([x, y, t], dim=-1).to(torch.uint8)


def ramp_frames(n: int = 2, h: int = 48, w: int = 64) -> torch.Tensor:
    """Smooth linear content, which bilinear resampling reproduces up to rounding."""
    y, x = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    frame = torch.stack([3 * x, 4 * y, x + y], dim=-1).clamp(0, 255).to(torch.uint8)
    return frame.expand(n, h, w, 3).clone()


def make(frames: torch.Tensor, seed: int = 0, **kwargs) -> VideoSample:
    kwargs.setdefault("clip_len", frames.shape[0] // kwargs.get("num_clips", 1))
    return VideoSample("clip.mp4", frames=frames, rng=np.random.default_rng(seed), **kwargs)


def eager(steps, sample: VideoSample) -> VideoSample:
    """Apply each step and resample right away, as MMAction2 does without lazy ops."""
    for step in steps:
        sample = materialize(step(sample))
    return sample


@pytest.fixture
def interpolate_calls(monkeypatch):
    calls = []
    real = F.interpolate

    def spy(*args, **kwargs):
        calls.append(kwargs.get("size"))
        return real(*args, **kwargs)

    monkeypatch.setattr(F, "interpolate", spy)
    return calls


@pytest.mark.parametrize(
    ("hw", "scale", "keep_ratio", "expected"),
    [
        ((48, 64), (-1, 32), True, (32, 43)),
        ((64, 48), (-1, 32), True, (43, 32)),
        ((50, 64), (32, -1), True, (32, 41)),
        ((720, 1280), (-1, 256), True, (256, 455)),
        ((256, 340), (340, 256), True, (256, 340)),
        ((48, 64), (100, 24), True, (24, 32)),
        ((48, 64), (40, 100), True, (40, 53)),
        ((48, 64), (30, 20), False, (20, 30)),
    ],
)
def test_resize_follows_mmaction2_rescale_rule(hw, scale, keep_ratio, expected):
    step = Resize(scale=scale, keep_ratio=keep_ratio)
    assert step.output_size(*hw) == expected
    if hw[0] <= 64:
        out = Pipeline([step])(make(coord_frames(1, *hw)))
        assert tuple(out.frames.shape) == (1, *expected, 3)


@pytest.mark.parametrize("kwargs", [dict(scale=(-1, -1)), dict(scale=(0, 32)),
                                    dict(scale=(-1, 32), keep_ratio=False)])
def test_resize_rejects_bad_scale(kwargs):
    with pytest.raises(ValueError):
        Resize(**kwargs)


def test_random_rescale_draws_every_short_side_in_range_and_keeps_the_ratio():
    sides = set()
    for seed in range(60):
        out = Pipeline([RandomRescale(scale_range=(20, 23))])(make(coord_frames(1, 48, 64), seed)).frames
        height, width = out.shape[1:3]
        assert width == int(64 * height / 48 + 0.5)
        sides.add(height)
    assert sides == {20, 21, 22, 23}
    with pytest.raises(ValueError, match="scale_range"):
        RandomRescale(scale_range=(32, 32))


def test_center_crop_takes_the_middle_pixels():
    out = Pipeline([CenterCrop(crop_size=(20, 10))])(make(coord_frames())).frames
    assert out.shape == (2, 10, 20, 3)
    assert torch.equal(out[0, 0, :, 0], torch.arange(22, 42, dtype=torch.uint8))
    assert torch.equal(out[0, :, 0, 1], torch.arange(19, 29, dtype=torch.uint8))
    assert torch.equal(out[:, 0, 0, 2], torch.tensor([0, 1], dtype=torch.uint8))


def test_random_crop_pixels_match_its_box_and_cover_every_offset():
    seen = set()
    for seed in range(150):
        out = Pipeline([RandomCrop(size=32)])(make(coord_frames(1, 36, 40), seed)).frames[0]
        x, y = int(out[0, 0, 0]), int(out[0, 0, 1])
        xs, ys = (torch.arange(32) + x).to(torch.uint8), (torch.arange(32) + y).to(torch.uint8)
        assert torch.equal(out[..., 0], xs.expand(32, 32))
        assert torch.equal(out[..., 1], ys[:, None].expand(32, 32))
        seen.add((x, y))
    assert {x for x, _ in seen} == set(range(9)) and {y for _, y in seen} == set(range(5))


def test_multi_scale_crop_uses_the_five_fixed_offsets():
    step = MultiScaleCrop(input_size=100, scales=(0.5,))
    seen = set()
    for seed in range(40):
        out = Pipeline([step])(make(coord_frames(1), seed)).frames[0]
        assert out.shape == (24, 24, 3)
        seen.add((int(out[0, 0, 0]), int(out[0, 0, 1])))
    assert seen == {(0, 0), (40, 0), (0, 24), (40, 24), (20, 12)}


def test_multi_scale_crop_snaps_sides_near_input_size_and_respects_scale_gap():
    out = Pipeline([MultiScaleCrop(input_size=(30, 22), scales=(0.5,))])(make(coord_frames(1)))
    assert out.frames.shape == (1, 22, 24, 3)
    step = MultiScaleCrop(input_size=100, scales=(1.0, 0.5, 0.25), max_wh_scale_gap=1)
    boxes = [step.crop_box(48, 64, np.random.default_rng(s)) for s in range(200)]
    sizes = {(x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes}
    assert sizes == {(48, 48), (24, 48), (48, 24), (24, 24), (12, 24), (24, 12), (12, 12)}


def test_random_resized_crop_box_obeys_ranges_and_falls_back_to_center_square():
    step = RandomResizedCrop(area_range=(0.25, 0.5), aspect_ratio_range=(0.75, 1.25))
    for seed in range(30):
        out = Pipeline([step])(make(coord_frames(1), seed)).frames[0]
        h, w = out.shape[:2]
        assert 0.25 * 3072 - 60 <= h * w <= 0.5 * 3072 + 60
        assert 0.75 - 0.1 <= w / h <= 1.25 + 0.1
        x, y = int(out[0, 0, 0]), int(out[0, 0, 1])
        assert x + w <= 64 and y + h <= 48 and int(out[-1, -1, 0]) == x + w - 1
    never_fits = RandomResizedCrop(area_range=(1.0, 1.0), aspect_ratio_range=(2.0, 2.0))
    out = Pipeline([never_fits])(make(coord_frames(1))).frames[0]
    assert out.shape == (48, 48, 3)
    assert torch.equal(out[0, :, 0], torch.arange(8, 56, dtype=torch.uint8))


def test_fused_geometry_equals_eager_ops_within_rounding():
    steps = [Resize(scale=(-1, 40)), MultiScaleCrop(input_size=32, scales=(1, 0.875, 0.75)),
             Resize(scale=(24, 24), keep_ratio=False), Flip(flip_ratio=1.0)]
    for seed in range(5):
        fused = Pipeline(steps)(make(ramp_frames(), seed)).frames
        stepwise = eager(steps, make(ramp_frames(), seed)).frames
        diff = (fused.int() - stepwise.int()).abs()
        assert fused.shape == stepwise.shape == (2, 24, 24, 3)
        assert diff.max() <= 3 and diff.float().mean() < 1.5


def test_fused_crops_and_flips_equal_eager_exactly():
    steps = [CenterCrop(crop_size=40), RandomCrop(size=30), Flip(flip_ratio=1.0),
             CenterCrop(crop_size=(20, 16)), Flip(flip_ratio=1.0, direction="vertical"),
             RandomCrop(size=12)]
    for seed in range(5):
        fused = Pipeline(steps)(make(coord_frames(), seed)).frames
        assert torch.equal(fused, eager(steps, make(coord_frames(), seed)).frames)
    assert fused.shape == (2, 12, 12, 3)


def test_lazy_chain_resamples_once(interpolate_calls):
    steps = [Resize(scale=(-1, 40)), MultiScaleCrop(input_size=32, scales=(1, 0.875)),
             Resize(scale=(24, 24), keep_ratio=False), Flip(flip_ratio=1.0),
             Normalize(mean=(1.0, 2.0, 3.0), std=(1.0, 1.0, 1.0)), FormatShape(input_format="NCHW")]
    out = Pipeline(steps)(make(ramp_frames()))
    assert interpolate_calls == [(24, 24)]
    assert out.frames.shape == (2, 3, 24, 24)
    interpolate_calls.clear()
    eager(steps[:3], make(ramp_frames()))
    assert len(interpolate_calls) == 2


def test_multi_view_crops_resample_once_per_view(interpolate_calls):
    out = Pipeline([Resize(scale=(-1, 32)), ThreeCrop(crop_size=32)])(make(coord_frames()))
    assert len(interpolate_calls) == 3 and out.frames.shape == (6, 32, 32, 3)
    interpolate_calls.clear()
    out = Pipeline([Resize(scale=(-1, 32)), TenCrop(crop_size=16)])(make(coord_frames()))
    assert len(interpolate_calls) == 5 and out.frames.shape == (20, 16, 16, 3)


def test_three_crop_positions_and_count():
    out = Pipeline([ThreeCrop(crop_size=48)])(make(coord_frames(2, 48, 64)))
    assert out.num_crops == 3 and out.frames.shape == (6, 48, 48, 3)
    assert out.frames[::2, 0, 0, 0].tolist() == [0, 16, 8]
    assert out.frames[:, 0, 0, 2].tolist() == [0, 1] * 3
    tall = Pipeline([ThreeCrop(crop_size=48)])(make(coord_frames(1, 64, 48)))
    assert tall.frames[:, 0, 0, 1].tolist() == [0, 16, 8]
    with pytest.raises(DataError, match="clip.mp4"):
        Pipeline([ThreeCrop(crop_size=40)])(make(coord_frames()))


def test_ten_crop_positions_mirrors_and_count():
    out = Pipeline([TenCrop(crop_size=(24, 16))])(make(coord_frames(1, 48, 64)))
    assert out.num_crops == 10 and out.frames.shape == (10, 16, 24, 3)
    corners = [(0, 0), (40, 0), (0, 32), (40, 32), (20, 16)]
    for k, (x, y) in enumerate(corners):
        view, mirror = out.frames[2 * k], out.frames[2 * k + 1]
        assert torch.equal(view[0, :, 0], torch.arange(x, x + 24, dtype=torch.uint8))
        assert torch.equal(mirror, view.flip(1)) and int(view[0, 0, 1]) == y


def test_flip_mirrors_pixels_and_remaps_labels():
    label_map = {3: 4, 4: 3}
    out = Pipeline([Flip(flip_ratio=1.0, flip_label_map=label_map)])(make(coord_frames(), label=3))
    assert out.label == 4 and out.meta["flip"] is True
    assert torch.equal(out.frames[0, 0, :, 0], torch.arange(63, -1, -1, dtype=torch.uint8))
    flip = Flip(flip_ratio=1.0, flip_label_map=label_map)
    assert flip(make(coord_frames(), label=7)).label == 7
    assert flip(make(coord_frames(), label=(3, 7))).label == (4, 7)
    kept = Pipeline([Flip(flip_ratio=0.0, flip_label_map=label_map)])(make(coord_frames(), label=3))
    assert kept.label == 3 and torch.equal(kept.frames, coord_frames())
    down = Pipeline([Flip(flip_ratio=1.0, direction="vertical")])(make(coord_frames()))
    assert torch.equal(down.frames[0, :, 0, 1], torch.arange(47, -1, -1, dtype=torch.uint8))


def test_flip_of_flow_negates_horizontal_motion():
    flow = torch.empty(1, 8, 8, 2, dtype=torch.uint8)
    flow[..., 0], flow[..., 1] = 10, 20
    flow[:, :, 0, 0] = 0
    out = Pipeline([Flip(flip_ratio=1.0)])(make(flow, modality="Flow")).frames
    assert out[0, 0, :, 0].tolist() == [245] * 7 + [255] and out[..., 1].eq(20).all()


def test_geometry_maps_boxes_with_the_pixels():
    sample = make(coord_frames(1))
    for step in (Resize(scale=(-1, 24)), CenterCrop(crop_size=16), Flip(flip_ratio=1.0)):
        sample = step(sample)
    assert sample.geometry.size == (16, 16)
    boxes = sample.geometry.transform_boxes(np.array([[20.0, 10.0, 40.0, 30.0]]))
    np.testing.assert_allclose(boxes, [[4.0, 1.0, 14.0, 11.0]])


def test_crop_larger_than_frame_names_the_video():
    with pytest.raises(DataError, match="clip.mp4"):
        Pipeline([RandomCrop(size=50)])(make(coord_frames()))
    with pytest.raises(DataError, match="clip.mp4"):
        Pipeline([CenterCrop(crop_size=(65, 10))])(make(coord_frames()))


def five_d(num_clips: int, clip_len: int) -> VideoSample:
    frames = coord_frames(num_clips * clip_len, 32, 40)
    return make(frames, num_clips=num_clips, clip_len=clip_len)


def test_format_shape_nchw_with_clips_and_crops():
    out = Pipeline([ThreeCrop(crop_size=32), FormatShape(input_format="NCHW")])(five_d(2, 3))
    assert out.frames.shape == (18, 3, 32, 32) and out.frames.dtype == torch.uint8
    assert out.frames.is_contiguous() and out.meta["input_shape"] == (18, 3, 32, 32)
    assert out.frames[:, 2, 0, 0].tolist() == list(range(6)) * 3
    assert out.frames[::6, 0, 0, 0].tolist() == [0, 8, 4]


def test_format_shape_ncthw_with_clips_and_crops():
    out = Pipeline([ThreeCrop(crop_size=32), FormatShape(input_format="NCTHW")])(five_d(2, 3))
    assert out.frames.shape == (6, 3, 3, 32, 32)
    assert (out.num_crops, out.num_clips, out.clip_len) == (3, 2, 3)
    assert out.frames[:, 2, :, 0, 0].tolist() == [[0, 1, 2], [3, 4, 5]] * 3
    assert out.frames[:, 0, 0, 0, 0].tolist() == [0, 0, 8, 8, 4, 4]
    one = Pipeline([FormatShape(input_format="NCTHW", collapse=True)])(five_d(1, 4))
    assert one.frames.shape == (3, 4, 32, 40)


def test_format_shape_flow_interleaves_time_and_xy():
    flow = torch.arange(4).view(4, 1, 1, 1).expand(4, 8, 8, 2).clone().to(torch.uint8)
    flow[..., 1] += 100
    out = FormatShape(input_format="NCHW_Flow")(make(flow, num_clips=2, clip_len=2)).frames
    assert out.shape == (2, 4, 8, 8)
    assert out[:, :, 0, 0].tolist() == [[0, 100, 1, 101], [2, 102, 3, 103]]


def test_format_shape_nptchw_groups_frames_by_proposal():
    sample = make(coord_frames(4, 8, 8), num_clips=1, clip_len=2)
    sample.meta["num_proposals"] = 2
    out = FormatShape(input_format="NPTCHW")(sample).frames
    assert out.shape == (2, 2, 3, 8, 8) and out[:, :, 2, 0, 0].tolist() == [[0, 1], [2, 3]]


def test_format_shape_rejects_inconsistent_counts():
    with pytest.raises(ConfigError, match="expected"):
        FormatShape(input_format="NCTHW")(make(coord_frames(5), num_clips=2, clip_len=3))
    with pytest.raises(ConfigError, match="before format_shape"):
        Pipeline([FormatShape(input_format="NCHW"), CenterCrop(crop_size=8)])(make(coord_frames()))


def test_normalize_records_only_and_device_side_numbers():
    sample = Pipeline([Normalize(mean=(10.0, 20.0, 30.0), std=(2.0, 4.0, 5.0)),
                       FormatShape(input_format="NCHW")])(make(coord_frames(1, 2, 2)))
    assert sample.frames.dtype == torch.uint8
    assert sample.meta["normalize"] == {"mean": (10.0, 20.0, 30.0), "std": (2.0, 4.0, 5.0),
                                        "to_bgr": False}
    batch = torch.tensor([[[[40, 60]], [[100, 0]], [[30, 255]]]], dtype=torch.uint8)
    out = normalize_on_device(batch, (10.0, 20.0, 30.0), (2.0, 4.0, 5.0), input_format="NCHW")
    assert out.dtype == torch.float32
    assert out.tolist() == [[[[15.0, 25.0]], [[20.0, -5.0]], [[0.0, 45.0]]]]
    bgr = normalize_on_device(batch, (10.0, 20.0, 30.0), (2.0, 4.0, 5.0), to_bgr=True,
                              input_format="NCHW")
    assert bgr[0, 0].tolist() == [[10.0, 122.5]] and bgr[0, 2].tolist() == [[2.0, 6.0]]
    clip = torch.full((2, 3, 4, 5, 5), 128, dtype=torch.uint8)
    clip[:, 1] = 0
    ncthw = normalize_on_device(clip, (128.0, 64.0, 0.0), (1.0, 2.0, 4.0), input_format="NCTHW")
    assert ncthw[:, 0].eq(0).all() and ncthw[:, 1].eq(-32).all() and ncthw[:, 2].eq(32).all()
    flow = torch.tensor([128, 0, 255, 64], dtype=torch.uint8).view(1, 4, 1, 1)
    out = normalize_on_device(flow, (128.0, 0.0), (128.0, 64.0), input_format="NCHW_Flow")
    assert out.flatten().tolist() == [0.0, 0.0, 127 / 128, 1.0]


def test_collate_keeps_uint8_and_counts_for_test_time_averaging():
    steps = [ThreeCrop(crop_size=32), Normalize(mean=(1.0, 2.0, 3.0), std=(4.0, 5.0, 6.0)),
             FormatShape(input_format="NCTHW")]
    samples = [Pipeline(steps)(five_d(2, 3)) for _ in range(2)]
    samples[0].label, samples[1].label = 1, 2
    batch = collate(samples)
    assert batch["inputs"].shape == (2, 6, 3, 3, 32, 32) and batch["inputs"].dtype == torch.uint8
    assert batch["labels"].tolist() == [1, 2] and (batch["num_crops"], batch["num_clips"]) == (3, 2)
    out = normalize_on_device(batch["inputs"], **batch["normalize"])
    assert torch.allclose(out[:, :, 2], (batch["inputs"][:, :, 2].float() - 3.0) / 6.0)


def test_color_jitter_matches_mmaction2_arithmetic():
    flat = torch.tensor([100, 200, 40], dtype=torch.uint8).expand(2, 4, 4, 3).clone()
    bright = ColorJitter(brightness=(1.5, 1.5), contrast=0.0, saturation=0.0, hue=0.0)
    assert bright(make(flat)).frames[0, 0, 0].tolist() == [150, 255, 60]
    gray = 0.2989 * 100 + 0.587 * 200 + 0.114 * 40
    desat = ColorJitter(brightness=0.0, contrast=0.0, saturation=(0.0, 0.0), hue=0.0)
    assert desat(make(flat)).frames[0, 0, 0].tolist() == [round(gray)] * 3
    half = flat.clone()
    half[:, :2] = 0
    contrast = ColorJitter(brightness=0.0, contrast=(0.5, 0.5), saturation=0.0, hue=0.0)
    out = contrast(make(half)).frames[0]
    assert out[0, 0].tolist() == [round(gray / 4)] * 3
    assert out[3, 3].tolist() == [round(0.5 * v + gray / 4) for v in (100, 200, 40)]
    red = torch.tensor([255, 0, 0], dtype=torch.uint8).expand(1, 2, 2, 3).clone()
    hue = ColorJitter(brightness=0.0, contrast=0.0, saturation=0.0, hue=(0.1, 0.1))
    r, g, b = hue(make(red)).frames[0, 0, 0].tolist()
    assert (r, b) == (255, 0) and abs(g - 255 * 50 / 60) <= 1


def test_color_jitter_one_draw_per_clip_and_validation():
    frames = ramp_frames(4, 16, 16)
    out = ColorJitter()(make(frames, seed=3)).frames
    assert out.dtype == torch.uint8 and not torch.equal(out, frames)
    assert all(torch.equal(out[0], out[t]) for t in range(1, 4))
    with pytest.raises(ValueError, match="hue"):
        ColorJitter(hue=0.7)
    with pytest.raises(ValueError, match="brightness"):
        ColorJitter(brightness=(0.5, 2.5))


def train_pipeline() -> Pipeline:
    return Pipeline([
        Resize(scale=(-1, 40)), RandomResizedCrop(), Resize(scale=(24, 24), keep_ratio=False),
        Flip(), ColorJitter(), Normalize(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)),
        FormatShape(input_format="NCTHW"),
    ])


def test_randomness_comes_from_sample_rng_only():
    pipeline = train_pipeline()
    noise = torch.randint(0, 256, (2, 48, 64, 3), dtype=torch.uint8,
                          generator=torch.Generator().manual_seed(0))
    runs = {}
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        np.random.seed(global_seed)
        runs[global_seed] = [pipeline(make(noise.clone(), seed=s)).frames for s in range(4)]
    assert all(torch.equal(a, b) for a, b in zip(runs[1], runs[2]))
    assert all(not torch.equal(runs[1][0], other) for other in runs[1][1:])


def test_frames_stay_uint8_until_normalize_on_device():
    sample = make(ramp_frames())
    for step in train_pipeline().steps:
        sample = Pipeline([step])(sample)
        assert sample.frames.dtype == torch.uint8, type(step).__name__
    assert sample.frames.shape == (1, 3, 2, 24, 24)
    out = normalize_on_device(sample.frames, **sample.meta["normalize"], input_format="NCTHW")
    assert out.dtype == torch.float32 and out.shape == (1, 3, 2, 24, 24)


def test_pipeline_resamples_before_pixel_steps_and_at_the_end():
    seen = []

    class Probe:
        needs_pixels = True

        def __call__(self, sample):
            seen.append((sample.geometry, tuple(sample.frames.shape)))
            return sample

    class Legacy:
        def __call__(self, sample):
            seen.append((sample.geometry, tuple(sample.frames.shape)))
            return sample

    out = Pipeline([CenterCrop(crop_size=16), Probe(), Flip(flip_ratio=1.0), Legacy(),
                    Resize(scale=(8, 8), keep_ratio=False)])(make(coord_frames()))
    assert seen == [(None, (2, 16, 16, 3)), (None, (2, 16, 16, 3))]
    assert out.geometry is None and out.frames.shape == (2, 8, 8, 3)
    assert Pipeline([])(make(coord_frames())).frames.shape == (2, 48, 64, 3)


def test_materialized_crop_does_not_share_the_decoded_clip():
    frames = coord_frames()
    out = Pipeline([CenterCrop(crop_size=(64, 16))])(make(frames)).frames
    assert out.is_contiguous()
    assert out.untyped_storage().data_ptr() != frames.untyped_storage().data_ptr()
    assert Geometry.identity(48, 64).apply(frames) is frames


def test_registry_names_and_keyword_only_typed_schemas():
    assert set(TRANSFORMS) == {
        "resize", "random_rescale", "random_crop", "random_resized_crop", "multi_scale_crop", "center_crop",
        "three_crop", "ten_crop", "flip", "color_jitter", "normalize", "format_shape",
    }
    for name, cls in TRANSFORMS.items():
        assert isinstance(cls.needs_pixels, bool), name
        params = inspect.signature(cls).parameters.values()
        assert all(p.kind is p.KEYWORD_ONLY and p.annotation is not p.empty for p in params), name
    assert {n for n, c in TRANSFORMS.items() if c.needs_pixels} == {"color_jitter", "format_shape"}


def test_geometry_on_a_frame_cut_to_its_pixel_box_gives_the_same_pixels():
    rng = np.random.default_rng(3)
    frames = torch.from_numpy(rng.integers(0, 256, (2, 37, 53, 3), dtype=np.uint8))
    for _ in range(60):
        geometry = Geometry.identity(37, 53).resize(int(rng.integers(20, 90)), int(rng.integers(20, 90)))
        h, w = geometry.size
        x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
        geometry = geometry.crop(x0, y0, int(rng.integers(x0 + 1, w + 1)), int(rng.integers(y0 + 1, h + 1)))
        geometry = geometry.resize(int(rng.integers(5, 40)), int(rng.integers(5, 40)))
        if rng.random() < 0.5:
            geometry = geometry.flip("horizontal")
        (left, top, width, height), cut = geometry.on_region()
        assert (left, top, width, height) == geometry.pixel_box()
        assert cut.pixel_box() == (0, 0, width, height)
        region = frames[:, top:top + height, left:left + width].contiguous()
        assert torch.equal(cut.apply(region), geometry.apply(frames))
