"""time_to_quality: the seconds and epochs until validation reaches each level."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import time_to_quality  # noqa: E402


def test_levels_never_reached_are_recorded_as_none_after_the_epoch_cap(
    synthetic_ingested, monkeypatch
):
    monkeypatch.setattr(time_to_quality, "LEVELS", {"val_full_ndcg_10": 2.0, "val_hr_10": 2.0})
    result = time_to_quality.measure(synthetic_ingested, "sasrec", max_epochs=3)
    assert result["epochs_run"] == 3
    assert result["seconds_per_epoch_with_validation"] > 0
    assert result["seconds_to_val_full_ndcg_10_2.0"] is None
    assert result["epochs_to_val_hr_10_2.0"] is None


def test_training_stops_once_every_level_is_reached(synthetic_ingested, monkeypatch):
    monkeypatch.setattr(time_to_quality, "LEVELS", {"val_full_ndcg_10": 0.0, "val_hr_10": 0.0})
    result = time_to_quality.measure(synthetic_ingested, "sair", max_epochs=5)
    assert result["epochs_run"] == 1
    assert result["epochs_to_val_full_ndcg_10_0.0"] == 1
    assert 0 < result["seconds_to_val_hr_10_0.0"]
