"""Recorded configurations train again as they did: every key of every results file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality  # noqa: E402
import quality_summary  # noqa: E402
import recorded  # noqa: E402

from sair_keras.config import ConfigError  # noqa: E402


def _recorded_configurations():
    """(results file, dataset, key, variants) of every configuration the results hold."""
    for path in sorted(recorded.RESULTS_DIR.glob("*.json")):
        result = json.loads(path.read_text())
        for key, found in (result.get("configurations") or {}).items():
            yield path, result["dataset"], key, sorted(found["variants"])


CONFIGURATIONS = list(_recorded_configurations())


def _args(*argv: str):
    parser = quality.build_parser()
    args = parser.parse_args(list(argv))
    quality.use_recorded(args, parser)
    return args


def test_the_results_hold_configurations():
    assert len(CONFIGURATIONS) >= 20
    assert {dataset for _, dataset, _, _ in CONFIGURATIONS} == {"ml-100k", "ml-1m"}


@pytest.mark.parametrize(
    "path,dataset,key,variants",
    CONFIGURATIONS,
    ids=[f"{p.stem}-{k}" for p, _, k, _ in CONFIGURATIONS],
)
def test_every_recorded_configuration_plans_runs_with_its_key(path, dataset, key, variants):
    # use_recorded refuses a configuration one of whose runs would train otherwise
    args = _args("--dataset", dataset, "--configuration", key, "--variants", *variants)
    settings, _, _ = recorded.find(recorded.RESULTS_DIR, dataset, key)
    assert recorded.protocol(settings)["epochs"] == args.max_epochs
    for variant in variants:
        planned = quality.planned_run(dataset, variant, 3, args)
        assert quality_summary.config_key(planned) == key
    # the runs go beside the recorded ones (the first file of the dataset that holds the key)
    holders = [p for p, d, k, _ in CONFIGURATIONS if (d, k) == (dataset, key)]
    assert Path(args.results) == holders[0]


def test_settings_added_after_a_run_are_stated_at_the_values_it_had():
    settings = {
        "model": {"hidden_dim": 64, "max_len": 200, "dropout": 0.2, "training_loss": "bce"},
        "train": {"batch_size": 256, "learning_rate": 0.001, "epochs": 200, "patience": 20},
        "item_catalog": "interactions",
    }
    layer = recorded.layer(settings)
    # today's defaults differ (a cosine schedule, every training item a target): a rerun
    # of an earlier run must not take them
    assert layer["train"] == {
        "batch_size": 256,
        "learning_rate": 0.001,
        "learning_rate_schedule": "constant",
        "weight_averaging": 0.0,
    }
    assert layer["data"] == {"training_windows": "last", "max_len": 200}
    assert layer["model"]["norm_first"] is False and "max_len" not in layer["model"]
    assert "exclude_seen" not in layer["model"]  # a data setting, the benchmark's always
    assert recorded.protocol(settings) == {
        "epochs": 200,
        "patience": 20,
        "item_catalog": "interactions",
    }


def test_ablation_switches_go_to_their_own_section():
    settings = {
        "model": {
            "max_len": 50,
            "aggregation_residual": True,
            "aggregation_layer_norm": True,  # follows the residual: not a switch
            "balance_weight": 0.01,
            "interaction_residual": False,  # the product's: not a switch
        },
        "train": {},
        "item_catalog": "interactions",
    }
    layer = recorded.layer(settings)
    assert layer["ablations"] == {"balance_weight": 0.01}
    assert "balance_weight" not in layer["model"]


def test_unknown_keys_and_conflicting_flags_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="records configuration"):
        recorded.find(recorded.RESULTS_DIR, "ml-1m", "0000000000")
    _, dataset, key, _ = CONFIGURATIONS[0]
    with pytest.raises(ConfigError, match="records configuration"):  # no results here
        recorded.find(tmp_path, dataset, key)
    with pytest.raises(ConfigError, match="--recipe, --max-epochs"):
        _args(
            "--dataset", dataset, "--configuration", key, "--recipe", "paper", "--max-epochs", "5"
        )
