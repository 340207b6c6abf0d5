"""Named experiment configurations: YAML files in `benchmarks/configs/` and the product's
`configs/` (e.g. `paper`), read by the product's configurator (`pipeline.configurator`).
A benchmark uses a file's `model` section, `data.max_len` (the one `max_len`, which the
ingestion and the model share) and its `train` section's optimisation settings (batch size,
learning rate); its protocol (epochs, patience, early stopping, seeds) comes from the
benchmark's own flags, whatever the file says. An `ablations` section holds the switches of
SAIR the product does not have (`Ablations`).

  model_settings("softmax")      # {"training_loss": "softmax"}
  ablations("balance")           # Ablations(balance_weight=0.01)
  train_settings("plus_batch_128")                # {"batch_size": 128}
  sasrec_configuration("softmax_pool_20_top_8")   # "softmax"
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pipeline import configurator
from sair_keras.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIRS = (ROOT / "benchmarks" / "configs", ROOT / "configs")

SELECTING_VARIANTS = ("sair", "sair_label")  # an interaction layer and a top-K selection
OUTPUT_LAYERS = ("tied", "untied")
ENCODER_BLOCKS = ("transformer", "ligr")
MIXTURE_WEIGHTS = ("selection", "uniform", "uniform_routed")


@dataclasses.dataclass(frozen=True)
class Ablations:
    """Switches of SAIR that only the benchmarks run (`ablations`, which builds them):
    `interaction_residual`, `balance_weight`, `aggregation_layer_norm`, `output_layer`,
    `encoder_block`, `output_mixture`, `mixture_weights`, `interest_experts`. The defaults
    are the product's model."""

    interaction_residual: bool = False
    balance_weight: float = 0.0
    aggregation_layer_norm: bool | None = None
    output_layer: str = "tied"
    encoder_block: str = "transformer"
    output_mixture: bool = False
    mixture_weights: str = "selection"
    interest_experts: bool = False

    def __post_init__(self) -> None:
        if self.balance_weight < 0:
            raise ConfigError(f"balance_weight must be >= 0, got {self.balance_weight}")
        if self.output_layer not in OUTPUT_LAYERS:
            raise ConfigError(
                f"unknown output_layer {self.output_layer!r}; expected one of {OUTPUT_LAYERS}"
            )
        if self.encoder_block not in ENCODER_BLOCKS:
            raise ConfigError(
                f"unknown encoder_block {self.encoder_block!r}; expected one of {ENCODER_BLOCKS}"
            )
        if self.mixture_weights not in MIXTURE_WEIGHTS:
            raise ConfigError(
                f"unknown mixture_weights {self.mixture_weights!r}; expected one of "
                f"{MIXTURE_WEIGHTS}"
            )
        if self.mixture_weights != "selection" and not self.output_mixture:
            raise ConfigError("mixture_weights applies to output_mixture only")
        if self.interest_experts and (
            self.output_mixture or self.aggregation_layer_norm is not None
        ):
            raise ConfigError(
                "interest_experts replaces the fused head: it does not combine with "
                "output_mixture or aggregation_layer_norm"
            )

    def check(self, variant: str) -> None:
        """Refuses switches of the selection for a variant without one (sasrec has no head:
        `aggregation_layer_norm` leaves it unchanged)."""
        for name, on in (
            ("interaction_residual", self.interaction_residual),
            ("balance_weight", self.balance_weight > 0),
            ("output_mixture", self.output_mixture),
            ("interest_experts", self.interest_experts),
        ):
            if on and variant not in SELECTING_VARIANTS:
                raise ConfigError(
                    f"{name} applies to the interest selection of sair and sair_label, "
                    f"not to variant {variant!r}"
                )

    def changed(self) -> dict[str, Any]:
        """The switches that differ from the product's model."""
        default = Ablations()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }


ABLATION_FIELDS = frozenset(f.name for f in dataclasses.fields(Ablations))
# The switches only the interest head reads (`output_layer` and `encoder_block` change
# every variant).
HEAD_ABLATIONS = frozenset(
    {
        "interaction_residual",
        "balance_weight",
        "aggregation_layer_norm",
        "output_mixture",
        "mixture_weights",
        "interest_experts",
    }
)


def changed_switches(
    model: dict[str, Any], names: frozenset[str] = ABLATION_FIELDS
) -> dict[str, Any]:
    """The switches among `names` that recorded model settings `model` set apart from the
    product's model, by name. There `aggregation_layer_norm` follows
    `aggregation_residual`, so it is changed only where it differs from that."""
    product = {
        **dataclasses.asdict(Ablations()),
        "aggregation_layer_norm": model.get("aggregation_residual"),
    }
    return {
        k: model[k]
        for k in sorted(names)
        if k in model
        and model[k] != product[k]
        and not (k == "aggregation_layer_norm" and model[k] is None)
    }


# Settings only the interest head reads: `sasrec` (no head) is the same model
# whatever they are.
INTEREST_HEAD_FIELDS = (
    frozenset({"num_interests", "top_k", "decov_weight", "aggregation_residual"}) | HEAD_ABLATIONS
)


# A configuration: its name, its file, or its layer (e.g. a recorded one, `recorded.layer`).
Source = str | Path | dict[str, Any]


def _layer(source: Source) -> dict[str, Any]:
    """A configuration as the configurator reads a file, with its `ablations` section."""
    if isinstance(source, dict):
        configurator.check_layer(source, "a configuration layer", {"ablations": Ablations})
        return source
    file = source if isinstance(source, Path) else path(source)
    return configurator.load_file(file, {"ablations": Ablations})


def names() -> list[str]:
    """Every named configuration with a `model` section (or none: the defaults)."""
    files = {p.stem: p for d in reversed(CONFIG_DIRS) for p in d.glob("*.yaml")}
    return sorted(n for n, file in files.items() if "source" not in _layer(file))


def path(name: str) -> Path:
    for directory in CONFIG_DIRS:
        candidate = directory / f"{name}.yaml"
        if candidate.exists():
            return candidate
    raise ConfigError(f"unknown configuration {name!r}; expected one of {names()}")


def model_settings(name: Source) -> dict[str, Any]:
    """The `model` section of configuration `name`: its changes to ModelConfig's defaults."""
    return dict(_layer(name).get("model", {}))


def ablations(name: Source) -> Ablations:
    """The `ablations` section of configuration `name`: its switches of the benchmarks'
    `Ablations` (none: the product's model)."""
    return Ablations(**_layer(name).get("ablations", {}))


def max_len(name: Source) -> int | None:
    """`data.max_len` of configuration `name`, or None (the default)."""
    return _layer(name).get("data", {}).get("max_len")


def data_settings(name: Source) -> dict[str, Any]:
    """The `data` section of configuration `name` but `max_len` (which the model's settings
    carry): how the ingestion builds the examples, e.g. `training_windows`."""
    return {k: v for k, v in _layer(name).get("data", {}).items() if k != "max_len"}


# TrainConfig fields a benchmark's flags set for every run of a protocol, never a configuration.
PROTOCOL_TRAIN_FIELDS = frozenset(
    {"epochs", "patience", "early_stopping_metric", "eval_every", "seed", "steps_per_epoch"}
)


def train_settings(name: Source) -> dict[str, Any]:
    """The optimisation settings of configuration `name`'s `train` section (e.g.
    `batch_size`): its protocol fields (`PROTOCOL_TRAIN_FIELDS`, e.g. the `paper`
    configuration's early stopping metric for `./sair run`) are the benchmark's flags'."""
    section = _layer(name).get("train", {})
    return {k: v for k, v in section.items() if k not in PROTOCOL_TRAIN_FIELDS}


def sasrec_configuration(name: str) -> str:
    """The configuration whose `sasrec` is configuration `name`'s `sasrec`: the one that
    changes the same fields outside the interest head and trains alike ("default" for one
    that changes only the head, "softmax" for one that adds the softmax loss to head
    changes); `name` itself when no other does."""
    encoder = {k: v for k, v in model_settings(name).items() if k not in INTEREST_HEAD_FIELDS}

    def outside_the_head(o: str, model: dict[str, Any], changed: dict[str, Any]) -> tuple:
        return (model, changed, max_len(o), data_settings(o), train_settings(o))

    switches = {k: v for k, v in ablations(name).changed().items() if k not in INTEREST_HEAD_FIELDS}
    same = outside_the_head(name, encoder, switches)
    return next(
        (
            o
            for o in names()
            if outside_the_head(o, model_settings(o), ablations(o).changed()) == same
        ),
        name,
    )
