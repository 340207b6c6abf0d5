"""SAIRModel: variants, causality, gradients, negatives, training and SavedModel round-trip."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from sair_keras import features
from sair_keras.catalog import Catalog
from sair_keras.config import ConfigError, ModelConfig
from sair_keras.model import SAIRModel, build_model, sample_training_negatives

N = 10
CATALOG = Catalog.synthetic(40, 5, seed=1)
SMALL = dict(max_len=N, hidden_dim=16, num_heads=2, num_interests=6, top_k=2, dropout=0.1)
VARIANTS = ("sasrec", "sair", "sair_full", "sair_label")
SEQ = tf.constant([[0, 0, 0, 5, 9, 2, 17, 30, 8, 11], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]])


def _model(variant, **kw):
    return build_model(CATALOG, ModelConfig(variant=variant, **{**SMALL, **kw}))


def _with_live_head(model):
    """The interest head's last layer starts at zero (the identity on F); give it values,
    as training does, so that the interests reach the output."""
    if model.aggregation is not None:
        w2 = model.aggregation.w2
        w2.assign(tf.random.stateless_normal(w2.shape, seed=[1, 2], stddev=0.3))
    return model


def test_sair_starts_as_the_identity_on_the_encoder_output():
    model = _model("sair")
    f, _ = model._encode(tf.cast(SEQ, tf.int64), False)
    np.testing.assert_allclose(model(SEQ).numpy(), f.numpy(), atol=1e-4)
    assert not np.allclose(_with_live_head(model)(SEQ).numpy(), f.numpy(), atol=1e-2)


@pytest.mark.parametrize("variant", VARIANTS)
def test_output_shapes_and_padding(variant):
    model = _model(variant)
    out = model(SEQ).numpy()
    assert out.shape == (2, N, 16)
    np.testing.assert_array_equal(out[0, :3], 0.0)
    if variant != "sasrec":
        dist = model.interest_distributions(SEQ)
        assert dist["before"].shape == dist["after"].shape == (2, N, model.pool_size)


@pytest.mark.parametrize("variant", VARIANTS)
def test_last_position_is_the_last_row_of_the_full_output(variant):
    # The head runs at the last position only; the interaction still sees every position.
    model = _with_live_head(_model(variant))
    seq = tf.concat([SEQ, tf.zeros((1, N), SEQ.dtype)], axis=0)  # and a history of padding
    full = model(seq).numpy()[:, -1, :]
    last = model.last_position(seq).numpy()
    np.testing.assert_allclose(last, full, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(last[2], 0.0)
    if variant != "sasrec":
        assert not np.allclose(last, model._encode(tf.cast(seq, tf.int64), False)[0][:, -1])


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_batch_without_its_all_padding_columns_computes_the_same(variant):
    """Training drops the leading columns that are padding in every row (data.trim_padding):
    positions count from the right, so the real positions are unchanged."""
    model = _with_live_head(_model(variant))
    seq = tf.constant([[0, 0, 0, 0, 0, 5, 9, 2, 17, 30], [0, 0, 0, 0, 0, 0, 0, 7, 8, 11]])
    full = model(seq).numpy()
    trimmed = model(seq[:, 4:]).numpy()
    np.testing.assert_allclose(trimmed, full[:, 4:], rtol=1e-5, atol=1e-5)
    negatives = sample_training_negatives(seq, CATALOG.num_items)
    for given in (negatives, None):  # bce, softmax
        full_loss = model.next_item_loss(seq, given)
        trimmed_loss = model.next_item_loss(seq[:, 4:], None if given is None else given[:, 4:])
        np.testing.assert_allclose(trimmed_loss.numpy(), full_loss.numpy(), rtol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
def test_causality_end_to_end(variant):
    model = _with_live_head(_model(variant))
    base = model(SEQ).numpy()
    changed = SEQ.numpy().copy()
    changed[:, 7] = [38, 39]  # change the item at position t + 1 = 7
    out = model(tf.constant(changed)).numpy()
    np.testing.assert_allclose(out[:, :7], base[:, :7], rtol=1e-5, atol=1e-5)
    assert not np.allclose(out[:, 7], base[:, 7])
    if variant in ("sair", "sair_label"):
        before = model.interest_distributions(SEQ)["after"].numpy()
        after = model.interest_distributions(tf.constant(changed))["after"].numpy()
        np.testing.assert_allclose(after[:, :7], before[:, :7], rtol=1e-5, atol=1e-5)


def test_sasrec_has_no_interest_parameters():
    sasrec, sair = _model("sasrec"), _model("sair")
    names = [w.name for w in sasrec.weights]
    assert not [n for n in names if "interest" in n]
    extra = {w.name.split("/")[1] for w in sair.weights} - {
        w.name.split("/")[1] for w in sasrec.weights
    }
    assert extra == {"interest_relevance", "interest_interaction", "interest_aggregation"}
    assert sair.count_params() > sasrec.count_params()


def test_sasrec_is_the_same_model_whatever_the_interest_head_fields():
    # What lets a configuration that changes only the head share the `sasrec` of another
    # (benchmarks/experiments.py).
    head = dict(num_interests=20, top_k=8, decov_weight=0.0, aggregation_residual=False)
    runs = []
    for fields in ({}, head):
        keras.utils.set_random_seed(3)
        model = _model("sasrec", **fields)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        logs = model.train_step({features.ITEM_SEQ: SEQ})
        runs.append((float(logs["loss"]), float(logs["decov_loss"]), model(SEQ).numpy()))
    (loss, decov, out), (other_loss, other_decov, other_out) = runs
    assert (loss, decov) == (other_loss, 0.0) and other_decov == 0.0
    np.testing.assert_array_equal(out, other_out)


def test_gradients_reach_the_pool_and_both_tables():
    model = _with_live_head(_model("sair", decov_weight=0.0))
    with tf.GradientTape() as tape:
        e = model(SEQ, training=True)
        loss = tf.reduce_sum(model.score(e[:, -1], tf.constant([[4, 5], [6, 7]])))
    wanted = {
        "interest_pool": model.relevance.pool,
        "item_embedding": model.embedding.item_embedding,
        "category_embedding": model.embedding.category_embedding,
    }
    grads = tape.gradient(loss, list(wanted.values()))
    for name, g in zip(wanted, grads, strict=True):
        assert g is not None, name
        assert float(tf.norm(tf.convert_to_tensor(g))) > 0, name


def test_decov_is_reported_apart_from_the_ranking_loss():
    model = _model("sair", decov_weight=2.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    logs = model.train_step({features.ITEM_SEQ: SEQ})
    assert float(logs["decov_loss"]) > 0
    assert float(logs["loss"]) == pytest.approx(float(logs["ranking_loss"] + logs["decov_loss"]))
    sasrec = _model("sasrec")
    sasrec.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert float(sasrec.train_step({features.ITEM_SEQ: SEQ})["decov_loss"]) == 0.0


def test_ranking_losses_match_their_formulas():
    model = _with_live_head(_model("sair"))
    e = model(SEQ)
    table = model.embedding.item_embedding.numpy()
    positives = tf.constant(np.roll(SEQ.numpy(), -1, axis=1) % 40 + 2, tf.int64)
    negatives = tf.constant(np.full(SEQ.shape, 3), tf.int64)
    mask = np.ones(SEQ.shape, np.float32)
    mask[0, :4] = 0.0  # padded positions count for nothing
    en, pos_ids, real = e.numpy(), positives.numpy(), mask > 0
    s_pos = np.einsum("bnd,bnd->bn", en, table[pos_ids])
    s_neg = en @ table[3]
    bce = np.logaddexp(0, -s_pos) + np.logaddexp(0, s_neg)
    got = model._ranking_loss_sum(e, positives, negatives, tf.constant(mask))
    np.testing.assert_allclose(float(got), bce[real].sum(), rtol=1e-5)
    # softmax: over the real items only; padding and [UNK] rows are never candidates.
    logits = en @ table[features.FIRST_ITEM_INDEX :].T
    softmax = np.log(np.exp(logits).sum(-1)) - s_pos
    got = model._ranking_loss_sum(e, positives, None, tf.constant(mask))
    np.testing.assert_allclose(float(got), softmax[real].sum(), rtol=1e-5)


def test_softmax_training_lowers_its_loss():
    model = _model("sair", training_loss="softmax")
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    first = float(model.train_step({features.ITEM_SEQ: SEQ})["ranking_loss"])
    assert first == pytest.approx(np.log(CATALOG.num_items - features.FIRST_ITEM_INDEX), rel=0.1)
    for _ in range(30):
        last = float(model.train_step({features.ITEM_SEQ: SEQ})["ranking_loss"])
    assert last < 0.5 * first


def test_training_negatives_are_never_in_the_sequence():
    # A catalog of 8 real items; each sequence holds 6 of them, so collisions are frequent.
    seqs = tf.constant([[2, 3, 4, 5, 6, 7], [4, 5, 6, 7, 8, 9]], tf.int64)
    for _ in range(20):
        neg = sample_training_negatives(seqs, 10).numpy()
        assert neg.shape == (2, 6)
        assert set(neg[0]) <= {8, 9} and set(neg[1]) <= {2, 3}


def test_the_negative_sampler_ends_for_a_user_who_saw_every_item():
    from sair_keras.model import in_sequence

    every = tf.constant([[2, 3, 4, 5, 6, 7, 8, 9]], tf.int64)  # all 8 real items
    neg = sample_training_negatives(every, 10, max_draws=4)  # returns: bounded
    assert in_sequence(neg, every).numpy().all()  # nothing unseen: train_step masks them all


def test_invalid_configs_are_refused():
    with pytest.raises(ConfigError, match="top_k K=7 exceeds the interest pool L=6"):
        ModelConfig(variant="sair", num_interests=6, top_k=7)
    with pytest.raises(ConfigError, match="unknown variant 'bert'"):
        ModelConfig(variant="bert")


def test_model_rebuilds_from_config():
    model = _model("sair")
    clone = SAIRModel.from_config(model.get_config())
    clone(SEQ)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(SEQ).numpy(), model(SEQ).numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "variant, extra",
    [
        ("sair", {}),
        ("sasrec", {}),
        ("sair", {"aggregation_residual": False}),
        ("sasrec", {"ffn_dim": 24, "ffn_activation": "gelu"}),
    ],
)
def test_saved_model_gives_identical_scores_in_a_fresh_process(tmp_path, variant, extra):
    model = _with_live_head(_model(variant, **extra))
    candidates = tf.constant([[2, 3, 4, 40], [5, 6, 7, 8]])
    expected = model.score(model.last_position(SEQ), candidates).numpy()
    path = tmp_path / "model"
    model.save(str(path))
    np.save(tmp_path / "seq.npy", SEQ.numpy())
    np.save(tmp_path / "cand.npy", candidates.numpy())
    script = textwrap.dedent(f"""
        import os
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import numpy as np, tensorflow as tf, tf_keras as keras
        import sair_keras.model  # registers the custom objects
        m = keras.models.load_model({str(path)!r})
        seq = tf.constant(np.load({str(tmp_path / "seq.npy")!r}))
        cand = tf.constant(np.load({str(tmp_path / "cand.npy")!r}))
        np.save({str(tmp_path / "got.npy")!r}, m.score(m.last_position(seq), cand).numpy())
    """)
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    np.testing.assert_array_equal(np.load(tmp_path / "got.npy"), expected)


def test_an_item_seen_before_the_window_is_not_ranked_above_the_target():
    # A user with a history longer than max_len: item `early` lies before the N-item window.
    model = _with_live_head(_model("sair"))
    window = SEQ[1:]  # items 3..12, N = 10
    scores = model.catalog_scores(window).numpy()[0]
    unseen = [
        i for i in range(features.FIRST_ITEM_INDEX, CATALOG.num_items) if i not in range(3, 13)
    ]
    by_score = sorted(unseen, key=lambda i: -scores[i])
    early, target = by_score[0], by_score[len(by_score) // 2]  # early scores above the target

    def ranks(seen_items):
        batch = {
            features.ITEM_SEQ: window,
            features.TARGET: tf.constant([[target]]),
            features.NEGATIVES: tf.constant([[by_score[-1], by_score[-2]]]),
            features.SEEN_ITEMS: tf.constant([seen_items]),
        }
        return model.eval_ranks(batch).numpy()[0]

    whole_history = ranks([early, *range(3, 13)])
    window_only = ranks(list(range(3, 13)))
    assert whole_history[1] == len(by_score) // 2 - 1  # every higher unseen item but `early`
    assert window_only[1] == whole_history[1] + 1  # the window alone would rank it above
    assert whole_history[0] == 0  # the two lowest items as negatives


def test_evaluate_reports_sampled_and_full_metrics_and_users_without_negatives():
    from sair_keras import train

    model = _model("sasrec")
    batch = {
        features.ITEM_SEQ: SEQ,
        features.TARGET: tf.constant([[13], [2]]),
        features.NEGATIVES: tf.constant([[20, 21, 22], [0, 0, 0]]),
        features.SEEN_ITEMS: tf.cast(SEQ, tf.int64),
    }
    out = train.evaluate(model, [batch])
    assert out["users"] == 2 and out["users_sampled"] == 1
    assert set(out) >= {"hr_10", "ndcg_10", "full_hr_10", "full_ndcg_10", "full_hr_20"}
    ranks = model.eval_ranks(batch).numpy()
    assert out["full_hr_20"] == float(np.mean(ranks[:, 1] < 20))
    assert out["hr_5"] == float(ranks[0, 0] < 5)  # the sampled mean covers user 0 only


def test_validation_reports_every_ranking_metric():
    from sair_keras import ranking, train
    from sair_keras.config import TrainConfig

    model = _model("sair")
    train.compile_model(model, TrainConfig())
    batch = {
        features.ITEM_SEQ: SEQ,
        features.TARGET: tf.constant([[13], [2]]),
        features.NEGATIVES: tf.constant([[20, 21, 22], [23, 24, 25]]),
        features.SEEN_ITEMS: tf.cast(SEQ, tf.int64),
    }
    logs = model.evaluate(tf.data.Dataset.from_tensors(batch), return_dict=True, verbose=0)
    assert set(ranking.METRIC_NAMES) <= set(logs)
    expected = train.evaluate(model, [batch])
    for name in ranking.METRIC_NAMES:
        assert logs[name] == pytest.approx(expected[name]), name


@pytest.mark.parametrize("loss", ["softmax", "sampled_softmax", "gbce", "bce"])
def test_each_objective_gives_a_finite_loss_whose_gradient_reaches_the_item_table(loss):
    model = _model("sair", training_loss=loss, num_negatives=8, in_batch_negative_share=0.5)
    assert model.model_config.training_loss == loss
    table = model.embedding.item_embedding
    negatives = sample_training_negatives(SEQ, CATALOG.num_items) if loss == "bce" else None
    with tf.GradientTape() as tape:
        value = model.next_item_loss(SEQ, negatives, training=True)
    grad = tape.gradient(value, table)
    assert np.isfinite(float(value)) and float(value) > 0
    grad = tf.convert_to_tensor(grad).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    assert not np.abs(grad[features.PAD_INDEX]).any()  # padding is never a candidate


def _arithmetic_histories(rng, users: int, length: int, num_items: int) -> np.ndarray:
    """Histories in which each item is the previous one plus the user's step (1-3), modulo
    the catalog: the last two items tell the next."""
    start = rng.integers(0, num_items, users)
    step = rng.integers(1, 4, users)
    items = (start[:, None] + step[:, None] * np.arange(length)[None]) % num_items
    return items + features.FIRST_ITEM_INDEX


def _train_on_toy_task(loss: str, steps: int = 100) -> tuple[list[float], float]:
    """A small SASRec trained with `loss` through `train_step` on `_arithmetic_histories`
    of 100 items: its ranking losses, and the share of new histories whose next item it
    ranks in its top 10 (chance: 10%)."""
    items = 100
    config = ModelConfig(
        variant="sasrec",
        max_len=N,
        hidden_dim=16,
        num_blocks=1,
        num_heads=1,
        dropout=0.0,
        training_loss=loss,
        num_negatives=16,
    )
    tf.random.set_seed(0)
    model = build_model(Catalog.synthetic(items, 5, seed=1), config)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    step = tf.function(model.train_step)
    rng = np.random.default_rng(1)
    losses = [
        float(step({features.ITEM_SEQ: _arithmetic_histories(rng, 32, N, items)})["ranking_loss"])
        for _ in range(steps)
    ]
    test = _arithmetic_histories(np.random.default_rng(2), 64, N + 1, items)
    scores = model.catalog_scores(test[:, :-1]).numpy()
    scores[:, : features.FIRST_ITEM_INDEX] = -np.inf
    top_10 = np.argsort(-scores, axis=1)[:, :10]
    return losses, float((top_10 == test[:, -1:]).any(axis=1).mean())


@pytest.mark.parametrize("loss", ["softmax", "sampled_softmax", "gbce", "bce"])
def test_each_objective_learns_a_toy_task(loss):
    """Each objective teaches the toy task: its loss falls and the next item is in the
    top 10 for most new histories."""
    losses, top_10_share = _train_on_toy_task(loss)
    assert np.mean(losses[-10:]) < 0.75 * np.mean(losses[:10])
    assert top_10_share >= 0.6


def test_gbce_without_its_logit_offset_stalls_on_the_toy_task(monkeypatch):
    """Why gBCE offsets its scores (`gbce_logit_offset`): from scores near 0 the same
    training stays at chance."""
    import sair_keras.model as model_module

    monkeypatch.setattr(model_module, "gbce_logit_offset", lambda num_negatives: 0.0)
    _, top_10_share = _train_on_toy_task("gbce")
    assert top_10_share < 0.3


@pytest.mark.parametrize("loss", ["sampled_softmax", "gbce"])
def test_sampled_objectives_match_their_formulas_and_never_count_the_positive(loss, monkeypatch):
    import sair_keras.model as model_module

    model = _with_live_head(_model("sair", training_loss=loss, num_negatives=4))
    e = model(SEQ)
    positives = tf.constant(np.roll(SEQ.numpy(), -1, axis=1) % 40 + 2, tf.int64)
    mask = np.ones(SEQ.shape, np.float32)
    mask[0, :4] = 0.0
    candidates = np.array([2, 9, 9, 13])  # items 9 and 13 are positives somewhere
    monkeypatch.setattr(
        model_module, "sample_shared_negatives", lambda *a, **k: tf.constant(candidates)
    )
    got = float(model._ranking_loss_sum(e, positives, None, tf.constant(mask)))
    table = model.embedding.item_embedding.numpy()
    real = mask > 0
    en, pos_ids = e.numpy()[real], positives.numpy()[real]
    s_pos = np.einsum("pd,pd->p", en, table[pos_ids])
    s_neg = en @ table[candidates].T
    hit = pos_ids[:, None] == candidates[None, :]
    assert hit.any()  # the case under test: the positive drawn as a negative
    if loss == "gbce":
        from sair_keras.model import gbce_beta

        beta = gbce_beta(4, CATALOG.num_items - features.FIRST_ITEM_INDEX, 0.75)
        s_pos, s_neg = s_pos - np.log(4), s_neg - np.log(4)  # gbce_logit_offset
        want = beta * np.logaddexp(0, -s_pos) + np.where(hit, 0, np.logaddexp(0, s_neg)).sum(1)
    else:  # uniform draws: the logQ correction is the same for every item and cancels
        logits = np.concatenate([s_pos[:, None], np.where(hit, -np.inf, s_neg)], axis=1)
        want = np.log(np.exp(logits).sum(1)) - s_pos
    np.testing.assert_allclose(got, want.sum(), rtol=1e-5)


def test_shared_negatives_and_their_log_q():
    from sair_keras.model import sample_shared_negatives, sampling_log_q

    positives = tf.constant([7, 7, 7, 9], tf.int64)
    drawn = sample_shared_negatives(positives, 40, 64, in_batch_share=0.5).numpy()
    assert drawn.shape == (64,) and drawn.min() >= features.FIRST_ITEM_INDEX and drawn.max() < 40
    assert set(drawn[32:]) <= {7, 9}  # the in-batch half comes from the batch's positives
    log_q = sampling_log_q(tf.constant([7, 9, 3], tf.int64), positives, 40, 64, 0.5).numpy()
    want = [32 / 38 + 32 * 0.75, 32 / 38 + 32 * 0.25, 32 / 38]
    np.testing.assert_allclose(np.exp(log_q), want, rtol=1e-5)


def test_gbce_beta_spans_bce_to_full_calibration():
    from sair_keras.model import gbce_beta

    assert gbce_beta(256, 3706, 0.0) == pytest.approx(1.0)  # plain BCE
    assert gbce_beta(256, 3706, 1.0) == pytest.approx(256 / 3705)


def test_auto_is_the_full_softmax_for_small_catalogs_and_sampled_beyond():
    from sair_keras.config import FULL_SOFTMAX_MAX_ITEMS, resolve_training_loss

    auto = ModelConfig()
    assert auto.training_loss == "auto"
    assert resolve_training_loss(auto, 3708).training_loss == "softmax"
    big = resolve_training_loss(auto, FULL_SOFTMAX_MAX_ITEMS + 1)
    assert big.training_loss == "sampled_softmax"
    assert resolve_training_loss(ModelConfig(training_loss="bce"), 10**6).training_loss == "bce"
    assert _model("sair").model_config.training_loss == "softmax"  # stored resolved


def test_cosine_similarity_scores_normalised_vectors_over_the_temperature():
    model = _model("sasrec", similarity="cosine", temperature=0.1)
    user = model.last_position(SEQ)
    table = model.embedding.item_embedding.numpy()
    u = user.numpy() / np.linalg.norm(user.numpy(), axis=-1, keepdims=True)
    t = table / np.linalg.norm(table, axis=-1, keepdims=True)
    # atol too: a cosine near 0 has float32 rounding far above 1e-4 of itself.
    tolerance = dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(model.catalog_scores(SEQ).numpy(), u @ t.T / 0.1, **tolerance)
    items = tf.constant([[2, 5], [7, 9]], tf.int64)
    got = model.score(user, items).numpy()
    want = [u[0] @ t[[2, 5]].T / 0.1, u[1] @ t[[7, 9]].T / 0.1]
    np.testing.assert_allclose(got, want, **tolerance)
    assert np.abs(model.catalog_scores(SEQ).numpy()).max() <= 1 / 0.1 + 1e-3
    loss = model.next_item_loss(SEQ)
    assert np.isfinite(float(loss))
    with pytest.raises(ConfigError, match="unknown similarity 'l1'"):
        ModelConfig(similarity="l1")
    with pytest.raises(ConfigError, match="temperature must be > 0"):
        ModelConfig(similarity="cosine", temperature=0.0)


def test_pre_layer_norm_model_trains_and_saves(tmp_path):
    model = _model("sair", norm_first=True)
    assert model.encoder.norm_first and model.encoder.final_norm is not None
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    first = float(model.train_step({features.ITEM_SEQ: SEQ})["ranking_loss"])
    for _ in range(10):
        last = float(model.train_step({features.ITEM_SEQ: SEQ})["ranking_loss"])
    assert last < first
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded(SEQ).numpy(), model(SEQ).numpy(), rtol=1e-5, atol=1e-5)


def test_without_exclude_seen_the_items_seen_before_compete_with_the_target():
    keras.utils.set_random_seed(4)
    excluding = _model("sasrec")
    keras.utils.set_random_seed(4)
    repeating = _model("sasrec", exclude_seen=False)
    np.testing.assert_array_equal(excluding(SEQ).numpy(), repeating(SEQ).numpy())
    scores = excluding.catalog_scores(SEQ).numpy()
    order = np.argsort(-scores[:, features.FIRST_ITEM_INDEX :], axis=1) + features.FIRST_ITEM_INDEX
    target = order[:, 5:6]  # the sixth best item; the five above it were seen before
    data = {
        features.ITEM_SEQ: tf.zeros_like(SEQ),
        features.TARGET: tf.constant(target, tf.int64),
        features.NEGATIVES: tf.constant(order[:, -3:], tf.int64),
        features.SEEN_ITEMS: tf.constant(order[:, :5], tf.int64),
    }
    data[features.ITEM_SEQ] = SEQ  # the scores above are after SEQ
    full_excluding = excluding.eval_ranks(data).numpy()[:, 1]
    full_repeating = repeating.eval_ranks(data).numpy()[:, 1]
    np.testing.assert_array_equal(full_repeating - full_excluding, [5, 5])
    assert repeating.excluded(data).shape[1] == 0


def test_bce_negatives_without_exclude_seen_may_be_seen_items_but_never_the_positive():
    model = _model("sair", training_loss="bce", exclude_seen=False)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    logs = model.train_step({features.ITEM_SEQ: SEQ})
    assert np.isfinite(float(logs["loss"]))
    seq = tf.constant([[2, 3, 2, 3]], tf.int64)
    negatives = tf.constant([[3, 2, 3, 3]], tf.int64)  # seen items; the last is the positive
    total, count = model._ranking_loss_terms(seq, negatives, False)
    assert float(count) == 2.0  # positions 1-2 kept, position 3's negative is its positive
