"""Recognition metrics: hand-computed values (worked out in the comments) and reference arithmetic.

The expected numbers follow MMAction2 1.2.0's ``mmaction.evaluation.functional`` definitions;
the tests never import MMAction2.
"""
from __future__ import annotations

import inspect
import typing

import numpy as np
import pytest

from actioncore_recognition.metrics import (
    METRICS,
    MeanAveragePrecision,
    MeanClassAccuracy,
    MMITMeanAveragePrecision,
    TopKAccuracy,
    confusion_matrix,
    render_confusion_matrix,
)

# --------------------------------------------------------------------------------------------
# top-k accuracy

# 5 samples x 4 classes.
TOPK_SCORES = np.array([
    [0.1, 0.6, 0.2, 0.1],    # label 1: best                                  -> rank 0
    [0.5, 0.3, 0.15, 0.05],  # label 1: second                                -> rank 1
    [0.2, 0.3, 0.4, 0.1],    # label 3: last                                  -> rank 3
    [0.4, 0.1, 0.4, 0.1],    # label 0: tied with class 2, higher index first -> rank 1
    [0.4, 0.1, 0.4, 0.1],    # label 2: wins the same tie                     -> rank 0
])
TOPK_LABELS = np.array([1, 1, 3, 0, 2])


def test_top_k_hand_matrix():
    result = TopKAccuracy(topk=(1, 2, 3, 4, 10))(TOPK_SCORES, TOPK_LABELS)
    # ranks 0,1,3,1,0: top1 {s0,s4} = 2/5; top2 and top3 {s0,s1,s3,s4} = 4/5; top4 all;
    # k = 10 > 4 classes counts every sample (MMAction2 takes argsort[:, -10:], i.e. all columns)
    assert result == {"top1": 0.4, "top2": 0.8, "top3": 0.8, "top4": 1.0, "top10": 1.0}
    assert all(type(v) is float for v in result.values())


def test_top_k_default_keys():
    result = TopKAccuracy()(TOPK_SCORES, TOPK_LABELS)
    assert list(result) == ["top1", "top5"]
    assert result == {"top1": 0.4, "top5": 1.0}


def test_top_k_ties_go_to_the_higher_class_index():
    # MMAction2: argsort(scores)[:, -k:][:, ::-1] -- with a stable ascending sort, the last of
    # equal scores is the highest index, so it ranks first. All-zero rows, labels 0, 1, 2:
    # label 2 -> rank 0, label 1 -> rank 1 (class 2 above), label 0 -> rank 2.
    result = TopKAccuracy(topk=(1, 2, 3))(np.zeros((3, 3)), np.array([0, 1, 2]))
    assert result == pytest.approx({"top1": 1 / 3, "top2": 2 / 3, "top3": 1.0}, abs=1e-15)


def test_top_k_matches_the_stable_argsort_formula():
    rng = np.random.default_rng(0)
    for trial in range(40):
        n, c = int(rng.integers(1, 30)), int(rng.integers(2, 60))
        scores = rng.integers(0, 3, size=(n, c)).astype(np.float32)  # many ties
        if trial % 2:
            scores = rng.normal(size=(n, c))
        labels = rng.integers(0, c, size=n)
        result = TopKAccuracy(topk=(1, 3, 5))(scores, labels)
        for k in (1, 3, 5):
            best = np.argsort(scores, axis=1, kind="stable")[:, -k:][:, ::-1]
            expected = (best == labels[:, None]).any(axis=1).mean()
            assert result[f"top{k}"] == pytest.approx(expected, abs=1e-15)


def test_top_k_accepts_an_int_and_torch_tensors():
    torch = pytest.importorskip("torch")
    metric = TopKAccuracy(topk=2)
    assert metric.topk == (2,)
    assert metric(torch.tensor(TOPK_SCORES), torch.tensor(TOPK_LABELS)) == {"top2": 0.8}


# --------------------------------------------------------------------------------------------
# mean class accuracy


def _one_hot_scores(pred: list[int], num_classes: int) -> np.ndarray:
    scores = np.full((len(pred), num_classes), 0.1)
    scores[np.arange(len(pred)), pred] = 0.9
    return scores


def test_mean_class_accuracy_unequal_class_sizes():
    labels = np.array([0, 0, 0, 0, 1, 2, 2])
    pred = [0, 0, 0, 1, 1, 2, 0]
    # recall: class 0 3/4, class 1 1/1, class 2 1/2 -> (0.75 + 1 + 0.5) / 3 = 0.75
    # (plain accuracy would be 5/7 = 0.714...)
    result = MeanClassAccuracy()(_one_hot_scores(pred, 3), labels)
    assert result == {"mean_class_accuracy": pytest.approx(0.75, abs=1e-15)}


def test_mean_class_accuracy_skips_a_class_neither_labelled_nor_predicted():
    labels = np.array([0, 0, 1, 2])
    pred = [0, 1, 1, 2]
    # class 3 never occurs: (1/2 + 1 + 1) / 3 = 0.8333 (not 2.5 / 4 = 0.625)
    result = MeanClassAccuracy()(_one_hot_scores(pred, 4), labels)
    assert result["mean_class_accuracy"] == pytest.approx(2.5 / 3, abs=1e-15)


def test_mean_class_accuracy_counts_a_predicted_class_without_samples_as_zero():
    labels = np.array([0, 0, 1, 1])
    pred = [0, 2, 1, 1]
    # MMAction2 builds the confusion matrix over labels U predictions, and class 2 (predicted,
    # no sample) gets recall 0: (1/2 + 1 + 0) / 3 = 0.5 (over labelled classes only: 0.75)
    result = MeanClassAccuracy()(_one_hot_scores(pred, 3), labels)
    assert result["mean_class_accuracy"] == pytest.approx(0.5, abs=1e-15)


def test_mean_class_accuracy_uses_argmax_on_ties_unlike_top1():
    scores = np.array([[0.5, 0.5, 0.0]])
    labels = np.array([1])
    # argmax takes class 0 (first maximum): classes {0 predicted, 1 labelled}, recalls 0 and 0/1
    assert MeanClassAccuracy()(scores, labels) == {"mean_class_accuracy": 0.0}
    # top-1 ranks the higher index first among ties (MMAction2's argsort order): a hit
    assert TopKAccuracy(topk=(1,))(scores, labels) == {"top1": 1.0}


# --------------------------------------------------------------------------------------------
# mean average precision (class-wise)

# 5 samples x 3 classes
MAP_SCORES = np.array([
    [0.9, 0.4, 0.3],
    [0.8, 0.4, 0.2],
    [0.7, 0.4, 0.5],
    [0.6, 0.2, 0.1],
    [0.5, 0.1, 0.9],
])
MAP_LABELS = np.array([
    [1, 1, 0],
    [0, 0, 0],
    [1, 1, 0],
    [0, 0, 0],
    [0, 1, 0],
])
# class 0: positives at ranks 1 and 3 -> precisions 1/1, 2/3 -> AP = 5/6
# class 1: samples 0,1,2 tie at 0.4 holding 2 of 3 positives: one threshold, P = 2/3, dR = 2/3;
#          then 0.2 (negative), then 0.1 (positive): P = 3/5, dR = 1/3
#          AP = 2/3 * 2/3 + 1/3 * 3/5 = 29/45 (ordering the tie best-first would give 13/15,
#          worst-first 53/90)
# class 2: no positive -> skipped
# mAP = (5/6 + 29/45) / 2 = 133/180
MAP_EXPECTED = 133 / 180


def test_mean_average_precision_hand_example():
    result = MeanAveragePrecision()(MAP_SCORES, MAP_LABELS)
    assert result == {"mean_average_precision": pytest.approx(MAP_EXPECTED, abs=1e-15)}


def test_mean_average_precision_accepts_bool_and_float_multi_hot():
    for labels in (MAP_LABELS.astype(bool), MAP_LABELS.astype(np.float32)):
        value = MeanAveragePrecision()(MAP_SCORES, labels)["mean_average_precision"]
        assert value == pytest.approx(MAP_EXPECTED, abs=1e-15)


def test_mean_average_precision_is_nan_without_any_positive():
    result = MeanAveragePrecision()(MAP_SCORES, np.zeros_like(MAP_LABELS))
    assert np.isnan(result["mean_average_precision"])


def _reference_ap(score: np.ndarray, positive: np.ndarray) -> float:
    """AP by thresholds: sum over distinct scores t, descending, of (R(t) - R(prev)) * P(t)."""
    total = positive.sum()
    ap, previous_recall = 0.0, 0.0
    for t in sorted(set(score.tolist()), reverse=True):
        kept = score >= t
        true_pos = (kept & positive).sum()
        recall = true_pos / total
        ap += (recall - previous_recall) * (true_pos / kept.sum())
        previous_recall = recall
    return ap


def test_mean_average_precision_matches_reference_arithmetic():
    rng = np.random.default_rng(1)
    for trial in range(30):
        n, c = int(rng.integers(2, 40)), int(rng.integers(1, 12))
        scores = rng.integers(0, 4, size=(n, c)) / 4.0 if trial % 2 else rng.random((n, c))
        labels = rng.random((n, c)) < 0.3
        aps = [_reference_ap(scores[:, j], labels[:, j]) for j in range(c) if labels[:, j].any()]
        result = MeanAveragePrecision()(scores, labels)["mean_average_precision"]
        if aps:
            assert result == pytest.approx(np.mean(aps), abs=1e-12)
        else:
            assert np.isnan(result)


def test_mean_average_precision_without_ties_is_mean_precision_at_positives():
    rng = np.random.default_rng(2)
    scores, labels = rng.random((50, 6)), rng.random((50, 6)) < 0.4
    aps = []
    for j in range(6):
        order = np.argsort(-scores[:, j])
        hits = labels[order, j]
        ranks = np.flatnonzero(hits) + 1
        aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
    result = MeanAveragePrecision()(scores, labels)["mean_average_precision"]
    assert result == pytest.approx(np.mean(aps), abs=1e-12)


# --------------------------------------------------------------------------------------------
# MMIT mean average precision (sample-wise)

MMIT_SCORES = np.array([
    [0.1, 0.7, 0.3, 0.5],
    [0.2, 0.2, 0.9, 0.2],
])
MMIT_LABELS = np.array([
    [0, 1, 1, 0],
    [1, 0, 0, 0],
])


def test_mmit_mean_average_precision_hand_example():
    # sample 0: ranking 1(+) 3(-) 2(+) 0(-) -> precisions 1, 2/3 -> AP = 5/6
    # sample 1: 2(-) first, then classes 0,1,3 tie at 0.2 holding the positive:
    #           one threshold with 1 of 4 -> AP = 1/4
    # mean over samples: (5/6 + 1/4) / 2 = 13/24
    result = MMITMeanAveragePrecision()(MMIT_SCORES, MMIT_LABELS)
    assert result == {"mmit_mean_average_precision": pytest.approx(13 / 24, abs=1e-15)}
    # the class-wise mAP of the same data differs: class 0 AP 1, class 1 AP 1, class 2:
    # sample 1 (negative) first then sample 0 -> 1/2, class 3 skipped -> (1 + 1 + 0.5) / 3
    assert MeanAveragePrecision()(MMIT_SCORES, MMIT_LABELS)["mean_average_precision"] == \
        pytest.approx(5 / 6, abs=1e-15)


def test_mmit_matches_reference_arithmetic():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, size=(25, 9)) / 5.0
    labels = rng.random((25, 9)) < 0.3
    labels[np.arange(25), rng.integers(0, 9, 25)] = True  # every sample has a positive
    expected = np.mean([_reference_ap(scores[i], labels[i]) for i in range(25)])
    result = MMITMeanAveragePrecision()(scores, labels)["mmit_mean_average_precision"]
    assert result == pytest.approx(expected, abs=1e-12)


def test_mmit_is_nan_when_a_sample_has_no_positive():
    # MMAction2 averages over every sample, so an empty sample makes the mean NaN
    labels = MMIT_LABELS.copy()
    labels[1] = 0
    assert np.isnan(MMITMeanAveragePrecision()(MMIT_SCORES, labels)["mmit_mean_average_precision"])


def test_average_precision_metrics_take_class_indices_as_one_hot():
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.2, 0.1]])
    labels = np.array([2, 0])
    # per sample: label 2 ranked second -> 1/2; label 0 ranked first -> 1; mean 3/4
    result = MMITMeanAveragePrecision()(scores, labels)
    assert result["mmit_mean_average_precision"] == pytest.approx(0.75, abs=1e-15)
    # per class: class 0 (sample 1 best) -> 1; class 2 (sample 0 best) -> 1; class 1 skipped
    assert MeanAveragePrecision()(scores, labels)["mean_average_precision"] == 1.0


# --------------------------------------------------------------------------------------------
# confusion matrix and its image


def test_confusion_matrix_counts():
    pred = np.array([0, 1, 1, 2, 2, 2, 0])
    labels = np.array([0, 1, 2, 2, 2, 0, 0])
    # (true, pred): (0,0) (1,1) (2,1) (2,2) (2,2) (0,2) (0,0); class 3 never occurs
    expected = np.array([
        [2, 0, 1, 0],
        [0, 1, 0, 0],
        [0, 1, 2, 0],
        [0, 0, 0, 0],
    ])
    matrix = confusion_matrix(pred, labels, 4)
    assert matrix.dtype == np.int64 and matrix.shape == (4, 4)
    np.testing.assert_array_equal(matrix, expected)


def test_confusion_matrix_diagonal_agrees_with_argmax_accuracy():
    rng = np.random.default_rng(4)
    scores, labels = rng.random((100, 7)), rng.integers(0, 7, 100)
    matrix = confusion_matrix(scores.argmax(1), labels, 7)
    assert matrix.sum() == 100
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(labels, minlength=7))
    assert np.trace(matrix) == (scores.argmax(1) == labels).sum()


VIRIDIS_LOW, VIRIDIS_HIGH = (68, 1, 84), (253, 231, 37)


def test_render_size_and_dtype():
    image = render_confusion_matrix(np.eye(5, dtype=np.int64) * 3)
    # cell = clip(256 // 5, 4, 32) = 32 px -> 5 * 32 = 160
    assert image.shape == (160, 160, 3) and image.dtype == np.uint8
    # 100 classes: 256 // 100 = 2 -> raised to the 4 px minimum
    assert render_confusion_matrix(np.ones((100, 100))).shape == (400, 400, 3)
    assert render_confusion_matrix(np.ones((3, 3)), cell_size=2).shape == (6, 6, 3)


def test_render_colours_row_normalised_cells():
    matrix = np.array([[3, 0, 0], [0, 0, 0], [1, 1, 2]])  # row 1 has no samples
    image = render_confusion_matrix(matrix, cell_size=4)
    cell = lambda i, j: image[4 * i:4 * i + 4, 4 * j:4 * j + 4].reshape(-1, 3)  # noqa: E731
    assert (cell(0, 0) == VIRIDIS_HIGH).all()      # 3/3 -> top of the colour map
    assert (cell(0, 1) == VIRIDIS_LOW).all()       # 0
    assert (cell(1, 1) == VIRIDIS_LOW).all()       # empty row stays 0
    assert (cell(2, 0) == cell(2, 1)).all()        # 1/4 and 1/4
    assert not (cell(2, 2) == cell(2, 0)).all()    # 2/4 differs
    assert (cell(2, 2) == (33, 144, 141)).all()    # 0.5 -> middle of the colour map


def ink_columns(region: np.ndarray) -> np.ndarray:
    """Columns of ``region`` holding dark (text) pixels."""
    return np.flatnonzero((region.max(axis=-1) < 96).any(axis=0))


def test_render_with_class_names_writes_them_in_a_real_font():
    matrix = np.array([[4, 1], [2, 3]])
    image = render_confusion_matrix(matrix, class_names=["run", "jump"])
    # cell = clip(256 // 2, 4, 32) = 32; the heat map sits bottom-right, under square gutters
    gutter = image.shape[0] - 2 * 32
    assert image.shape == (gutter + 64, gutter + 64, 3) and image.dtype == np.uint8 and gutter > 20
    np.testing.assert_array_equal(image[gutter:, gutter:], render_confusion_matrix(matrix))
    # row names: right-aligned against the matrix, "jump" wider than "run" (proportional glyphs);
    # the first 24 columns hold the rotated "true" title
    run, jump = (ink_columns(image[gutter + 32 * i:gutter + 32 * (i + 1), 24:gutter]) for i in (0, 1))
    assert run.size and jump.size and run.max() == pytest.approx(jump.max(), abs=2)
    assert jump.max() - jump.min() > run.max() - run.min() + 2
    # column names read bottom-up: ink above each column, under the "predicted" title
    for j in (0, 1):
        assert (image[:gutter, gutter + 32 * j:gutter + 32 * (j + 1)].max(axis=-1) < 96).any()
    # 40 classes: 256 // 40 = 6 px is raised to 8 so that an 8 px font fits
    names = [f"c{i:03d}" for i in range(40)]
    labelled = render_confusion_matrix(np.eye(40), names)
    assert labelled.shape[0] == labelled.shape[1] and (labelled.shape[0] - 40 * 8) > 20
    # 200 classes (> 128): no enlargement, 4 px cells are too small for names -> none drawn
    assert render_confusion_matrix(np.eye(200), [str(i) for i in range(200)]).shape == (800, 800, 3)
    # an explicit cell below 8 px leaves the names out as well
    assert render_confusion_matrix(matrix, ["run", "jump"], cell_size=7).shape == (14, 14, 3)


def test_render_writes_counts_in_cells_of_16_px_or_more():
    matrix = np.array([[30, 0], [5, 7]])
    plain = render_confusion_matrix(matrix, cell_size=15)
    assert all(np.unique(plain[15 * i:15 * (i + 1), 15 * j:15 * (j + 1)].reshape(-1, 3), axis=0).shape[0] == 1
               for i in (0, 1) for j in (0, 1))  # each cell one flat colour
    counted = render_confusion_matrix(matrix, cell_size=32)
    top_left = counted[:32, :32].reshape(-1, 3)  # 30 of 30: light yellow, the count in black
    assert (top_left.max(axis=1) < 96).any() and (top_left == VIRIDIS_HIGH).all(axis=1).mean() > 0.5
    top_right = counted[:32, 32:].reshape(-1, 3)  # 0 on dark purple: in white
    assert (top_right.min(axis=1) > 200).any()
    with pytest.raises(ValueError, match="2 class names for a 3x3"):
        render_confusion_matrix(np.eye(3), class_names=["a", "b"])


# --------------------------------------------------------------------------------------------
# registry, schema and invalid input


def test_registry_and_schema():
    assert METRICS == {
        "top_k_accuracy": TopKAccuracy,
        "mean_class_accuracy": MeanClassAccuracy,
        "mean_average_precision": MeanAveragePrecision,
        "mmit_mean_average_precision": MMITMeanAveragePrecision,
    }
    for factory in METRICS.values():
        params = list(inspect.signature(factory).parameters.values())
        assert all(p.kind is p.KEYWORD_ONLY for p in params)
    assert typing.get_type_hints(TopKAccuracy.__init__)["topk"] == tuple[int, ...]


@pytest.mark.parametrize("scores, labels, match", [
    (np.zeros(4), np.zeros(4, dtype=np.int64), r"top_k_accuracy: scores must be a \[N, num_classes\]"),
    (np.zeros((3, 4)), np.zeros(2, dtype=np.int64), r"top_k_accuracy: labels has shape \[2\].*3 rows"),
    (np.zeros((2, 4)), np.array([0, 4]), r"top_k_accuracy: labels value 4 \(sample 1\) is outside \[0, 4\)"),
    (np.zeros((2, 4)), np.array([-1, 0]), r"top_k_accuracy: labels value -1 \(sample 0\)"),
    (np.zeros((2, 4)), np.zeros((2, 4), dtype=np.int64), "top_k_accuracy: needs single-label"),
    (np.zeros((2, 4)), np.array([0.0, 1.0]), "top_k_accuracy: labels must be integer"),
    (np.array([[0.0, np.nan]]), np.array([0]), "top_k_accuracy: scores contain NaN"),
    (np.zeros((0, 4)), np.zeros(0, dtype=np.int64), "top_k_accuracy: no samples"),
])
def test_top_k_rejects_bad_input(scores, labels, match):
    with pytest.raises(ValueError, match=match):
        TopKAccuracy()(scores, labels)


def test_other_metrics_reject_bad_input():
    with pytest.raises(ValueError, match=r"mean_class_accuracy: labels value 3 \(sample 0\)"):
        MeanClassAccuracy()(np.zeros((1, 3)), np.array([3]))
    with pytest.raises(ValueError, match="mean_average_precision: multi-hot labels must be 0 or 1"):
        MeanAveragePrecision()(MAP_SCORES, MAP_LABELS * 2)
    with pytest.raises(ValueError, match=r"mean_average_precision: labels must be a multi-hot"):
        MeanAveragePrecision()(MAP_SCORES, MAP_LABELS[:, :2])
    with pytest.raises(ValueError, match=r"mmit_mean_average_precision: labels must be a multi-hot"):
        MMITMeanAveragePrecision()(MMIT_SCORES, MMIT_LABELS.T)
    for topk in ((0,), (), (1.5,)):
        with pytest.raises(ValueError, match="top_k_accuracy: .*topk"):
            TopKAccuracy(topk=topk)
    with pytest.raises(ValueError, match="confusion_matrix: pred has 2 entries but labels has 3"):
        confusion_matrix(np.array([0, 1]), np.array([0, 1, 1]), 2)
    with pytest.raises(ValueError, match=r"confusion_matrix: pred value 5 \(sample 0\) is outside \[0, 2\)"):
        confusion_matrix(np.array([5, 1]), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="render_confusion_matrix: matrix must be square"):
        render_confusion_matrix(np.zeros((2, 3)))
