"""SAIRModel: SASRec and the SAIR variants as one Keras model (docs/MODEL.md §1-6).

Inputs are left-padded item index sequences `[B, N]` (the most recent item last, at slot
N − 1). `call` returns the user representation at every position, `[B, N, D]`; the score of
item j after the prefix up to t is `<H_id(j), e_t>` (eq. 11).

Objectives (`ModelConfig.training_loss`): the full softmax, the sampled softmax with the
logQ correction, gBCE and the paper's BCE (`_ranking_loss_sum`).

Variants are switches of one model, not copies:
  sasrec      e_t = F_t (no interest parameters at all)
  sair        C_r = F·Cᵀ → interaction attention → top-K → per-slot FFNs → fusion
  sair_full   all L interests, weights softmax(C_r), no interaction layer, no top-K
  sair_label  the category table (without padding) is the interest pool
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras as keras

from sair_keras import features, ranking
from sair_keras.config import ModelConfig, resolve_training_loss
from sair_keras.embedding import SequenceEmbedding
from sair_keras.encoder import SequenceEncoder
from sair_keras.interests import (
    InterestAggregation,
    InterestInteraction,
    InterestRelevance,
    TopKInterest,
)
from sair_keras.regularizers import DeCovRegularizer

MAX_NEGATIVE_DRAWS = 32


def in_sequence(items: tf.Tensor, item_seq: tf.Tensor) -> tf.Tensor:
    """bool `[B, N]`: whether each of `items` `[B, N]` occurs in its row of `item_seq`."""
    return tf.reduce_any(items[:, :, None] == item_seq[:, None, :], axis=-1)


def sample_training_negatives(
    item_seq: tf.Tensor, num_items: int, max_draws: int = MAX_NEGATIVE_DRAWS
) -> tf.Tensor:
    """One item per position of `item_seq` `[B, N]`, drawn uniformly from the real items
    (indices ≥ FIRST_ITEM_INDEX, < num_items) that are not in that user's sequence.
    Collisions are redrawn, at most `max_draws` times: a position still colliding then
    (a user who saw nearly every item) keeps an item of its sequence, which `next_item_loss`
    leaves out of the loss (`in_sequence`)."""
    item_seq = tf.cast(item_seq, tf.int64)
    shape = tf.shape(item_seq)

    def draw():
        return tf.random.uniform(shape, features.FIRST_ITEM_INDEX, num_items, dtype=tf.int64)

    def body(neg):
        return (tf.where(in_sequence(neg, item_seq), draw(), neg),)

    (neg,) = tf.while_loop(
        lambda neg: tf.reduce_any(in_sequence(neg, item_seq)),
        body,
        (draw(),),
        maximum_iterations=max_draws,
    )
    return neg


def sample_shared_negatives(
    positives: tf.Tensor, num_items: int, count: int, in_batch_share: float = 0.0
) -> tf.Tensor:
    """`count` items shared by every position of a step: `round(count · in_batch_share)`
    drawn from `positives` (the step's real targets, so in proportion to their frequency),
    the rest uniformly from the real items. An empty `positives` gives uniform draws."""
    in_batch = int(round(count * in_batch_share))
    uniform = tf.random.uniform(
        [count - in_batch], features.FIRST_ITEM_INDEX, num_items, dtype=tf.int64
    )
    if in_batch == 0:
        return uniform
    size = tf.size(positives, out_type=tf.int64)
    picks = tf.random.uniform([in_batch], 0, tf.maximum(size, 1), dtype=tf.int64)
    from_batch = tf.where(
        size > 0,
        tf.gather(tf.concat([positives, [features.FIRST_ITEM_INDEX]], 0), picks),
        tf.random.uniform([in_batch], features.FIRST_ITEM_INDEX, num_items, dtype=tf.int64),
    )
    return tf.concat([uniform, from_batch], 0)


def sampling_log_q(
    items: tf.Tensor, positives: tf.Tensor, num_items: int, count: int, in_batch_share: float
) -> tf.Tensor:
    """log of the expected number of times each of `items` is among the `count` negatives of
    `sample_shared_negatives`: the logQ correction of the sampled softmax."""
    in_batch = int(round(count * in_batch_share))
    uniform_rate = (count - in_batch) / (num_items - features.FIRST_ITEM_INDEX)
    expected = tf.fill(tf.shape(items), uniform_rate)
    if in_batch:
        frequency = tf.math.bincount(
            tf.cast(positives, tf.int32), minlength=num_items, dtype=tf.float32
        ) / tf.cast(tf.maximum(tf.size(positives), 1), tf.float32)
        expected += in_batch * tf.gather(frequency, items)
    return tf.math.log(tf.maximum(expected, 1e-12))


def gbce_logit_offset(num_negatives: int) -> float:
    """The constant added to every score inside gBCE: −log(num_negatives), the log-odds of
    the positive among its `num_negatives` + 1 candidates before anything is learned.
    Rankings do not change (every score moves alike). Without it the scores start near 0,
    where BCE over many negatives first drags every score down together; with the item
    table shared by inputs and outputs, that stalls learning for hundreds of steps (the
    toy task of `model_test.test_each_objective_learns_a_toy_task`)."""
    return -float(np.log(num_negatives))


def gbce_beta(num_negatives: int, num_real_items: int, t: float) -> float:
    """β of gBCE (Petrov & Macdonald, RecSys 2023): with the sampling rate
    α = num_negatives / (num_real_items − 1), β = α (t (1 − 1/α) + 1/α)."""
    alpha = min(1.0, num_negatives / max(num_real_items - 1, 1))
    return alpha * (t * (1 - 1 / alpha) + 1 / alpha)


@keras.saving.register_keras_serializable(package="sair")
class SAIRModel(keras.Model):
    """SAIR or one of its ablations.

    Args:
      num_items: rows of the item table, padding and `[UNK]` included.
      num_categories: rows of the category table, padding and `[UNK]` included.
      model_config: a `ModelConfig` or its dict.
      max_item_categories: columns of the item → categories table.
      item_categories: optional `[num_items, max_item_categories]` table (see Catalog).

    Training (`fit`) takes batches of `{item_seq: [B, N]}` (training prefixes); evaluation
    (`evaluate`, validation) takes `{item_seq, target [B, 1], negatives [B, M]}` and updates
    the compiled ranking metrics with the candidate scores (target first). The training
    logs report `loss` (total), `ranking_loss` (per `training_loss`) and `decov_loss` apart.
    """

    def __init__(
        self,
        num_items: int,
        num_categories: int,
        model_config: ModelConfig | dict[str, Any],
        max_item_categories: int = 1,
        item_categories: np.ndarray | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(model_config, dict):
            model_config = ModelConfig.from_dict(model_config)
        model_config = resolve_training_loss(model_config, num_items)
        if num_items <= features.FIRST_ITEM_INDEX:
            raise ValueError(f"SAIRModel: num_items must exceed the reserved rows, got {num_items}")
        self.num_items = num_items
        self.num_categories = num_categories
        self.max_item_categories = max_item_categories
        self.model_config = model_config
        c = model_config
        self.embedding = SequenceEmbedding(
            num_items,
            num_categories,
            c.max_len,
            c.hidden_dim,
            c.dropout,
            max_item_categories,
            item_categories,
            c.use_categories,
            name="embedding",
        )
        self.encoder = SequenceEncoder(
            c.hidden_dim,
            c.num_blocks,
            c.num_heads,
            c.dropout,
            c.ffn_dim,
            c.ffn_activation,
            c.norm_first,
            name="encoder",
        )
        self.relevance = self.interaction = self.top_k = self.aggregation = None
        if c.variant in ("sair", "sair_full"):
            regularizer = DeCovRegularizer(c.decov_weight) if c.decov_weight > 0 else None
            self.relevance = InterestRelevance(
                c.num_interests, c.hidden_dim, regularizer, name="interest_relevance"
            )
        if c.variant in ("sair", "sair_label"):
            self.interaction = InterestInteraction(self.pool_size, name="interest_interaction")
            self.top_k = TopKInterest(min(c.top_k, self.pool_size), name="top_k_interest")
        if c.variant != "sasrec":
            slots = self.top_k.top_k if self.top_k is not None else self.pool_size
            self.aggregation = InterestAggregation(
                slots,
                c.hidden_dim,
                c.dropout,
                c.aggregation_residual,
                name="interest_aggregation",
            )

    @property
    def pool_size(self) -> int:
        """L: the learned pool, or the categories (without padding) for sair_label."""
        if self.model_config.variant == "sair_label":
            return self.num_categories - 1
        return self.model_config.num_interests

    def interest_pool(self) -> tf.Tensor:
        if self.model_config.variant == "sair_label":
            return self.embedding.category_embedding[features.UNK_INDEX :]
        return self.relevance.pool

    def _encode(self, item_seq, training):
        mask = item_seq != features.PAD_INDEX
        f = self.encoder(self.embedding(item_seq, training=training), mask, training=training)
        return f, mask

    def _relevance(self, f):
        if self.model_config.variant == "sair_label":
            return tf.einsum("bnd,ld->bnl", f, self.interest_pool())
        return self.relevance(f)

    def call(self, item_seq, training=None):
        item_seq = tf.cast(item_seq, tf.int64)
        f, mask = self._encode(item_seq, training)
        if self.model_config.variant == "sasrec":
            return f
        indices, values, pool = self._select(f, mask, training)
        return self.aggregation(indices, values, f, pool, mask, training=training)  # eqs. 8-10

    def _select(self, f, mask, training=None):
        """The interests each position keeps: `(indices [B, N, S], values [B, N, S], C)`,
        S = K (sair, sair_label) or L (sair_full: every interest, weighted by C_r)."""
        relevance = self._relevance(f)  # eq. 4 (builds the pool on the first call)
        pool = self.interest_pool()
        if self.model_config.variant == "sair_full":
            every = tf.broadcast_to(tf.range(self.pool_size), tf.shape(relevance))
            return every, relevance, pool
        relevance = self.interaction(relevance, mask, training=training)  # eq. 5
        # eqs. 6-7; the aggregation fuses the gather of C into its first layer.
        values, indices, _ = self.top_k(relevance, pool)
        return indices, values, pool

    def interest_distributions(self, item_seq) -> dict[str, tf.Tensor]:
        """Per-position relevance over the interest pool, `[B, N, L]`, before and after the
        interaction layer (for inspection, as in the paper's Figures 2-3)."""
        if self.model_config.variant == "sasrec":
            raise ValueError("the sasrec variant has no interests")
        item_seq = tf.cast(item_seq, tf.int64)
        f, mask = self._encode(item_seq, False)
        before = self._relevance(f)
        after = self.interaction(before, mask) if self.interaction is not None else before
        return {"before": before, "after": after}

    def item_vectors(self) -> tf.Tensor:
        """The item table that scores (eq. 11): `H_id`, as `similarity` says
        (`scoring_rows`). Every objective, `catalog_scores`, `score` and the serving
        signatures score with the products of `user_vectors` and these rows."""
        return self.scoring_rows(self.embedding.item_embedding)

    def scoring_rows(self, table: tf.Tensor) -> tf.Tensor:
        """Item vectors as they score: `table`, or its rows L2-normalised with
        `similarity="cosine"`."""
        if self.model_config.similarity == "cosine":
            return tf.math.l2_normalize(table, axis=-1)
        return table

    def user_vectors(self, e: tf.Tensor) -> tf.Tensor:
        """User representations as they score: `e`, or with `similarity="cosine"` `e`
        L2-normalised and divided by the temperature (HSTU's scoring)."""
        if self.model_config.similarity == "cosine":
            e = tf.math.l2_normalize(e, axis=-1) / self.model_config.temperature
        return e

    def score(self, user: tf.Tensor, items: tf.Tensor) -> tf.Tensor:
        """`<H_id(j), e>` (as `similarity` says): user `[B, D]` and items `[B, M]` →
        `[B, M]`."""
        user, table = self.user_vectors(user), self.item_vectors()
        return tf.einsum("bd,bmd->bm", user, tf.gather(table, items))

    def last_position(self, item_seq, training=None) -> tf.Tensor:
        """`call(item_seq)[:, -1, :]`, `[B, D]`, with the interest head run at the last
        position only: the encoder and the interaction layer (eq. 5) need every position,
        the aggregation (eqs. 8-10, the head's cost) is position-wise."""
        item_seq = tf.cast(item_seq, tf.int64)
        f, mask = self._encode(item_seq, training)
        if self.model_config.variant == "sasrec":
            return f[:, -1, :]
        indices, values, pool = self._select(f, mask)
        last = [t[:, -1:] for t in (indices, values, f, mask)]
        return self.aggregation(*last[:3], pool, last[3], training=training)[:, 0, :]

    # ----------------------------------------------------------------------- training

    def train_step(self, data):
        item_seq = tf.cast(data[features.ITEM_SEQ], tf.int64)  # [B, N], left-padded
        negatives = None
        if self.model_config.training_loss == "bce":
            if self.model_config.exclude_seen:
                negatives = sample_training_negatives(item_seq, self.num_items)
            else:  # repeat consumption: any item but the positive (masked in the loss)
                negatives = tf.random.uniform(
                    tf.shape(item_seq), features.FIRST_ITEM_INDEX, self.num_items, tf.int64
                )
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            total, positions = self._ranking_loss_terms(item_seq, negatives, training=True)
            # The mean over the real positions of the global batch: replicas' gradients
            # are summed, so each divides its sum by the count over every replica, and
            # adds its share of the regularizers.
            ranking = total / tf.maximum(_sum_over_replicas(positions), 1.0)
            regularization = tf.add_n(self.losses) / replicas if self.losses else 0.0
            loss = ranking + regularization
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        # Each replica logs its share; Keras sums the logs over the replicas.
        logs = {
            "loss": loss,
            "ranking_loss": ranking,
            "decov_loss": _sum(self.relevance) / replicas,
        }
        return logs

    def next_item_loss(self, item_seq, negatives=None, training=None) -> tf.Tensor:
        """The ranking loss of predicting every item of `item_seq` `[B, N]` (left-padded)
        from the items before it, averaged over the real positions: BCE against
        `negatives` `[B, N]` (eq. 12; a position whose negative occurs in the sequence is
        left out), or with `negatives=None` the model's `training_loss`."""
        total, positions = self._ranking_loss_terms(item_seq, negatives, training)
        return total / tf.maximum(positions, 1.0)

    def _ranking_loss_terms(self, item_seq, negatives, training) -> tuple[tf.Tensor, tf.Tensor]:
        """`next_item_loss` as (sum over the real positions, their count)."""
        item_seq = tf.cast(item_seq, tf.int64)
        inputs, real = next_item_inputs(item_seq)
        positives = item_seq
        mask = tf.cast(real, tf.float32)
        if negatives is not None:
            negatives = tf.cast(negatives, tf.int64)
            if self.model_config.exclude_seen:
                collides = in_sequence(negatives, item_seq)
            else:
                collides = negatives == positives
            mask *= tf.cast(tf.logical_not(collides), tf.float32)
        e = self(inputs, training=training)
        return self._ranking_loss_sum(e, positives, negatives, mask), tf.reduce_sum(mask)

    def _ranking_loss_sum(self, e, positives, negatives, mask) -> tf.Tensor:
        """Loss summed over the real positions (`mask` `[B, N]`) of predicting the next
        item `positives` `[B, N]` from `e` `[B, N, D]`: BCE against `negatives` `[B, N]`
        (eq. 12), or with `negatives=None` the model's `training_loss` (ModelConfig)."""
        table, e = self.item_vectors(), self.user_vectors(e)
        if negatives is not None:  # −log σ(s_pos) − log(1 − σ(s_neg))
            pos = tf.reduce_sum(e * tf.gather(table, positives), axis=-1)
            neg = tf.reduce_sum(e * tf.gather(table, negatives), axis=-1)
            per_position = tf.math.softplus(-pos) + tf.math.softplus(neg)
            return tf.reduce_sum(per_position * mask)
        # The other objectives at the real positions only (padding would add to the cost).
        real = tf.where(mask > 0)
        e, positives = tf.gather_nd(e, real), tf.gather_nd(positives, real)
        pos = tf.reduce_sum(e * tf.gather(table, positives), axis=-1)
        c = self.model_config
        if c.training_loss == "softmax":  # −s_pos + log Σ_j exp(s_j), j ≥ FIRST_ITEM_INDEX
            logits = tf.matmul(e, table[features.FIRST_ITEM_INDEX :], transpose_b=True)
            return tf.reduce_sum(tf.reduce_logsumexp(logits, axis=-1) - pos)
        share = c.in_batch_negative_share
        candidates = sample_shared_negatives(positives, self.num_items, c.num_negatives, share)
        neg = tf.matmul(e, tf.gather(table, candidates), transpose_b=True)  # [P, M]
        hit = positives[:, None] == candidates[None, :]  # the positive among the negatives
        if c.training_loss == "gbce":  # −β log σ(s_pos + o) − Σ log(1 − σ(s_neg + o))
            beta = gbce_beta(c.num_negatives, self.num_items - features.FIRST_ITEM_INDEX, c.gbce_t)
            offset = gbce_logit_offset(c.num_negatives)
            pos, neg = pos + offset, neg + offset
            negative_terms = tf.where(hit, 0.0, tf.math.softplus(neg))
            return tf.reduce_sum(beta * tf.math.softplus(-pos) + tf.reduce_sum(negative_terms, -1))
        # Sampled softmax with the logQ correction, accidental hits removed.
        log_q = functools.partial(
            sampling_log_q,
            positives=positives,
            num_items=self.num_items,
            count=c.num_negatives,
            in_batch_share=share,
        )
        pos_logit = pos - log_q(positives)
        neg_logits = tf.where(hit, -1e9, neg - log_q(candidates)[None, :])
        logits = tf.concat([pos_logit[:, None], neg_logits], axis=1)
        return tf.reduce_sum(tf.reduce_logsumexp(logits, axis=-1) - pos_logit)

    def candidate_scores(self, data) -> tf.Tensor:
        """Scores of `[target, negatives…]` after each history: `[B, 1 + M]`."""
        user = self.last_position(tf.cast(data[features.ITEM_SEQ], tf.int64))
        return self.score(user, evaluation_candidates(data))

    def test_step(self, data):
        ranks = self.eval_ranks(data)
        # y_true is unused (the ranks carry the label), but Keras skips metrics without it.
        self.compiled_metrics.update_state(tf.zeros_like(ranks[:, :1]), ranks)
        return {m.name: m.result() for m in self.metrics}

    def catalog_scores(self, item_seq) -> tf.Tensor:
        """Scores of every item index after each history: `[B, num_items]`."""
        user = self.user_vectors(self.last_position(tf.cast(item_seq, tf.int64)))
        return tf.matmul(user, self.item_vectors(), transpose_b=True)

    def eval_ranks(self, data) -> tf.Tensor:
        """`[B, 2]` float32: the target's sampled rank among its negatives (`NOT_RANKED`
        for a user without any) and its rank among every item the user has not interacted
        with before it (`seen_items`, the whole history; the `item_seq` window when the
        examples carry no seen items). See `ranking.ranks`."""
        item_seq = tf.cast(data[features.ITEM_SEQ], tf.int64)
        return tf.cast(
            ranking.ranks(
                self.catalog_scores(item_seq),
                data[features.TARGET],
                data[features.NEGATIVES],
                self.excluded(data),
            ),
            tf.float32,
        )

    def excluded(self, data) -> tf.Tensor:
        """The items an evaluation example leaves out of the catalog ranking: those seen
        before the target (`seen_before_target`), or none without `exclude_seen`."""
        if self.model_config.exclude_seen:
            return seen_before_target(data)
        return tf.zeros([tf.shape(data[features.ITEM_SEQ])[0], 0], tf.int64)

    def get_config(self):
        return {
            "num_items": self.num_items,
            "num_categories": self.num_categories,
            "model_config": self.model_config.to_dict(),
            "max_item_categories": self.max_item_categories,
            "name": self.name,
        }


def next_item_inputs(item_seq: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """What the model reads to predict each item of `item_seq` `[B, N]` (left-padded): the
    sequence shifted right by one slot, so that the most recent input sits at the last slot
    as in evaluation, and where an input and its next item are both real (bool `[B, N]`)."""
    inputs = tf.pad(item_seq[:, :-1], [[0, 0], [1, 0]])
    return inputs, (inputs != features.PAD_INDEX) & (item_seq != features.PAD_INDEX)


def evaluation_candidates(data) -> tf.Tensor:
    """`[target, negatives…]` of each evaluation example, int64 `[B, 1 + M]`."""
    return tf.concat(
        [
            tf.reshape(tf.cast(data[features.TARGET], tf.int64), [-1, 1]),
            tf.cast(data[features.NEGATIVES], tf.int64),
        ],
        axis=1,
    )


def seen_before_target(data) -> tf.Tensor:
    """`[B, N + S]` the items an evaluation example excludes from the catalog ranking: its
    `item_seq` window and, where the examples carry them, its `seen_items`."""
    item_seq = tf.cast(data[features.ITEM_SEQ], tf.int64)
    if features.SEEN_ITEMS not in data:
        return item_seq
    return tf.concat([item_seq, tf.cast(data[features.SEEN_ITEMS], tf.int64)], axis=1)


def _sum_over_replicas(value: tf.Tensor) -> tf.Tensor:
    """`value` summed over the replicas of a distributed step (itself with one)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def _sum(layer) -> tf.Tensor:
    """The sum of a layer's losses (0 without the layer or losses)."""
    losses = layer.losses if layer is not None else []
    return tf.add_n(losses) if losses else tf.constant(0.0)


def build_model(
    catalog, model_config: ModelConfig, model_class: type[SAIRModel] | None = None, **kwargs
) -> SAIRModel:
    """A built SAIRModel for a `Catalog` (or a built `model_class`, a subclass taking
    `kwargs` besides SAIRModel's arguments)."""
    model = (model_class or SAIRModel)(
        catalog.num_items,
        catalog.num_categories,
        model_config,
        catalog.item_categories.shape[1],
        catalog.item_categories,
        **kwargs,
    )
    model(tf.zeros((1, model_config.max_len), tf.int64))
    return model
