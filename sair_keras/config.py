"""Typed hyper-parameters of the model (`ModelConfig`) and of training (`TrainConfig`).

The defaults are written here and nowhere else (docs/MODEL.md), the configuration chosen on
validation (docs/BENCHMARKS.md): hidden 128, 3 blocks, 2 heads, max_len 200, dropout 0.1,
the objective by catalog size (`auto`), batch 128, Adam from 2e-3 along a cosine over 60
epochs, patience 10, L = 10, K = 3, early stopping on the full-catalog validation NDCG@10.
The paper's own settings are `configs/paper.yaml`. Runs put them together with a config
file and flags in `pipeline.configurator`. Layers never read these objects: the model
passes plain arguments.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sair_keras import metric_names

VARIANTS = ("sasrec", "sair", "sair_full", "sair_label")
TRAINING_LOSSES = ("auto", "softmax", "sampled_softmax", "gbce", "bce")
# `training_loss="auto"`: the full softmax up to this many items, the sampled one beyond.
FULL_SOFTMAX_MAX_ITEMS = 50_000
FFN_ACTIVATIONS = ("relu", "gelu")
SIMILARITIES = ("dot", "cosine")


class ConfigError(ValueError):
    """A configuration that cannot run, in any section (data, model, training, evaluation,
    pipeline); the message says what to change. The one configuration error type."""


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Attributes:
    variant: "sasrec" (encoder only), "sair", "sair_full" (all L interests, no interaction
      layer, no top-K) or "sair_label" (the category table is the interest pool).
    hidden_dim: D.
    max_len: N, positions of the input sequence.
    num_blocks, num_heads: of the causal self-attention encoder (3 blocks of 2 heads: the
      search's choice on ML-1M validation, docs/BENCHMARKS.md; SASRec and the paper use 2
      blocks of 1 head).
    ffn_dim: inner width of the encoder's point-wise FFN; None (default) means hidden_dim,
      as in SASRec, and is stored resolved.
    ffn_activation: of that FFN, "relu" (SASRec) or "gelu" (RecBole).
    dropout: after the embedding sum, in attention and in the FFNs.
    num_interests: L, size of the interest pool.
    top_k: K, interests kept per position.
    decov_weight: λ of the DeCov loss on the interest pool.
    use_categories: add the mean category embedding to each item (eq. 1).
    aggregation_residual: `e_t = LN(F_t + Σ_k w_k I''_k)` instead of eq. 10's bare sum
      (a choice: with the bare sum, training on ML-100K leaves popularity level much later
      and ends lower, docs/MODEL.md).
    training_loss: the objective of predicting the next item at every real position:
      "softmax", the cross-entropy over the whole catalog (a `[positions, items]` logit
      tensor per step: catalogs up to tens of thousands of items); "sampled_softmax", the
      cross-entropy over the positive and `num_negatives` items shared by the batch, with
      the logQ correction (catalogs of 10^5-10^6 items); "gbce", gSASRec's generalised
      binary cross-entropy over the same negatives, the positive's term raised to β
      (calibrated by `gbce_t`); "bce", eq. 12 of the paper, one negative per position not
      in the user's sequence; "auto" (default), "softmax" for catalogs of at most
      `FULL_SOFTMAX_MAX_ITEMS` items and "sampled_softmax" above, resolved when the model
      is built (`resolve_training_loss`).
    num_negatives: negatives per step of "sampled_softmax" and "gbce".
    in_batch_negative_share: the share of those negatives drawn from the batch's positives
      (popular items more often), the rest uniformly from the catalog; the logQ correction
      of "sampled_softmax" accounts for both.
    gbce_t: t of gBCE, in [0, 1]: 0 is plain BCE over the sampled negatives, 1 calibrates
      the positive's probability as if every item were a negative (Petrov & Macdonald,
      "gSASRec", RecSys 2023).
    norm_first: pre-LayerNorm encoder blocks (and a LayerNorm after the last) instead of
      the paper's post-LayerNorm.
    similarity: how a user representation scores an item: "dot" (eq. 11) or "cosine",
      both L2-normalised and the product divided by `temperature` (HSTU's scoring).
    temperature: of "cosine" similarity.
    exclude_seen: items of the user's history are not recommended, not ranked against the
      target in the full-catalog metrics and not drawn as BCE negatives (default); runs
      take it from `data.exclude_seen`.
    """

    variant: str = "sair"
    hidden_dim: int = 128
    max_len: int = 200
    num_blocks: int = 3
    num_heads: int = 2
    ffn_dim: int | None = None
    ffn_activation: str = "relu"
    dropout: float = 0.1
    num_interests: int = 10
    top_k: int = 3
    decov_weight: float = 1.0
    use_categories: bool = True
    aggregation_residual: bool = True
    training_loss: str = "auto"
    num_negatives: int = 256
    in_batch_negative_share: float = 0.0
    gbce_t: float = 0.75
    norm_first: bool = False
    similarity: str = "dot"
    temperature: float = 0.05
    exclude_seen: bool = True

    def __post_init__(self) -> None:
        if self.ffn_dim is None:
            object.__setattr__(self, "ffn_dim", self.hidden_dim)
        if self.variant not in VARIANTS:
            raise ConfigError(f"unknown variant {self.variant!r}; expected one of {VARIANTS}")
        for name in (
            "hidden_dim",
            "max_len",
            "num_blocks",
            "num_heads",
            "ffn_dim",
            "num_interests",
            "top_k",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden_dim % self.num_heads:
            raise ConfigError(
                f"hidden_dim ({self.hidden_dim}) must be divisible by num_heads ({self.num_heads})"
            )
        if self.variant == "sair" and self.top_k > self.num_interests:
            raise ConfigError(
                f"top_k K={self.top_k} exceeds the interest pool L={self.num_interests}"
            )
        if self.ffn_activation not in FFN_ACTIVATIONS:
            raise ConfigError(
                f"unknown ffn_activation {self.ffn_activation!r}; expected one of {FFN_ACTIVATIONS}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.training_loss not in TRAINING_LOSSES:
            raise ConfigError(
                f"unknown training_loss {self.training_loss!r}; expected one of {TRAINING_LOSSES}"
            )
        if self.num_negatives < 1:
            raise ConfigError(f"num_negatives must be >= 1, got {self.num_negatives}")
        if not 0.0 <= self.in_batch_negative_share <= 1.0:
            raise ConfigError(
                f"in_batch_negative_share must be in [0, 1], got {self.in_batch_negative_share}"
            )
        if self.similarity not in SIMILARITIES:
            raise ConfigError(
                f"unknown similarity {self.similarity!r}; expected one of {SIMILARITIES}"
            )
        if self.temperature <= 0:
            raise ConfigError(f"temperature must be > 0, got {self.temperature}")
        if not 0.0 <= self.gbce_t <= 1.0:
            raise ConfigError(f"gbce_t must be in [0, 1], got {self.gbce_t}")
        if self.decov_weight < 0:
            raise ConfigError(f"decov_weight must be >= 0, got {self.decov_weight}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelConfig:
        return _from_dict(cls, raw)


def resolve_training_loss(config: ModelConfig, num_items: int) -> ModelConfig:
    """`config` with `training_loss="auto"` replaced by the objective for a catalog of
    `num_items` rows: "softmax" up to `FULL_SOFTMAX_MAX_ITEMS`, else "sampled_softmax"."""
    if config.training_loss != "auto":
        return config
    loss = "softmax" if num_items <= FULL_SOFTMAX_MAX_ITEMS else "sampled_softmax"
    return dataclasses.replace(config, training_loss=loss)


LEARNING_RATE_SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Attributes:
    batch_size: histories per optimizer step, on average: training batches group histories
      of similar length and hold about equal numbers of real items (`data.train_dataset`).
    learning_rate: of Adam (its peak under a decaying `learning_rate_schedule`).
    learning_rate_schedule: "constant", or "cosine": epoch e (from 0) trains at
      `learning_rate * (1 + cos(pi * e / epochs)) / 2`, from `learning_rate` down towards
      0 at the end of the `epochs` budget.
    epochs: the most epochs; 0 exports the untrained model.
    patience: early stopping ends training after this many epochs without a better
      validation `early_stopping_metric`; the best epoch's weights are restored.
    early_stopping_metric: the validation ranking metric early stopping follows:
      `full_ndcg_10` (default: the target among every unseen item), or another of
      `metric_names` (e.g. `ndcg_10`, the paper's sampled metric, to reproduce its Table II).
    eval_every: validate every this many epochs.
    weight_averaging: β in [0, 1). Above 0, validation, early stopping (the best weights
      it restores) and so the trained model use the exponential moving average of the
      weights at the ends of epochs, w̄ ← β·w̄ + (1 − β)·w, the first epoch's weights
      starting it; training itself runs on its own weights (`train.EpochWeightAverage`).
      0.9 (default) averages about the last 10 epochs; 0: the weights themselves.
    seed: of the initialisation, the shuffling and the training negatives.
    steps_per_epoch: None is one pass over the training sequences.
    """

    batch_size: int = 128
    learning_rate: float = 2e-3
    learning_rate_schedule: str = "cosine"
    epochs: int = 60
    patience: int = 10
    early_stopping_metric: str = "full_ndcg_10"
    eval_every: int = 1
    weight_averaging: float = 0.9
    seed: int = 0
    steps_per_epoch: int | None = None

    def __post_init__(self) -> None:
        try:
            metric_names.parse_metric_name(self.early_stopping_metric)
        except ValueError as e:
            raise ConfigError(f"early_stopping_metric: {e}") from e
        for name in ("batch_size", "eval_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.epochs < 0:  # 0: no training (an untrained model, e.g. to test a gate)
            raise ConfigError(f"epochs must be >= 0, got {self.epochs}")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.learning_rate_schedule not in LEARNING_RATE_SCHEDULES:
            raise ConfigError(
                f"unknown learning_rate_schedule {self.learning_rate_schedule!r}; "
                f"known: {list(LEARNING_RATE_SCHEDULES)}"
            )
        if self.patience < 0:
            raise ConfigError(f"patience must be >= 0, got {self.patience}")
        if not 0 <= self.weight_averaging < 1:
            raise ConfigError(f"weight_averaging must lie in [0, 1), got {self.weight_averaging}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        return _from_dict(cls, raw)


def dataclass_from_dict(cls: type, raw: dict[str, Any], error: type = ValueError) -> Any:
    """`cls(**raw)` for a config dataclass, refusing unknown keys with `error`."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise error(f"unknown {cls.__name__} keys {unknown}; known: {sorted(names)}")
    return cls(**raw)


def _from_dict(cls: type, raw: dict[str, Any]) -> Any:
    return dataclass_from_dict(cls, raw, ConfigError)
