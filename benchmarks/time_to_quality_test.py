"""time_to_quality: the seconds and epochs until validation reaches each level."""

import sys
from pathlib import Path

import apache_beam as beam
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import time_to_quality  # noqa: E402

from components.sequence_gen import ingest, synthetic  # noqa: E402
from components.sequence_gen.config import DataConfig  # noqa: E402


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("ingested")
    config = synthetic.SyntheticConfig(
        num_users=120, num_items=60, num_categories=4, mean_length=12, seed=3
    )
    outputs = ingest.IngestOutputs.under(str(root / "out"))
    ingest.run_ingestion(
        synthetic.source_config(synthetic.generate(config, root / "in")),
        DataConfig(num_eval_negatives=20),
        outputs,
        lambda: beam.Pipeline(),
    )
    return outputs


def test_levels_never_reached_are_recorded_as_none_after_the_epoch_cap(ingested, monkeypatch):
    monkeypatch.setattr(time_to_quality, "LEVELS", {"val_full_ndcg_10": 2.0, "val_hr_10": 2.0})
    result = time_to_quality.measure(ingested, "sasrec", max_epochs=3)
    assert result["epochs_run"] == 3
    assert result["seconds_per_epoch_with_validation"] > 0
    assert result["seconds_to_val_full_ndcg_10_2.0"] is None
    assert result["epochs_to_val_hr_10_2.0"] is None


def test_training_stops_once_every_level_is_reached(ingested, monkeypatch):
    monkeypatch.setattr(time_to_quality, "LEVELS", {"val_full_ndcg_10": 0.0, "val_hr_10": 0.0})
    result = time_to_quality.measure(ingested, "sair", max_epochs=5)
    assert result["epochs_run"] == 1
    assert result["epochs_to_val_full_ndcg_10_0.0"] == 1
    assert 0 < result["seconds_to_val_hr_10_0.0"]
