"""Summaries of quality runs (numpy, no TensorFlow: the results page uses it too).

A *configuration* is everything a run trained with but its variant and seed: the model
settings, the training settings and the item catalog (`config_key`). Runs of different
configurations never merge. A results file's headline is the configuration chosen on
**validation** (`choose`): by the mean over seeds of `sair`'s validation `full_ndcg_10` at its
best epoch, or, among runs older than full-catalog validation, of its sampled `ndcg_10`;
test numbers are reported for that configuration only.

Spreads are sample standard deviations (ddof=1); `None` for fewer than 2 runs.
"""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np

# Fields of ModelConfig only the interest head reads: `sasrec` is the same model whatever
# they are, so a configuration's `sasrec` is any `sasrec` that agrees on the rest.
from experiments import INTEREST_HEAD_FIELDS

from sair_keras.config import TrainConfig

# What a run's full-catalog metrics exclude: "history" (every item before the target).
# Runs without this mark excluded only the max_len window of the history, which ranks
# already-seen items above the target: their full-catalog numbers are not summarized.
WHOLE_HISTORY = "history"
# The benchmark's protocol. Its budget is the product's (TrainConfig's epochs and
# patience); a run over a shorter budget is a screening step of the search for the default
# configuration: its test numbers are not reported.
PAPER_BATCH = 256  # histories per step here; 256 prefixes per step in the paper's RecBole
OUR_EPOCHS, OUR_PATIENCE = TrainConfig().epochs, TrainConfig().patience
VALIDATION_FULL = "best_val_full_ndcg_10"
VALIDATION_SAMPLED = "best_val_ndcg_10"
# Settings a run recorded before they existed had these values (and a run records an
# ablation switch only when it differs from the product's model, `experiments.Ablations`).
LEGACY_TRAIN = {"early_stopping_metric": "ndcg_10"}
LEGACY_MODEL = {
    "ffn_activation": "relu",
    "interaction_residual": False,
    "balance_weight": 0.0,
    "training_loss": "bce",
}
# Settings added later, left out of a configuration's key at these values (what every
# earlier run had), so that the keys of earlier runs stay as they were.
NEUTRAL_MODEL = {
    "norm_first": False,
    "similarity": "dot",
    "output_layer": "tied",
    "encoder_block": "transformer",
    "exclude_seen": True,
}
NEUTRAL_TRAIN = {"learning_rate_schedule": "constant", "weight_averaging": 0.0}
LEGACY_CATALOG = "interactions"
# Settings only some objectives read: runs of other objectives trained alike whatever they are.
SAMPLED_LOSS_SETTINGS = {
    "num_negatives": ("sampled_softmax", "gbce"),
    "in_batch_negative_share": ("sampled_softmax", "gbce"),
    "gbce_t": ("gbce",),
}
# Settings only some similarities read.
SIMILARITY_SETTINGS = {"temperature": ("cosine",)}


def sample_std(values) -> float | None:
    """ddof=1; None for fewer than 2 values."""
    values = list(values)
    return round(float(np.std(values, ddof=1)), 4) if len(values) >= 2 else None


def mean_std(values) -> dict:
    values = list(values)
    return {"mean": round(float(np.mean(values)), 4), "std": sample_std(values)}


def configuration(run: dict, encoder_only: bool = False) -> dict:
    """The settings of `run` but its variant and seed (with `encoder_only`, without the
    interest head's either)."""
    model = {**LEGACY_MODEL, **run.get("model_config", {})}
    model.pop("variant", None)
    for name, losses in SAMPLED_LOSS_SETTINGS.items():  # settings the run's loss ignores
        if model.get("training_loss") not in losses:
            model.pop(name, None)
    for name, kinds in SIMILARITY_SETTINGS.items():
        if model.get("similarity", "dot") not in kinds:
            model.pop(name, None)
    for name, value in NEUTRAL_MODEL.items():
        if model.get(name, value) == value:
            model.pop(name, None)
    model.setdefault("ffn_dim", model.get("hidden_dim"))
    model.setdefault("aggregation_layer_norm", model.get("aggregation_residual"))
    if encoder_only:
        model = {k: v for k, v in model.items() if k not in INTEREST_HEAD_FIELDS}
    train = {**LEGACY_TRAIN, **run.get("train_config", {})}
    train.pop("seed", None)
    for name, value in NEUTRAL_TRAIN.items():
        if train.get(name, value) == value:
            train.pop(name, None)
    return {
        "model": model,
        "train": train,
        "item_catalog": run.get("item_catalog") or LEGACY_CATALOG,
        # How the ingestion built the examples, where it differs from the paper's protocol.
        **({"data": data} if (data := _data_settings(run)) else {}),
    }


# DataConfig settings a run records (`data_config`), left out of its configuration's key at
# these values (what every run before they were recorded had).
NEUTRAL_DATA = {"training_windows": "last"}


def _data_settings(run: dict) -> dict:
    data = run.get("data_config") or {}
    return {k: v for k, v in data.items() if NEUTRAL_DATA.get(k) != v}


def config_key(run: dict, encoder_only: bool = False) -> str:
    """A short hash of `configuration(run)`: runs with equal keys trained alike."""
    text = json.dumps(configuration(run, encoder_only), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _trained(runs: list[dict]) -> list[dict]:
    return [r for r in runs if "train_config" in r]


def _test_metrics(run: dict) -> dict[str, float]:
    """A run's test metrics, without the full-catalog ones of a run that did not exclude
    the whole history."""
    test = {k: v for k, v in run["test"].items() if not k.startswith("users")}
    if run.get("full_catalog_excludes") != WHOLE_HISTORY:
        test = {k: v for k, v in test.items() if not k.startswith("full_")}
    return test


def summarize(runs: list[dict]) -> dict:
    """Per variant: `test.<metric>.{mean,std}` over its runs, `runs`, and for trained runs
    their best epochs, wall seconds and validation scores."""
    summary: dict = {}
    for variant in dict.fromkeys(r["variant"] for r in runs):
        mine = [r for r in runs if r["variant"] == variant]
        tests = [_test_metrics(r) for r in mine]
        metrics = [m for m in tests[0] if all(m in t for t in tests)]
        summary[variant] = {
            "test": {m: mean_std(t[m] for t in tests) for m in metrics},
            "runs": len(mine),
        }
        trained = _trained(mine)
        if not trained:
            continue
        s = summary[variant]
        s["train_wall_s"] = round(float(np.mean([r["train_wall_s"] for r in trained])), 1)
        s["best_epoch"] = [r["best_epoch"] for r in trained]
        for name in (VALIDATION_FULL, VALIDATION_SAMPLED):
            if all(name in r for r in trained):
                s[name] = mean_std(r[name] for r in trained)
        reached = [
            r["seconds_to_val_hr10_0.82"]
            for r in trained
            if r.get("seconds_to_val_hr10_0.82") is not None
        ]
        s["seconds_to_hr10_0.82"] = round(float(np.mean(reached)), 1) if reached else None
        s["runs_reaching_hr10_0.82"] = len(reached)
    return summary


def configurations(runs: list[dict]) -> dict[str, dict]:
    """Every configuration of the trained runs: its settings, recipe name(s) and, per
    variant, the runs and the validation scores (no test numbers: those are reported for
    the chosen configuration only)."""
    out: dict[str, dict] = {}
    for run in _trained(runs):
        key = config_key(run)
        entry = out.setdefault(key, {"recipes": [], "settings": configuration(run), "variants": {}})
        recipe = run.get("recipe", "default")
        if recipe not in entry["recipes"]:
            entry["recipes"].append(recipe)
        entry["variants"].setdefault(run["variant"], []).append(run)
    for entry in out.values():
        entry["variants"] = {
            variant: {
                "runs": len(rs),
                "seeds": sorted(r["seed"] for r in rs),
                **{
                    name: mean_std(r[name] for r in rs)
                    for name in (VALIDATION_FULL, VALIDATION_SAMPLED)
                    if all(name in r for r in rs)
                },
            }
            for variant, rs in entry["variants"].items()
        }
    return out


def choose(runs: list[dict], variant: str = "sair") -> dict | None:
    """The configuration whose `variant` has the best mean validation score among those run
    over the most seeds (a search screens on one seed and confirms the best over more: a
    one-seed score never outranks a confirmed mean): by `full_ndcg_10` among the
    configurations whose runs all recorded it, if any does; else by the sampled `ndcg_10`.
    None without a trained run of `variant`."""
    candidates = {
        key: c["variants"][variant]
        for key, c in configurations(runs).items()
        if variant in c["variants"]
    }
    if not candidates:
        return None
    full = {k: v for k, v in candidates.items() if VALIDATION_FULL in v}
    by, pool = (VALIDATION_FULL, full) if full else (VALIDATION_SAMPLED, candidates)
    pool = {k: v for k, v in pool.items() if by in v}
    if not pool:
        return None
    among = len(pool)
    most = max(v["runs"] for v in pool.values())
    pool = {k: v for k, v in pool.items() if v["runs"] == most}
    key = max(pool, key=lambda k: pool[k][by]["mean"])
    return {
        "configuration": key,
        "variant": variant,
        "by": "validation " + by.removeprefix("best_val_"),
        "value": pool[key][by],
        "runs": pool[key]["runs"],
        "among": among,  # configurations with a score
        "confirmed": len(pool),  # of them, those run over `runs` seeds
    }


def chosen_runs(runs: list[dict], choice: dict | None) -> list[dict]:
    """The runs reported for a choice: the popularity baseline, every variant of the chosen
    configuration, and, when that configuration has no `sasrec` of its own, the `sasrec`
    runs that share its settings outside the interest head (the same encoder, objective and
    budget)."""
    popularity = [r for r in runs if r["variant"] == "popularity"]
    if choice is None:
        return popularity
    key = choice["configuration"]
    mine = [r for r in _trained(runs) if config_key(r) == key]
    if not any(r["variant"] == "sasrec" for r in mine):
        encoder = config_key(mine[0], encoder_only=True)
        mine += [
            r
            for r in _trained(runs)
            if r["variant"] == "sasrec" and config_key(r, encoder_only=True) == encoder
        ]
    return popularity + mine


def headline(runs: list[dict]) -> dict:
    """What a results file reports: `chosen` (see `choose`) and `summary` (its runs)."""
    choice = choose(runs)
    return {"chosen": choice, "summary": summarize(chosen_runs(runs, choice))}


def to_json(result: dict) -> str:
    """A results file's text: indented, with each list of plain values (a per-epoch curve)
    on one line."""
    text = json.dumps(result, indent=2)
    flat = re.compile(r"\[\n\s*([^\[\]{}\n]*(?:\n\s*[^\[\]{}\n]*)*?)\n\s*\]")
    return flat.sub(lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text) + "\n"
