"""Typed hyper-parameters of the model (`ModelConfig`) and of training (`TrainConfig`).

Defaults are the paper's (docs/MODEL.md): hidden 64, max_len 150, batch 256, Adam 1e-3,
patience 20, with early stopping on the full-catalog validation NDCG@10 (the paper's sampled
NDCG@10 by name, `early_stopping_metric="ndcg_10"`); L and K are dataset-specific
(`PAPER_INTERESTS`). Layers never read these objects: the model passes plain arguments.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sair_keras import metric_names

VARIANTS = ("sasrec", "sair", "sair_full", "sair_label")
TRAINING_LOSSES = ("bce", "softmax")
FFN_ACTIVATIONS = ("relu", "gelu")

# (L, K) of the paper per dataset.
PAPER_INTERESTS = {"ml-1m": (10, 3), "ml-20m": (20, 8), "anime": (30, 10)}

# Named model recipes: changes to ModelConfig's defaults. "paper" is the paper's model as
# written (eq. 10 without a residual); "default" is ours (see ModelConfig's attributes).
RECIPES: dict[str, dict[str, Any]] = {
    "default": {},
    "paper": {"aggregation_residual": False},
    # Ablation of the normalisation placement: eq. 10 without the residual, layer-normalised.
    "paper_layernorm": {"aggregation_residual": False, "aggregation_layer_norm": True},
    # Ablation of the loss: the whole catalog as negatives instead of one sampled item.
    "softmax": {"training_loss": "softmax"},
    # Both: eq. 10 as written (raised hr_10 under BCE) with the catalog-wide softmax loss
    # (raised ndcg_10).
    "paper_softmax": {"aggregation_residual": False, "training_loss": "softmax"},
    # Ablation of the DeCov regularizer (λ = 0).
    "no_decov": {"decov_weight": 0.0},
    # Ablation of the dropout alone: RecBole's SASRec default (the `recbole` recipe changes
    # four other things with it).
    "dropout_0.5": {"dropout": 0.5},
    # Ablations of L and K: one interest per position; the paper's ML-20M pool (L=20, K=8).
    "top_1": {"top_k": 1},
    "pool_20_top_8": {"num_interests": 20, "top_k": 8},
    # Both changes that lifted ML-1M `sair`: the larger pool (hr_10 under BCE) and the
    # catalog-wide softmax loss (ndcg_10).
    "softmax_pool_20_top_8": {"num_interests": 20, "top_k": 8, "training_loss": "softmax"},
    # Ablations of the interest selection: a load-balancing term on the top-K slots; a
    # residual around the interaction layer (C_r' = C_r + attention).
    "balance": {"balance_weight": 0.01},
    "interaction_residual": {"interaction_residual": True},
    # The paper's networks ran in RecBole (section IV-A), whose SASRec defaults differ from
    # the original SASRec's that ours follows: 2 heads, a 4D GELU FFN, dropout 0.5, and the
    # cross-entropy over the catalog (loss_type "CE").
    "recbole": {
        "num_heads": 2,
        "ffn_dim": 256,
        "ffn_activation": "gelu",
        "dropout": 0.5,
        "training_loss": "softmax",
    },
}


class ModelConfigError(ValueError):
    pass


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


def sasrec_recipe(name: str) -> str:
    """The recipe whose `sasrec` is recipe `name`'s `sasrec`: the one that changes the same
    fields outside the interest head ("default" for a recipe that changes only the head,
    "softmax" for one that adds the softmax loss to head changes); `name` itself when no
    other recipe does."""
    if name not in RECIPES:
        raise ModelConfigError(f"unknown recipe {name!r}; expected one of {sorted(RECIPES)}")
    encoder = {k: v for k, v in RECIPES[name].items() if k not in INTEREST_HEAD_FIELDS}
    return next((other for other, fields in RECIPES.items() if fields == encoder), name)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Attributes:
    variant: "sasrec" (encoder only), "sair", "sair_full" (all L interests, no interaction
      layer, no top-K) or "sair_label" (the category table is the interest pool).
    hidden_dim: D.
    max_len: N, positions of the input sequence.
    num_blocks, num_heads: of the causal self-attention encoder.
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
    aggregation_layer_norm: the LayerNorm on the head's output, apart from the residual;
      None (default) follows `aggregation_residual` (LN with it, none without).
    interaction_residual: `C_r' = C_r + attention(C_r)` instead of eq. 5's attention alone
      (an ablation; sair and sair_label).
    balance_weight: α of a load-balancing loss on the top-K selection (an ablation, not in
      the paper; `regularizers.interest_balance`); 0 turns it off; sair and sair_label.
    training_loss: "bce" (eq. 12, the paper: one uniformly sampled negative per position,
      binary cross-entropy) or "softmax" (cross-entropy over the whole catalog at every
      position; costs a `[real positions, num_items]` logit tensor per step, up to B·N rows,
      so it suits catalogs of thousands of items, not of hundreds of thousands).
    """

    variant: str = "sair"
    hidden_dim: int = 64
    max_len: int = 150
    num_blocks: int = 2
    num_heads: int = 1
    ffn_dim: int | None = None
    ffn_activation: str = "relu"
    dropout: float = 0.2
    num_interests: int = 10
    top_k: int = 3
    decov_weight: float = 1.0
    use_categories: bool = True
    aggregation_residual: bool = True
    aggregation_layer_norm: bool | None = None
    interaction_residual: bool = False
    balance_weight: float = 0.0
    training_loss: str = "bce"

    def __post_init__(self) -> None:
        if self.aggregation_layer_norm is None:  # stored resolved: to_dict says what ran
            object.__setattr__(self, "aggregation_layer_norm", self.aggregation_residual)
        if self.ffn_dim is None:
            object.__setattr__(self, "ffn_dim", self.hidden_dim)
        if self.variant not in VARIANTS:
            raise ModelConfigError(f"unknown variant {self.variant!r}; expected one of {VARIANTS}")
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
                raise ModelConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden_dim % self.num_heads:
            raise ModelConfigError(
                f"hidden_dim ({self.hidden_dim}) must be divisible by num_heads ({self.num_heads})"
            )
        if self.variant == "sair" and self.top_k > self.num_interests:
            raise ModelConfigError(
                f"top_k K={self.top_k} exceeds the interest pool L={self.num_interests}"
            )
        if self.ffn_activation not in FFN_ACTIVATIONS:
            raise ModelConfigError(
                f"unknown ffn_activation {self.ffn_activation!r}; expected one of {FFN_ACTIVATIONS}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ModelConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.training_loss not in TRAINING_LOSSES:
            raise ModelConfigError(
                f"unknown training_loss {self.training_loss!r}; expected one of {TRAINING_LOSSES}"
            )
        if self.decov_weight < 0:
            raise ModelConfigError(f"decov_weight must be >= 0, got {self.decov_weight}")
        if self.balance_weight < 0:
            raise ModelConfigError(f"balance_weight must be >= 0, got {self.balance_weight}")
        selects = self.variant in ("sair", "sair_label")  # an interaction layer and top-K
        for name, on in (
            ("interaction_residual", self.interaction_residual),
            ("balance_weight", self.balance_weight > 0),
        ):
            if on and not selects:
                raise ModelConfigError(
                    f"{name} applies to the interest selection of sair and sair_label, "
                    f"not to variant {self.variant!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelConfig:
        return _from_dict(cls, raw)

    @classmethod
    def recipe(cls, name: str, **overrides: Any) -> ModelConfig:
        """The named recipe (`RECIPES`) with `overrides` on top."""
        if name not in RECIPES:
            raise ModelConfigError(f"unknown recipe {name!r}; expected one of {sorted(RECIPES)}")
        return _from_dict(cls, {**RECIPES[name], **overrides})


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Attributes:
    batch_size: histories per optimizer step, on average: training batches group histories
      of similar length and hold about equal numbers of real items (`data.train_dataset`).
    learning_rate: of Adam.
    epochs: the most epochs; 0 exports the untrained model.
    patience: early stopping ends training after this many epochs without a better
      validation `early_stopping_metric`; the best epoch's weights are restored.
    early_stopping_metric: the validation ranking metric early stopping follows:
      `full_ndcg_10` (default: the target among every unseen item), or another of
      `metric_names` (e.g. `ndcg_10`, the paper's sampled metric, to reproduce its Table II).
    eval_every: validate every this many epochs.
    seed: of the initialisation, the shuffling and the training negatives.
    steps_per_epoch: None is one pass over the training sequences.
    """

    batch_size: int = 256
    learning_rate: float = 1e-3
    epochs: int = 200
    patience: int = 20
    early_stopping_metric: str = "full_ndcg_10"
    eval_every: int = 1
    seed: int = 0
    steps_per_epoch: int | None = None

    def __post_init__(self) -> None:
        try:
            metric_names.parse_metric_name(self.early_stopping_metric)
        except ValueError as e:
            raise ModelConfigError(f"early_stopping_metric: {e}") from e
        for name in ("batch_size", "eval_every"):
            if getattr(self, name) < 1:
                raise ModelConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.epochs < 0:  # 0: no training (an untrained model, e.g. to test a gate)
            raise ModelConfigError(f"epochs must be >= 0, got {self.epochs}")
        if self.learning_rate <= 0:
            raise ModelConfigError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.patience < 0:
            raise ModelConfigError(f"patience must be >= 0, got {self.patience}")

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
    return dataclass_from_dict(cls, raw, ModelConfigError)
