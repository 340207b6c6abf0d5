"""Named experiment configurations: YAML files in `benchmarks/configs/` and the product's
`configs/` (e.g. `paper`), read by the product's configurator (`pipeline.configurator`).
A benchmark uses a file's `model` section and `data.max_len` (the one `max_len`, which the
ingestion and the model share); its protocol (epochs, patience, early stopping) comes from
the benchmark's own flags.

  model_settings("softmax")      # {"training_loss": "softmax"}
  sasrec_configuration("softmax_pool_20_top_8")   # "softmax"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline import configurator
from sair_keras.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIRS = (ROOT / "benchmarks" / "configs", ROOT / "configs")

# ModelConfig fields only the interest head reads: `sasrec` (no head) is the same model
# whatever they are.
INTEREST_HEAD_FIELDS = frozenset(
    {
        "num_interests",
        "top_k",
        "decov_weight",
        "aggregation_residual",
        "aggregation_layer_norm",
        "interaction_residual",
        "balance_weight",
    }
)


def names() -> list[str]:
    """Every named configuration with a `model` section (or none: the defaults)."""
    found = {p.stem for d in CONFIG_DIRS for p in d.glob("*.yaml")}
    return sorted(n for n in found if "source" not in configurator.load_file(path(n)))


def path(name: str) -> Path:
    for directory in CONFIG_DIRS:
        candidate = directory / f"{name}.yaml"
        if candidate.exists():
            return candidate
    raise ConfigError(f"unknown configuration {name!r}; expected one of {names()}")


def model_settings(name: str) -> dict[str, Any]:
    """The `model` section of configuration `name`: its changes to ModelConfig's defaults."""
    return dict(configurator.load_file(path(name)).get("model", {}))


def max_len(name: str) -> int | None:
    """`data.max_len` of configuration `name`, or None (the default)."""
    return configurator.load_file(path(name)).get("data", {}).get("max_len")


def sasrec_configuration(name: str) -> str:
    """The configuration whose `sasrec` is configuration `name`'s `sasrec`: the one that
    changes the same fields outside the interest head ("default" for one that changes only
    the head, "softmax" for one that adds the softmax loss to head changes); `name` itself
    when no other does."""
    encoder = {k: v for k, v in model_settings(name).items() if k not in INTEREST_HEAD_FIELDS}
    same = (encoder, max_len(name))
    return next((o for o in names() if (model_settings(o), max_len(o)) == same), name)
