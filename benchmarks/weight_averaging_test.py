"""weight_averaging: early stopping on a curve, and averages scored beside the training."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import weight_averaging  # noqa: E402


@pytest.mark.parametrize(
    "curve, patience, expected",
    [
        ([0.1, 0.3, 0.2, 0.2, 0.4], 2, {"best_epoch": 2, "best": 0.3, "stopped_at": 4}),
        ([0.1, 0.3, 0.2, 0.4], 2, {"best_epoch": 4, "best": 0.4, "stopped_at": 4}),
        ([None, None, 0.2, 0.1, 0.3], 2, {"best_epoch": 5, "best": 0.3, "stopped_at": 5}),
        ([0.2, 0.2, 0.2], 1, {"best_epoch": 1, "best": 0.2, "stopped_at": 2}),
    ],
)
def test_early_stopped_matches_keras_early_stopping(curve, patience, expected):
    assert weight_averaging.early_stopped(curve, patience) == expected


def test_decays_outside_the_open_unit_interval_are_refused():
    with pytest.raises(ValueError, match="decay"):
        weight_averaging.EpochAverages(None, [1.0])


@pytest.mark.parametrize("decay", [0.5, 0.9])
def test_the_debiased_decay_folds_into_the_bias_corrected_average(decay):
    weights = np.random.default_rng(0).normal(size=(6, 4))
    started_at_zero, average = np.zeros(4), None
    for t, w in enumerate(weights, start=1):
        started_at_zero = decay * started_at_zero + (1 - decay) * w
        beta_t = weight_averaging.debiased_decay(decay, t)
        average = weight_averaging.train.fold_weights(average, [w], beta_t)
        np.testing.assert_allclose(average[0], started_at_zero / (1 - decay**t), rtol=1e-12)
    assert weight_averaging.debiased_decay(decay, 1) == 0.0
    assert weight_averaging.debiased_decay(decay, 2) == pytest.approx(decay / (1 + decay))
    with pytest.raises(ValueError, match="from 1"):
        weight_averaging.debiased_decay(decay, 0)


def test_averages_are_scored_beside_a_training_they_leave_alone(synthetic_ingested, tmp_path):
    result = weight_averaging.measure(
        synthetic_ingested, "sair", [0.5], epochs=3, checkpoint_dir=str(tmp_path), score_from=1
    )
    raw, averaged = result["decays"]["0"], result["decays"]["0.5"]
    assert result["epochs_run"] == 3
    assert len(raw["val_full_ndcg_10"]) == len(averaged["val_full_ndcg_10"]) == 3
    # The first epoch's average is its weights: the same validation score.
    assert averaged["val_full_ndcg_10"][0] == pytest.approx(raw["val_full_ndcg_10"][0], abs=1e-4)
    # Training ran on its own weights: without averages it follows the same curve.
    alone = weight_averaging.measure(synthetic_ingested, "sair", [], epochs=3)
    assert alone["decays"]["0"]["val_full_ndcg_10"] == raw["val_full_ndcg_10"]
    # A resumed run finds every epoch done and adds nothing.
    again = weight_averaging.measure(
        synthetic_ingested, "sair", [0.5], epochs=3, checkpoint_dir=str(tmp_path), score_from=1
    )
    assert again["decays"]["0.5"]["val_full_ndcg_10"] == averaged["val_full_ndcg_10"]


def test_a_debiased_average_is_scored_beside_the_plain_one(synthetic_ingested, tmp_path):
    def run():
        return weight_averaging.measure(
            synthetic_ingested,
            "sasrec",
            [0.5],
            epochs=2,
            checkpoint_dir=str(tmp_path),
            debiased=[0.5],
        )["decays"]

    curves = run()
    assert set(curves) == {"0", "0.5", "0.5 debiased"}
    raw, debiased = curves["0"]["val_full_ndcg_10"], curves["0.5 debiased"]["val_full_ndcg_10"]
    assert len(debiased) == 2 and None not in debiased
    # Its first fold is the first epoch's weights, as the plain average's.
    assert debiased[0] == pytest.approx(raw[0], abs=1e-4)
    # Resumed, the saved averages and curves come back under their names.
    assert run()["0.5 debiased"]["val_full_ndcg_10"] == debiased


def test_the_raw_curve_is_the_weights_themselves_whatever_the_default(
    synthetic_ingested, monkeypatch
):
    fitted = []
    fit = weight_averaging.train.fit
    monkeypatch.setattr(
        weight_averaging.train, "fit", lambda *a, **k: fitted.append(a[3]) or fit(*a, **k)
    )
    weight_averaging.measure(synthetic_ingested, "sasrec", [], epochs=1)
    assert [c.weight_averaging for c in fitted] == [0.0]


def test_epochs_before_score_from_are_folded_but_not_scored(synthetic_ingested):
    result = weight_averaging.measure(synthetic_ingested, "sasrec", [0.5], epochs=3, score_from=3)
    curve = result["decays"]["0.5"]["val_full_ndcg_10"]
    assert curve[:2] == [None, None] and curve[2] is not None
    assert result["decays"]["0.5"]["best_epoch"] == 3
