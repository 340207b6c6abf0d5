"""Recorded configurations, trained again: every results file keeps, under
`configurations.<key>.settings`, everything its runs trained with but variant and seed
(`quality_summary.configuration`). A named configuration (`benchmarks/configs/`) states
changes to today's defaults, so a run recorded under earlier defaults no longer follows
from its recipe's name; its key does. `quality.py --configuration KEY` trains as the runs
of `KEY` did, whatever the defaults are today, and writes to the file that holds them.

  settings, recipe, path = find(RESULTS_DIR, "ml-1m", "b8698b7eb6")
  layer(settings)     # {"model": {...}, "ablations": {...}, "data": {...}, "train": {...}}
  protocol(settings)  # {"epochs": 60, "patience": 10, "early_stopping_metric": ..., ...}

`layer` states every setting, with the values of settings added after a run was recorded
(`quality_summary.NEUTRAL_*`): runs planned from it have the key it came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from experiments import ABLATION_FIELDS, PROTOCOL_TRAIN_FIELDS, changed_switches
from quality_summary import NEUTRAL_DATA, NEUTRAL_MODEL, NEUTRAL_TRAIN

from sair_keras.config import ConfigError

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def find(results_dir: Path, dataset: str, key: str) -> tuple[dict[str, Any], str, Path]:
    """(settings, recipe name, results file) of configuration `key` among `dataset`'s
    results files in `results_dir`; ConfigError when none holds it."""
    for path in sorted(results_dir.glob("*.json")):
        result = json.loads(path.read_text())
        if result.get("dataset") != dataset:
            continue
        found = (result.get("configurations") or {}).get(key)
        if found:
            return found["settings"], found["recipes"][0], path
    raise ConfigError(f"no results file of {dataset} in {results_dir} records configuration {key}")


def layer(settings: dict[str, Any]) -> dict[str, Any]:
    """A configuration layer (the sections of a file in `benchmarks/configs/`) that states
    every recorded setting: the model's, the benchmark's `ablations`, the ingestion's
    (`data`, with `max_len`) and the optimisation's (`train`, protocol fields apart:
    `protocol`)."""
    model = {**NEUTRAL_MODEL, **settings["model"]}
    if not model.pop("exclude_seen"):  # set under data; the benchmark ranks unseen items only
        raise ConfigError("a configuration that ranks seen items is not the benchmark's")
    switches = changed_switches(model)
    for name in ABLATION_FIELDS:
        model.pop(name, None)
    data = {**NEUTRAL_DATA, **settings.get("data", {}), "max_len": model.pop("max_len")}
    train = {
        k: v
        for k, v in {**NEUTRAL_TRAIN, **settings["train"]}.items()
        if k not in PROTOCOL_TRAIN_FIELDS
    }
    return {"model": model, "ablations": switches, "data": data, "train": train}


def protocol(settings: dict[str, Any]) -> dict[str, Any]:
    """The recorded protocol: TrainConfig's protocol fields and the item catalog."""
    train = settings["train"]
    return {
        **{k: v for k, v in train.items() if k in PROTOCOL_TRAIN_FIELDS},
        "item_catalog": settings["item_catalog"],
    }
