"""Ablations of SAIR that only the benchmarks run: switches the paper's model does not
have, kept out of the product's `ModelConfig`.

- `interaction_residual`: `C_r' = C_r + attention(C_r)` instead of eq. 5's attention alone
  (sair, sair_label): the attention refines each position's relevance instead of replacing
  it.
- `balance_weight`: α of a load-balancing loss on the top-K selection, the Switch
  Transformer's (Fedus et al., JMLR 2022, eq. 4) with interests as experts; 0 turns it off
  (sair, sair_label). Training logs it as `balance_loss`, apart from the other losses.
- `aggregation_layer_norm`: the LayerNorm on the head's output apart from the residual:
  `e_t = LN(Σ_k w_k I''_k)` without the residual, `F_t + Σ_k w_k I''_k` with the residual
  but without the norm; None (default) follows `aggregation_residual`, as the product does.
- `output_layer`: "untied" scores items with a table of their own and a bias per item
  (`ItemOutputTable`, SASRec+'s linear head) instead of the input table `H_id` (eq. 11,
  "tied", the product's); every variant.
- `encoder_block`: "ligr" builds the encoder of `LiGRBlock`s (pre-LayerNorm, gated
  residuals, a SwiGLU FFN of `ffn_dim`; eSASRec's blocks) instead of the product's
  `CausalSelfAttentionBlock`s ("transformer"); every variant.
- `output_mixture`: the K kept interests score apart, as a mixture of softmaxes (Yang et
  al., "Breaking the Softmax Bottleneck", ICLR 2018) in place of eq. 10's one fused vector:
  `p(j) = Σ_k w_k softmax_j(<H_id, e_k>)`, `e_k = LN(F + I''_k)`, `w = softmax(val)` (eq. 9)
  (sair, sair_label; the full softmax only). Training, validation and the sampled and
  full-catalog metrics rank by `log p(j)`; the model has no single user vector, so it
  exports no serving model.
- `mixture_weights`: "uniform" weighs the output mixture's K slots equally, `w_k = 1/K`,
  instead of eq. 9's `softmax(val)` ("selection"): every kept interest scores however
  peaked the selection's values are. The values then weigh nothing, so the interaction
  layer (eq. 5) gets no gradient. "uniform_routed" weighs equally too, but trains the values
  as if they weighed (a straight-through estimator): the gradient moves `softmax(val)`
  towards each slot's posterior share of the next item, so the selection learns.
- `interest_experts`: one FFN per interest of the pool instead of one per slot (eq. 8's
  `FFN_k`): `e_t = LN(F + Σ_k w_k FFN_{idx_k}(C[idx_k] + F))`, the head a mixture of
  experts routed by the top-K selection (Shazeer et al., ICLR 2017), L experts of which K
  run at a position (sair, sair_label; `ExpertAggregation`).

A named configuration (`benchmarks/configs/*.yaml`) sets them in its `ablations` section,
beside the `model` section of ModelConfig's fields (`experiments.Ablations`); a run records
them among its model settings. `build_model` builds an `AblationModel`: the product's
`SAIRModel` with the changed layers swapped in.

  config = ModelConfig(**experiments.model_settings("balance"))
  model = build_model(catalog, config, experiments.ablations("balance"))
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tf_keras as keras
from experiments import Ablations

from sair_keras import features
from sair_keras.config import ModelConfig
from sair_keras.encoder import (
    CausalSelfAttention,
    CausalSelfAttentionBlock,
    SequenceEncoder,
    attention_bias,
)
from sair_keras.interests import InterestAggregation, InterestInteraction
from sair_keras.model import SAIRModel, evaluation_candidates, next_item_inputs
from sair_keras.model import build_model as build_product_model


def interest_balance(relevance: tf.Tensor, indices: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """`L · Σ_l f_l · P_l` over the real positions: the load-balancing loss of the Switch
    Transformer with interests as experts and K slots each.

    `f_l` is the share of the kept slots (K per real position) that hold interest l (a
    count, no gradient); `P_l` is the mean of `softmax(C_r')_l` over the real positions.
    The loss is 1 when both are uniform and grows to L when one interest takes every slot
    and all the probability; its gradient lowers the probability of the most used
    interests.

    Args: relevance `C_r'` `[B, N, L]` (what top-K ranks), indices int `[B, N, K]` (the
      kept interests), mask bool `[B, N]` (real positions).
    Returns: a scalar.
    """
    num_interests = tf.shape(relevance)[-1]
    real = tf.cast(mask, relevance.dtype)[..., None]  # [B, N, 1]
    positions = tf.maximum(tf.reduce_sum(real), 1.0)
    slots = tf.reduce_sum(tf.one_hot(indices, num_interests, dtype=relevance.dtype), axis=-2)
    top_k = tf.cast(tf.shape(indices)[-1], relevance.dtype)
    f = tf.reduce_sum(slots * real, axis=[0, 1]) / (positions * top_k)  # [L], sums to 1
    p = tf.reduce_sum(tf.nn.softmax(relevance, axis=-1) * real, axis=[0, 1]) / positions
    return tf.cast(num_interests, relevance.dtype) * tf.reduce_sum(f * p)


@keras.saving.register_keras_serializable(package="sair_benchmarks")
class AblatedInteraction(InterestInteraction):
    """The interaction layer (eq. 5) with the selection's ablations:

    `C_r' = C_r + attention(C_r)` with `residual`; in training, with `balance_weight` α > 0,
    adds `α · interest_balance(C_r', top_k(C_r', K), mask)` to its losses.

    Args: num_interests: L. residual: add C_r to the attention's output.
      balance_weight: α ≥ 0. top_k: K, the selection the balance loss sees.
    Call args: C_r `[B, N, L]`, mask bool `[B, N]`. Returns `C_r'` `[B, N, L]`.
    """

    def __init__(
        self,
        num_interests: int,
        residual: bool = False,
        balance_weight: float = 0.0,
        top_k: int = 1,
        **kwargs,
    ):
        super().__init__(num_interests, **kwargs)
        if balance_weight < 0 or not 1 <= top_k <= num_interests:
            raise ValueError(
                "AblatedInteraction: balance_weight must be >= 0 and 1 <= top_k <= "
                f"num_interests, received balance_weight={balance_weight}, top_k={top_k}"
            )
        self.residual = residual
        self.balance_weight = float(balance_weight)
        self.top_k = top_k

    def call(self, relevance: tf.Tensor, mask: tf.Tensor, training=None) -> tf.Tensor:
        attended = super().call(relevance, mask)
        out = relevance + attended if self.residual else attended
        if training and self.balance_weight > 0:
            _, indices = tf.math.top_k(out, k=self.top_k)
            self.add_loss(self.balance_weight * interest_balance(out, indices, mask))
        return out

    def get_config(self):
        config = super().get_config()
        config.update(residual=self.residual, balance_weight=self.balance_weight, top_k=self.top_k)
        return config


@keras.saving.register_keras_serializable(package="sair_benchmarks")
class LayerNormAggregation(InterestAggregation):
    """`InterestAggregation` with its output LayerNorm set apart from the residual:
    `layer_norm` says whether the output is layer-normalised, whatever `residual` is.

    Args: as `InterestAggregation`, and layer_norm: bool.
    """

    def __init__(self, num_slots, hidden_dim, dropout=0.0, residual=False, layer_norm=True, **kw):
        super().__init__(num_slots, hidden_dim, dropout, residual, **kw)
        self.layer_norm_output = bool(layer_norm)

    def get_config(self):
        config = super().get_config()
        config.update(layer_norm=self.layer_norm_output)
        return config


@keras.saving.register_keras_serializable(package="sair_benchmarks")
class MixtureAggregation(InterestAggregation):
    """`InterestAggregation` whose K slots stay apart (`components`), for a mixture of
    softmaxes over them: `e_k = LN(F + I''_k)` with the residual (`I''_k` without it), the
    product's FFN per slot, its dropout and LayerNorm; `call` is still eq. 10's fused vector.

    Args: as `InterestAggregation`.
    """

    def components(self, indices, values, f, pool, mask, training=None) -> tf.Tensor:
        """`[B, N, K, D]`: each slot's user vector, zero at padded positions. With the
        residual the last FFN layer starts at zero, so every slot starts at LN(F)."""
        del values  # the mixture weights, `softmax(values)`, are the caller's
        k, d = self.num_slots, self.hidden_dim
        b, n = tf.shape(f)[0], tf.shape(f)[1]
        slots = tf.einsum("bnke,ked->bnkd", self.hidden(indices, f, pool), self.w2) + self.b2
        slots = self.dropout_layer(slots, training=training)
        # Slot-major rows [B, N·K, D]: the LayerNorm was built for rank-3 inputs.
        out = self.combine(
            tf.repeat(f, k, axis=1), tf.reshape(slots, [b, n * k, d]), tf.repeat(mask, k, axis=1)
        )
        return tf.reshape(out, [b, n, k, d])


@keras.saving.register_keras_serializable(package="sair_benchmarks")
class ExpertAggregation(InterestAggregation):
    """`InterestAggregation` with one FFN per interest of the pool rather than per slot:
    `e_t = LN(F_t + Σ_k w_k FFN_{idx_k}(C[idx_k] + F_t))`, `w = softmax(val)` (eq. 9): a
    mixture of L experts of which the top-K selection routes K (Shazeer et al., "Outrageously
    Large Neural Networks", ICLR 2017), each expert's input its own interest plus F.

    Computed densely: every expert's first layer on F (one `[BN, D] × [D, L·D]` product),
    the routing weights scattered to `[BN, L]` (zero for the experts not kept), and one
    `[BN, L·D] × [L·D, D]` product for the weighted second layers; the same function as
    gathering the K experts' matrices, without a `[BN, K, D, D]` gather.

    Args: num_experts: L, the pool's size; the others as `InterestAggregation`.
    Call args and returns: as `InterestAggregation`.

    Example:
        layer = ExpertAggregation(num_experts=10, num_slots=3, hidden_dim=64, residual=True)
        e = layer(indices, values, f, pool, mask)  # [B, N, 64]
    """

    def __init__(self, num_experts: int, num_slots: int, hidden_dim: int, **kwargs):
        if num_experts < num_slots:
            raise ValueError(
                f"ExpertAggregation: num_experts ({num_experts}) must be >= num_slots ({num_slots})"
            )
        self.num_experts = num_experts
        super().__init__(num_slots, hidden_dim, **kwargs)

    def build(self, input_shape):
        # The parent's per-slot weights, shaped per expert.
        slots, self.num_slots = self.num_slots, self.num_experts
        try:
            super().build(input_shape)
        finally:
            self.num_slots = slots

    def routing(self, indices, values) -> tf.Tensor:
        """`[B, N, L]`: eq. 9's `w_k` at expert `idx_k`, zero for the experts not kept."""
        w = tf.nn.softmax(values, axis=-1)
        return tf.einsum("bnk,bnkl->bnl", w, tf.one_hot(indices, self.num_experts))

    def fuse(self, indices, values, f, pool):
        """`Σ_k w_k FFN_{idx_k}(C[idx_k] + F)`, `[B, N, D]`."""
        experts, d = self.num_experts, self.hidden_dim
        b, n = tf.shape(f)[0], tf.shape(f)[1]
        # Expert l's first layer on its own interest: (C W1_l)[l], [L, D].
        own = tf.einsum("ld,dle->le", pool, self.w1)
        f_part = tf.reshape(
            tf.matmul(tf.reshape(f, [-1, d]), tf.reshape(self.w1, [d, experts * d])),
            [b, n, experts, d],
        )
        h = tf.nn.relu(f_part + own + self.b1)  # [B, N, L, D]
        route = self.routing(indices, values)
        weighted = tf.reshape(h * route[..., None], [-1, experts * d])
        fused = tf.matmul(weighted, tf.reshape(self.w2, [experts * d, d]))
        return tf.reshape(fused, [b, n, d]) + tf.einsum("bnl,ld->bnd", route, self.b2)

    def hidden(self, indices, f, pool):
        raise NotImplementedError("ExpertAggregation computes its experts densely (fuse)")

    def get_config(self):
        return {**super().get_config(), "num_experts": self.num_experts}


@keras.saving.register_keras_serializable(package="sair_benchmarks")
class ItemOutputTable(keras.layers.Layer):
    """An output layer over the catalog apart from the input item table:
    `s_j = <W_j, e> + b_j` for every item j (an untied output layer with a bias per item,
    as the linear head of SASRec+; eq. 11 scores with the input table `H_id` instead).

    `AblationModel` scores with `kernel` and `bias` directly (`item_vectors`), so that
    every objective and the serving signatures see the same scores; `call` gives them for
    the whole catalog.

    Args:
      num_items: rows, padding and `[UNK]` included (their scores are never used).

    Call args:
      e: `[..., D]` user representations; D is taken from the first call (or `build`).
    Returns:
      `[..., num_items]` scores.

    Example:
      >>> table = ItemOutputTable(num_items=5)
      >>> table(tf.zeros([2, 8])).shape  # bias only at the start: zeros
      TensorShape([2, 5])

    References:
      Klenitskiy & Vasilev, "Turning Dross Into Gold Loss: is BERT4Rec really better than
      SASRec?", RecSys 2023 (SASRec+).
    """

    def __init__(self, num_items: int, **kwargs):
        super().__init__(**kwargs)
        if num_items < 1:
            raise ValueError(f"ItemOutputTable: num_items must be >= 1, received {num_items}")
        self.num_items = num_items

    def build(self, input_shape):
        hidden_dim = int(input_shape[-1])
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.num_items, hidden_dim),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        )
        self.bias = self.add_weight(name="bias", shape=(self.num_items,), initializer="zeros")
        super().build(input_shape)

    def call(self, e: tf.Tensor) -> tf.Tensor:
        return tf.einsum("...d,jd->...j", e, self.kernel) + self.bias

    def get_config(self):
        config = super().get_config()
        config.update(num_items=self.num_items)
        return config


def _without_product_block_settings(config: dict[str, Any]) -> dict[str, Any]:
    """A LiGR layer's config: its product parent's without the settings LiGR does not read
    (its blocks are pre-LayerNorm with a SwiGLU FFN)."""
    return {k: v for k, v in config.items() if k not in ("ffn_activation", "norm_first")}


@keras.saving.register_keras_serializable(package="sair_benchmarks")
class LiGRBlock(CausalSelfAttentionBlock):
    """A LiGR Transformer block: pre-LayerNorm, each residual branch scaled by a sigmoid
    gate of the block's input, a SwiGLU point-wise FFN without biases:

    `H = X + σ(X G_1 + g_1) ⊙ Dropout(Attention(LN_1(X)))`,
    `U = LN_2(H)`, `F = H + σ(H G_2 + g_2) ⊙ Dropout(W_d · Dropout(SiLU(U W_g) ⊙ U W_u))`,
    zeroed at padded positions; `G_i ∈ R^{D×D}`, `W_g, W_u ∈ R^{D×ffn_dim}`,
    `W_d ∈ R^{ffn_dim×D}`. The attention is the product's `CausalSelfAttention`; the
    product's block gives the arguments and their checks, the sublayers are LiGR's.

    Args:
      hidden_dim: D. num_heads: attention heads (D divisible by it). dropout: rate.
      ffn_dim: the SwiGLU's inner width; None means 4·D.
    Call args:
      x `[B, N, D]`, mask bool `[B, N]` (True = real item), bias: `attention_bias(mask)`,
      computed when not given.
    Returns:
      `[B, N, D]`.

    Example:
      >>> block = LiGRBlock(16, num_heads=2, dropout=0.1)
      >>> block(tf.zeros([2, 5, 16]), tf.ones([2, 5], tf.bool)).shape
      TensorShape([2, 5, 16])

    References:
      Gupta et al., "From Features to Transformers: Redefining Ranking for Scalable
      Impact", 2025 (LiGR); Tikhonovich et al., "eSASRec: Enhancing Transformer-based
      Recommendations in a Modular Fashion", RecSys 2025.
    """

    def __init__(self, hidden_dim, num_heads=1, dropout=0.0, ffn_dim=None, **kwargs):
        super().__init__(hidden_dim, num_heads, dropout, ffn_dim or 4 * hidden_dim, **kwargs)

    def build(self, input_shape):
        d, inner = self.hidden_dim, self.ffn_dim
        self.attention = CausalSelfAttention(d, self.num_heads, self.dropout, name="attention")
        self.norm_1 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm_1")
        self.norm_2 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm_2")
        self.gate_1 = keras.layers.Dense(d, activation="sigmoid", name="gate_1")
        self.gate_2 = keras.layers.Dense(d, activation="sigmoid", name="gate_2")
        self.ffn_gate = keras.layers.Dense(
            inner, activation="silu", use_bias=False, name="ffn_gate"
        )
        self.ffn_up = keras.layers.Dense(inner, use_bias=False, name="ffn_up")
        self.ffn_down = keras.layers.Dense(d, use_bias=False, name="ffn_down")
        self.dropouts = [keras.layers.Dropout(self.dropout) for _ in range(3)]
        for layer in (
            self.attention,
            self.norm_1,
            self.norm_2,
            self.gate_1,
            self.gate_2,
            self.ffn_gate,
            self.ffn_up,
        ):
            layer.build(input_shape)
        self.ffn_down.build(tf.TensorShape(input_shape)[:-1].concatenate([inner]))
        keras.layers.Layer.build(self, input_shape)  # not the product block's sublayers

    def call(self, x, mask, training=None, bias=None):
        if bias is None:
            bias = attention_bias(mask, x.dtype)
        attn = self.attention(self.norm_1(x), bias, training=training)
        h = x + self.gate_1(x) * self.dropouts[0](attn, training=training)
        u = self.norm_2(h)
        inner = self.dropouts[1](self.ffn_gate(u) * self.ffn_up(u), training=training)
        out = h + self.gate_2(h) * self.dropouts[2](self.ffn_down(inner), training=training)
        return out * tf.cast(mask, out.dtype)[..., None]

    def get_config(self):
        return _without_product_block_settings(super().get_config())


@keras.saving.register_keras_serializable(package="sair_benchmarks")
class LiGREncoder(SequenceEncoder):
    """A stack of `num_blocks` `LiGRBlock`s, `F = Block_n(… Block_1(E))`, with no norm after
    the last (as eSASRec's). Args: as `LiGRBlock`'s, and num_blocks >= 1. Call args:
    x `[B, N, D]`, mask bool `[B, N]`. Returns `F` `[B, N, D]`. The product's encoder
    gives the arguments, their checks and the call; the blocks are LiGR's."""

    def __init__(self, hidden_dim, num_blocks=2, num_heads=1, dropout=0.0, ffn_dim=None, **kw):
        super().__init__(
            hidden_dim, num_blocks, num_heads, dropout, ffn_dim or 4 * hidden_dim, **kw
        )

    def build(self, input_shape):
        self.blocks = [
            LiGRBlock(
                self.hidden_dim, self.num_heads, self.dropout, self.ffn_dim, name=f"block_{i}"
            )
            for i in range(self.num_blocks)
        ]
        for block in self.blocks:
            block.build(input_shape)
        self.final_norm = None
        keras.layers.Layer.build(self, input_shape)  # not the product encoder's blocks

    def get_config(self):
        return _without_product_block_settings(super().get_config())


@keras.saving.register_keras_serializable(package="sair_benchmarks")
class AblationModel(SAIRModel):
    """`SAIRModel` with `Ablations`: the changed layers replace the product's before the
    model is built; training logs `balance_loss` when the balance loss is on.

    Args: as `SAIRModel`, and ablations: an `Ablations` or its `changed()` dict.
    """

    def __init__(self, *args, ablations: Ablations | dict[str, Any] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(ablations, Ablations):
            ablations = Ablations(**(ablations or {}))
        c = self.model_config
        ablations.check(c.variant)
        self.ablations = ablations
        if ablations.interaction_residual or ablations.balance_weight > 0:
            self.interaction = AblatedInteraction(
                self.pool_size,
                ablations.interaction_residual,
                ablations.balance_weight,
                self.top_k.top_k,
                name="interest_interaction",
            )
        if ablations.encoder_block == "ligr":
            if c.norm_first or c.ffn_activation != "relu":
                raise ValueError(
                    "LiGR blocks are pre-LayerNorm with a SwiGLU FFN: norm_first and "
                    "ffn_activation do not apply"
                )
            self.encoder = LiGREncoder(
                c.hidden_dim, c.num_blocks, c.num_heads, c.dropout, c.ffn_dim, name="encoder"
            )
        self.output_table = None
        if ablations.output_layer == "untied":
            self.output_table = ItemOutputTable(self.num_items, name="output_table")
            self.output_table.build(tf.TensorShape([None, c.hidden_dim]))  # scores need no call
        if ablations.output_mixture:
            if c.training_loss != "softmax" or ablations.aggregation_layer_norm is not None:
                raise ValueError(
                    "output_mixture trains the full softmax (training_loss 'softmax', got "
                    f"{c.training_loss!r}) with the product's aggregation LayerNorm"
                )
            self.aggregation = MixtureAggregation(
                self.aggregation.num_slots,
                c.hidden_dim,
                c.dropout,
                c.aggregation_residual,
                name="interest_aggregation",
            )
        if ablations.interest_experts:
            self.aggregation = ExpertAggregation(
                self.pool_size,
                self.aggregation.num_slots,
                c.hidden_dim,
                dropout=c.dropout,
                residual=c.aggregation_residual,
                name="interest_aggregation",
            )
        layer_norm = ablations.aggregation_layer_norm
        if layer_norm is not None and layer_norm != c.aggregation_residual:
            self.aggregation = LayerNormAggregation(
                self.aggregation.num_slots,
                c.hidden_dim,
                c.dropout,
                c.aggregation_residual,
                layer_norm,
                name="interest_aggregation",
            )

    def item_vectors(self) -> tf.Tensor:
        """With an untied output layer, its kernel's rows (as `similarity` says) and its
        bias as a last column, which `user_vectors` meets with a 1: every product of the
        two is `<W_j, e> + b_j`."""
        if self.output_table is None:
            return super().item_vectors()
        rows = self.scoring_rows(self.output_table.kernel)
        return tf.concat([rows, self.output_table.bias[:, None]], axis=-1)

    def user_vectors(self, e: tf.Tensor) -> tf.Tensor:
        """With an untied output layer, a last component 1 (its bias, `item_vectors`)."""
        e = super().user_vectors(e)
        if self.output_table is None:
            return e
        return tf.concat([e, tf.ones_like(e[..., :1])], axis=-1)

    # ------------------------------------------------------------ the output mixture

    def mixture(self, item_seq, training=None, last_only=False):
        """With `output_mixture`: the slots' user vectors `e_k` as they score
        (`user_vectors`), `[B, N, K, D]`, and `log w` `[B, N, K]`, at every position or at
        the last only (`[B, K, D]`, `[B, K]`)."""
        item_seq = tf.cast(item_seq, tf.int64)
        f, mask = self._encode(item_seq, training)
        indices, values, pool = self._select(f, mask, training)
        if last_only:
            indices, values, f, mask = (t[:, -1:] for t in (indices, values, f, mask))
        e = self.aggregation.components(indices, values, f, pool, mask, training=training)
        log_w = tf.nn.log_softmax(values, axis=-1)
        if self.ablations.mixture_weights != "selection":
            uniform = tf.fill(tf.shape(values), -tf.math.log(float(self.top_k.top_k)))
            if self.ablations.mixture_weights == "uniform_routed":  # forward 1/K, backward eq. 9
                uniform += log_w - tf.stop_gradient(log_w)
            log_w = uniform
        e = self.user_vectors(e)
        return (e[:, 0], log_w[:, 0]) if last_only else (e, log_w)

    def slot_logits(self, e) -> tuple[tf.Tensor, tf.Tensor]:
        """Each slot's scores `<H_j, e_k>` of every item index `[P, K, items]` and their
        `log Z_k` over the real items `[P, K]`, from `e` `[P, K, D]`."""
        logits = tf.einsum("pkd,jd->pkj", e, self.item_vectors())
        return logits, tf.reduce_logsumexp(logits[..., features.FIRST_ITEM_INDEX :], axis=-1)

    def mixture_log_probabilities(self, e, log_w) -> tf.Tensor:
        """`log p(j) = logsumexp_k(log w_k + <H_j, e_k> − log Z_k)` for every item index:
        `e` `[P, K, D]`, `log_w` `[P, K]` → `[P, items]`."""
        logits, log_z = self.slot_logits(e)
        return tf.reduce_logsumexp((log_w - log_z)[..., None] + logits, axis=1)

    def _ranking_loss_terms(self, item_seq, negatives, training):
        if not self.ablations.output_mixture:
            return super()._ranking_loss_terms(item_seq, negatives, training)
        item_seq = tf.cast(item_seq, tf.int64)
        inputs, real = next_item_inputs(item_seq)
        real = tf.where(real)
        e, log_w = self.mixture(inputs, training)
        e, log_w, positives = (tf.gather_nd(t, real) for t in (e, log_w, item_seq))
        # Only the positive's log p is needed: logsumexp_k(log w_k + <H_pos, e_k> − log Z_k),
        # without the [P, items] mixture of mixture_log_probabilities.
        _, log_z = self.slot_logits(e)
        positive_logits = tf.einsum("pkd,pd->pk", e, tf.gather(self.item_vectors(), positives))
        positive = tf.reduce_logsumexp(log_w - log_z + positive_logits, axis=-1)
        return -tf.reduce_sum(positive), tf.cast(tf.shape(real)[0], tf.float32)

    def catalog_scores(self, item_seq) -> tf.Tensor:
        """With `output_mixture`, `log p(j)` of every item index after each history."""
        if not self.ablations.output_mixture:
            return super().catalog_scores(item_seq)
        return self.mixture_log_probabilities(*self.mixture(item_seq, last_only=True))

    def candidate_scores(self, data) -> tf.Tensor:
        if not self.ablations.output_mixture:
            return super().candidate_scores(data)
        scores = self.catalog_scores(data[features.ITEM_SEQ])
        return tf.gather(scores, evaluation_candidates(data), batch_dims=1)

    def last_position(self, item_seq, training=None) -> tf.Tensor:
        if self.ablations.output_mixture:
            raise ValueError("with output_mixture the model has no single user vector")
        return super().last_position(item_seq, training)

    def train_step(self, data):
        logs = super().train_step(data)
        if self.ablations.balance_weight > 0:
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            logs["balance_loss"] = tf.add_n(self.interaction.losses) / replicas
        return logs

    def get_config(self):
        return {**super().get_config(), "ablations": self.ablations.changed()}


def build_model(catalog, model_config: ModelConfig, ablations: Ablations) -> SAIRModel:
    """A built model for a `Catalog`: the product's `SAIRModel` when `ablations` changes
    nothing, else an `AblationModel`."""
    if not ablations.changed():
        return build_product_model(catalog, model_config)
    return build_product_model(catalog, model_config, AblationModel, ablations=ablations)
