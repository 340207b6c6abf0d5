"""interest_usage: collapse and variety of the top-K interest selection."""

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parent))

import diagnostics  # noqa: E402

from sair_keras import features, ranking  # noqa: E402
from sair_keras.catalog import Catalog  # noqa: E402
from sair_keras.config import ModelConfig  # noqa: E402
from sair_keras.model import build_model  # noqa: E402


def test_a_collapsed_selection():
    after = np.zeros((4, 5, 6))
    after[..., 2] = 5.0  # interest 2 first, then 0 and 1 (ties go to the lower index)
    after[..., 0] = 4.0
    after[..., 1] = 3.0
    mask = np.ones((4, 5), bool)
    mask[0, :2] = False  # left padding
    u = diagnostics.interest_usage(after, mask, top_k=3)
    assert u["selection_share"][:3] == [0.3333, 0.3333, 0.3333]
    assert u["selection_share"][3:] == [0.0, 0.0, 0.0]
    assert u["last_position_sets"] == 1
    assert u["top1_changes"] == 0.0
    assert u["positions"] == 18 and u["users"] == 4
    assert 0.0 < u["entropy"] < 0.6


def test_a_varied_selection():
    rng = np.random.default_rng(0)
    after = rng.normal(size=(50, 20, 10)) * 0.01  # near uniform, different everywhere
    u = diagnostics.interest_usage(after, np.ones((50, 20), bool), top_k=3)
    assert max(u["selection_share"]) < 0.15
    assert u["last_position_sets"] > 30
    assert u["top1_changes"] > 0.8
    assert u["entropy"] > 0.99


def test_padding_is_ignored():
    after = np.zeros((1, 4, 3))
    after[0, :2, 1] = 9.0  # only the padded positions prefer interest 1
    after[0, 2:, 0] = 9.0
    mask = np.array([[False, False, True, True]])
    u = diagnostics.interest_usage(after, mask, top_k=1)
    assert u["selection_share"] == [1.0, 0.0, 0.0]
    assert u["top1_changes"] == 0.0


def test_model_interest_usage_runs_the_model():
    model = build_model(
        Catalog.synthetic(30, 4, seed=3),
        ModelConfig(variant="sair", max_len=6, hidden_dim=8, num_interests=5, top_k=2),
    )
    seq = tf.constant([[0, 0, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]])
    u = diagnostics.model_interest_usage(model, [{features.ITEM_SEQ: seq}])
    assert u["after"]["positions"] == 10 and u["after"]["users"] == 2
    assert abs(sum(u["after"]["selection_share"]) - 1.0) < 1e-3
    for name in ("before", "after"):
        want = model.interest_distributions(seq)[name].numpy()
        assert u[name] == diagnostics.interest_usage(want, seq.numpy() != 0, 2)
    # Batches without their all-padding columns (narrower than max_len) count the same.
    narrow = [{features.ITEM_SEQ: seq[:1, 2:]}, {features.ITEM_SEQ: seq[1:]}]
    assert diagnostics.model_interest_usage(model, narrow)["after"]["positions"] == 10


def test_head_share_of_a_constant_head():
    f = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    h = np.tile([[0.5, 0.0]], (3, 1))  # the same vector for every user
    s = diagnostics.head_share(f, h)
    assert s["spread"] == 0.0
    assert s["norm_ratio"] == round((0.5 + 0.25 + 0.1) / 3, 4)
    assert s["cosine"] == round((1.0 + 0.0 + 0.6) / 3, 4)
    assert s["users"] == 3


def test_head_share_of_a_head_that_follows_f():
    f = np.array([[1.0, 0.0], [-1.0, 0.0]])
    s = diagnostics.head_share(f, 2 * f)
    assert s["norm_ratio"] == 2.0 and s["cosine"] == 1.0
    assert s["spread"] == 1.0  # the mean head is zero: each one is its own norm away
    assert "selection_effect" not in s
    assert diagnostics.head_share(f, 2 * f, 2 * f)["selection_effect"] == 0.0
    assert diagnostics.head_share(f, 2 * f, -2 * f)["selection_effect"] == 2.0


def _model_with_a_live_head():
    model = build_model(
        Catalog.synthetic(30, 4, seed=3),
        ModelConfig(variant="sair", max_len=6, hidden_dim=8, num_interests=5, top_k=2),
    )
    # The head's last layer starts at zero (residual recipe): give it weights first.
    agg = model.aggregation
    agg.w2.assign(tf.random.stateless_normal(agg.w2.shape, [1, 2]) * 0.3)
    return model


def test_model_head_share_matches_the_model_output():
    model = _model_with_a_live_head()
    agg = model.aggregation
    seq = tf.constant([[0, 0, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]])
    parts = diagnostics.head_parts(model, seq)
    # e_t = LN(F_t + head_t) at real positions: the parts rebuild the model's output.
    rebuilt = (
        agg.layer_norm(parts["features"] + parts["head"]) * tf.cast(seq != 0, tf.float32)[..., None]
    )
    np.testing.assert_allclose(rebuilt.numpy(), model(seq).numpy(), atol=1e-5)
    s = diagnostics.model_head_share(model, [{features.ITEM_SEQ: seq}])
    assert s == diagnostics.head_share(
        *(parts[name][:, -1].numpy() for name in ("features", "head", "swapped_head"))
    )
    assert s["norm_ratio"] > 0
    # The swapped head is the head on F with the other row's (indices, values).
    f, mask = model._encode(seq, False)
    indices, values, pool = model._select(f, mask)
    other = agg.fuse(indices[::-1], values[::-1], f, pool)  # 2 rows: a roll is a flip
    np.testing.assert_allclose(parts["swapped_head"].numpy(), other.numpy(), atol=1e-6)
    assert s["selection_effect"] > 0


def test_head_ablation_as_trained_matches_evaluate():
    from sair_keras import train

    model = _model_with_a_live_head()
    agg = model.aggregation
    rng = np.random.default_rng(0)
    batch = {
        features.ITEM_SEQ: tf.constant(rng.integers(2, 30, (16, 6))),
        features.TARGET: tf.constant(rng.integers(2, 30, (16, 1))),
        features.NEGATIVES: tf.constant(rng.integers(2, 30, (16, 20))),
    }
    a = diagnostics.head_ablation(model, [batch], cutoffs=ranking.CUTOFFS)
    assert a["model"] == train.evaluate(model, [batch], full_catalog=False)
    # Without the head the model is its encoder through the LayerNorm.
    f = diagnostics.head_parts(model, batch[features.ITEM_SEQ])["features"]
    candidates = tf.concat([batch["target"], batch["negatives"]], 1)
    scores = model.score(agg.layer_norm(f)[:, -1], tf.cast(candidates, tf.int64))
    want = train.rank_metrics(ranking.pessimistic_rank(scores).numpy(), ranking.CUTOFFS)
    assert a["without_head"] == want
    assert a["swapped_interests"]["users"] == 16


def test_head_ablation_without_the_residual_has_no_headless_model():
    model = build_model(
        Catalog.synthetic(30, 4, seed=3),
        ModelConfig(aggregation_residual=False, max_len=6, hidden_dim=8, num_interests=5, top_k=2),
    )
    batch = {
        features.ITEM_SEQ: tf.constant([[0, 3, 4, 5, 6, 7]]),
        features.TARGET: tf.constant([[9]]),
        features.NEGATIVES: tf.constant([[10, 11, 12]]),
    }
    a = diagnostics.head_ablation(model, [batch])
    assert a["without_head"] is None and a["model"]["users"] == 1
