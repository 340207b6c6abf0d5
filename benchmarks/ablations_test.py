"""The benchmark-only ablations: their switches, layers and model."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ablations  # noqa: E402
import experiments  # noqa: E402
import quality  # noqa: E402
import quality_summary  # noqa: E402

from sair_keras import features  # noqa: E402
from sair_keras.catalog import Catalog  # noqa: E402
from sair_keras.config import ConfigError, ModelConfig  # noqa: E402
from sair_keras.interests import InterestAggregation, InterestInteraction  # noqa: E402
from sair_keras.model import SAIRModel  # noqa: E402

N = 10
CATALOG = Catalog.synthetic(40, 5, seed=1)
SMALL = dict(max_len=N, hidden_dim=16, num_heads=2, num_interests=6, top_k=2, dropout=0.1)
SEQ = tf.constant([[0, 0, 0, 5, 9, 2, 17, 30, 8, 11], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]])
RESULTS = Path(__file__).resolve().parent / "results"
# The product's encoder before it became 3 blocks of 2 heads: the runs recorded then name it.
ENCODER_BEFORE_3_BLOCKS = {"num_blocks": 2, "num_heads": 1}


def _model(variant="sair", **switches):
    config = ModelConfig(variant=variant, **SMALL)
    return ablations.build_model(CATALOG, config, experiments.Ablations(**switches))


def _balance_inputs():
    # Two sequences, 3 positions, L=4, K=2; the first position of row 0 is padding.
    rng = np.random.default_rng(3)
    relevance = rng.normal(size=(2, 3, 4)).astype("float32")
    mask = np.array([[False, True, True], [True, True, True]])
    indices = np.argsort(-relevance, axis=-1)[..., :2]
    return relevance, indices, mask


def test_configurations_split_into_model_settings_and_ablations():
    assert experiments.ablations("balance") == experiments.Ablations(balance_weight=0.01)
    assert experiments.model_settings("balance") == {}
    assert experiments.ablations("interaction_residual").changed() == {"interaction_residual": True}
    assert experiments.ablations("paper_layernorm").changed() == {"aggregation_layer_norm": True}
    assert experiments.model_settings("paper_layernorm") == {"aggregation_residual": False}
    assert experiments.ablations("softmax_pool_20_top_8").changed() == {}
    for name in experiments.names():  # every switch is a field of one of the two
        ModelConfig(**experiments.model_settings(name))
        experiments.ablations(name)
    assert experiments.ABLATION_FIELDS.isdisjoint(f for f in ModelConfig().to_dict())


@pytest.mark.parametrize(
    "switches, variant, message",
    [
        ({"balance_weight": -0.1}, "sair", "balance_weight must be >= 0, got -0.1"),
        ({"balance_weight": 0.01}, "sasrec", "not to variant 'sasrec'"),
        ({"interaction_residual": True}, "sair_full", "not to variant 'sair_full'"),
        ({"output_layer": "shared"}, "sair", "unknown output_layer 'shared'"),
        ({"encoder_block": "moe"}, "sasrec", "unknown encoder_block 'moe'"),
        ({"output_mixture": True}, "sasrec", "not to variant 'sasrec'"),
        ({"mixture_weights": "uniform"}, "sair", "applies to output_mixture only"),
        ({"interest_experts": True}, "sasrec", "not to variant 'sasrec'"),
        ({"interest_experts": True, "output_mixture": True}, "sair", "does not combine"),
        ({"output_mixture": True, "mixture_weights": "max"}, "sair", "unknown mixture_weights"),
    ],
)
def test_bad_switches_name_the_value(switches, variant, message):
    with pytest.raises(ConfigError) as e:
        experiments.Ablations(**switches).check(variant)
    assert message in str(e.value)


def test_without_switches_the_product_model_is_built():
    model = _model()
    assert type(model) is SAIRModel
    assert type(model.interaction) is InterestInteraction


def test_interest_balance_matches_numpy_over_the_real_positions():
    relevance, indices, mask = _balance_inputs()
    real = relevance[mask]  # [5, 4]
    f = np.bincount(indices[mask].ravel(), minlength=4) / (5 * 2)
    p = (np.exp(real) / np.exp(real).sum(-1, keepdims=True)).mean(0)
    expected = 4 * float((f * p).sum())
    got = ablations.interest_balance(
        tf.constant(relevance), tf.constant(indices), tf.constant(mask)
    )
    assert float(got) == pytest.approx(expected, rel=1e-5)
    # Padding does not count, whatever it holds.
    relevance[0, 0] = 99.0
    again = ablations.interest_balance(
        tf.constant(relevance), tf.constant(indices), tf.constant(mask)
    )
    assert float(again) == pytest.approx(expected, rel=1e-5)


def test_interest_balance_is_one_when_uniform_and_l_over_k_when_collapsed():
    mask = tf.ones((1, 4), tf.bool)
    uniform = tf.constant([[[0, 1], [2, 3], [0, 1], [2, 3]]])
    assert float(ablations.interest_balance(tf.zeros((1, 4, 4)), uniform, mask)) == pytest.approx(1)
    # Every position keeps interests 0 and 1 and puts all its probability on them: L / K.
    collapsed = tf.constant([[[50.0, 50.0, -50.0, -50.0]] * 4])
    same = tf.constant([[[0, 1]] * 4])
    assert float(ablations.interest_balance(collapsed, same, mask)) == pytest.approx(2.0)


def test_interest_balance_gradient_lowers_the_most_used_interest():
    relevance, indices, mask = _balance_inputs()
    r = tf.Variable(relevance)
    with tf.GradientTape() as tape:
        loss = ablations.interest_balance(r, tf.constant(indices), tf.constant(mask))
    grad = tape.gradient(loss, r).numpy()
    most_used = np.bincount(indices[mask].ravel(), minlength=4).argmax()
    assert grad[mask][:, most_used].sum() > 0  # descent lowers its relevance
    np.testing.assert_array_equal(grad[0, 0], 0.0)


def test_ablated_interaction_adds_c_r_and_its_balance_loss_in_training_only():
    relevance, _, mask = _balance_inputs()
    relevance, mask = tf.constant(relevance), tf.constant(mask)
    plain = InterestInteraction(4)
    attended = plain(relevance, mask)
    layer = ablations.AblatedInteraction(4, residual=True, balance_weight=0.5, top_k=2)
    layer(relevance, mask)
    layer.set_weights(plain.get_weights())
    out = layer(relevance, mask, training=False)
    np.testing.assert_allclose(out, relevance + attended, rtol=1e-5, atol=1e-6)
    assert not layer.losses  # inference adds no loss
    out = layer(relevance, mask, training=True)
    _, indices = tf.math.top_k(out, k=2)
    expected = 0.5 * float(ablations.interest_balance(out, indices, mask))
    assert [float(x) for x in layer.losses] == pytest.approx([expected])
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is ablations.AblatedInteraction
    assert clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="top_k=5"):
        ablations.AblatedInteraction(4, top_k=5)


def test_layer_norm_aggregation_places_the_norm_apart_from_the_residual():
    rng = np.random.default_rng(0)
    b, n, d, pool_size, k = 2, 6, 8, 5, 3
    pool = tf.constant(rng.normal(size=(pool_size, d)).astype("float32"))
    indices = tf.constant(rng.integers(0, pool_size, size=(b, n, k)), tf.int32)
    values = tf.constant(rng.normal(size=(b, n, k)).astype("float32"))
    f = tf.constant(rng.normal(size=(b, n, d)).astype("float32"))
    mask = tf.constant([[False, False, True, True, True, True], [True] * n])
    plain = InterestAggregation(k, d)
    fused = plain(indices, values, f, pool, mask)

    def normalised(x):
        x = x.numpy()[1]
        return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-8)

    norm_only = ablations.LayerNormAggregation(k, d, layer_norm=True)
    norm_only(indices, values, f, pool, mask)
    norm_only.set_weights(plain.get_weights() + norm_only.get_weights()[4:])
    out = norm_only(indices, values, f, pool, mask).numpy()[1]
    np.testing.assert_allclose(out, normalised(fused), rtol=1e-3, atol=1e-4)

    sum_only = ablations.LayerNormAggregation(k, d, residual=True, layer_norm=False)
    sum_only(indices, values, f, pool, mask)
    sum_only.set_weights(plain.get_weights())
    out = sum_only(indices, values, f, pool, mask).numpy()
    real = tf.cast(mask, tf.float32)[..., None]
    np.testing.assert_allclose(out, ((f + fused) * real).numpy(), rtol=1e-5, atol=1e-6)
    clone = keras.layers.deserialize(keras.layers.serialize(sum_only))
    assert clone.get_config() == sum_only.get_config() and clone.layer_norm_output is False


def test_balance_is_reported_apart_and_counted_in_the_total():
    model = _model(balance_weight=0.5)
    assert type(model) is ablations.AblationModel
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    logs = model.train_step({features.ITEM_SEQ: SEQ})
    # At least 1 (uniform), times the weight.
    assert float(logs["balance_loss"]) >= 0.5 * (1 - 1e-5)
    total = logs["ranking_loss"] + logs["decov_loss"] + logs["balance_loss"]
    assert float(logs["loss"]) == pytest.approx(float(total))
    model(SEQ)  # inference adds no loss
    assert not model.interaction.losses


def test_ablation_model_saves_and_loads_with_its_switches(tmp_path):
    model = _model(interaction_residual=True, aggregation_layer_norm=False)
    assert type(model.aggregation) is ablations.LayerNormAggregation
    model.aggregation.w2.assign(tf.random.stateless_normal(model.aggregation.w2.shape, [1, 2]))
    model.save(str(tmp_path / "model"))
    loaded = keras.models.load_model(str(tmp_path / "model"))
    assert type(loaded) is ablations.AblationModel
    assert loaded.ablations.changed() == {
        "interaction_residual": True,
        "aggregation_layer_norm": False,
    }
    np.testing.assert_allclose(loaded(SEQ).numpy(), model(SEQ).numpy(), rtol=1e-5, atol=1e-6)


def test_item_output_table_scores_every_item_with_its_bias():
    layer = ablations.ItemOutputTable(6)
    e = tf.random.stateless_normal([2, 3, 16], seed=[1, 1])
    assert layer(e).shape == (2, 3, 6)  # D from the first call
    layer.bias.assign(tf.range(6, dtype=tf.float32))
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    np.testing.assert_allclose(layer(e).numpy(), e.numpy() @ w.T + b, rtol=1e-5, atol=1e-6)
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is ablations.ItemOutputTable
    assert clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="num_items must be >= 1"):
        ablations.ItemOutputTable(0)


@pytest.mark.parametrize("similarity", ["dot", "cosine"])
def test_untied_output_layer_scores_with_its_own_table_and_bias(tmp_path, similarity):
    config = ModelConfig(variant="sair", similarity=similarity, **SMALL)
    model = ablations.build_model(CATALOG, config, experiments.Ablations(output_layer="untied"))
    w2 = model.aggregation.w2  # a live interest head, as training leaves it
    w2.assign(tf.random.stateless_normal(w2.shape, seed=[1, 2], stddev=0.3))
    table = model.output_table
    table.bias.assign(tf.random.stateless_normal(table.bias.shape, seed=[3, 4]))
    w, b = table.kernel.numpy(), table.bias.numpy()
    user = model.last_position(SEQ).numpy()
    if similarity == "cosine":
        user = user / np.linalg.norm(user, axis=-1, keepdims=True) / config.temperature
        w = w / np.linalg.norm(w, axis=-1, keepdims=True)
    expected = user @ w.T + b
    np.testing.assert_allclose(model.catalog_scores(SEQ).numpy(), expected, rtol=1e-4, atol=1e-4)
    items = tf.constant([[2, 5], [7, 9]], tf.int64)
    got = model.score(model.last_position(SEQ), items).numpy()
    # atol too: a score near 0 has float32 rounding far above 1e-4 of itself.
    np.testing.assert_allclose(
        got, np.take_along_axis(expected, items.numpy(), 1), rtol=1e-4, atol=1e-4
    )
    # The input table no longer scores; the objective's gradients reach the output table.
    with tf.GradientTape() as tape:
        loss = model.next_item_loss(SEQ, training=True)
    grads = tape.gradient(loss, [table.kernel, table.bias])
    assert np.isfinite(float(loss))
    assert all(float(tf.reduce_sum(tf.abs(tf.convert_to_tensor(g)))) > 0 for g in grads)
    model.save(str(tmp_path / "model"))
    loaded = keras.models.load_model(str(tmp_path / "model"))
    assert loaded.ablations.changed() == {"output_layer": "untied"}
    np.testing.assert_allclose(loaded.catalog_scores(SEQ).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_the_untied_output_layer_changes_sasrec_too():
    # Not an interest-head switch: its sasrec is its own, not the default's.
    assert experiments.sasrec_configuration("untied_output") == "untied_output"
    assert experiments.sasrec_configuration("balance") == "default"
    model = _model("sasrec", output_layer="untied")
    assert model.item_vectors().shape == (model.num_items, SMALL["hidden_dim"] + 1)


def _recipe_of_its_day(tmp_path, name, then):
    """The named recipe with `then`'s settings (the defaults of the day its runs were
    recorded, all before weight averaging was the default) written over it, as a file to
    plan with."""
    layer = yaml.safe_load(experiments.path(name).read_text())
    for section, settings in [("train", {"weight_averaging": 0.0}), *then.items()]:
        layer[section] = {**layer.get(section, {}), **settings}
    recipe = tmp_path / f"{name}.yaml"
    recipe.write_text(yaml.safe_dump(layer))
    return recipe


def _args(recipe, train, dropout=0.2, item_catalog="interactions"):
    return argparse.Namespace(
        recipe=recipe,
        dropout=dropout,
        num_items=3708,
        max_epochs=train["epochs"],
        patience=train["patience"],
        batch_size=train["batch_size"],
        early_stopping_metric=train.get("early_stopping_metric", "ndcg_10"),
        item_catalog=item_catalog,
    )


def test_runs_planned_today_keep_the_configuration_keys_of_the_recorded_ones(tmp_path):
    # These ml-1m runs were recorded with every ablation switch, without `exclude_seen` and
    # without `data_config`, under the defaults of their day (150 positions, the most recent
    # of a longer history, D = 64, Adam's constant 1e-3): planned today with those
    # settings, they keep their keys.
    runs = json.loads((RESULTS / "ml-1m-e200-p20.json").read_text())["runs"]
    then = {
        "data": {"max_len": 150, "training_windows": "last"},
        "model": {"hidden_dim": 64, **ENCODER_BEFORE_3_BLOCKS},
        "train": {"learning_rate": 0.001, "learning_rate_schedule": "constant"},
    }
    checked = set()
    for run in runs:
        if run.get("recipe") in ("softmax_pool_20_top_8", "softmax"):
            recipe = _recipe_of_its_day(tmp_path, run["recipe"], then)
            args = _args(recipe, run["train_config"], run["model_config"]["dropout"])
            planned = quality.planned_run("ml-1m", run["variant"], run["seed"], args)
            assert quality_summary.config_key(planned) == quality_summary.config_key(run), run
            checked.add(run["recipe"])
    assert checked == {"softmax_pool_20_top_8", "softmax"}


def test_untied_output_runs_keep_the_key_they_were_recorded_under(tmp_path):
    # Recorded when `output_layer` was a ModelConfig field, now an ablation switch.
    result = json.loads((RESULTS / "ml-100k.json").read_text())
    runs = [r for r in result["runs"] if r.get("recipe") == "untied_output"]
    assert {r["variant"] for r in runs} == {"sair", "sasrec"}
    recipe = _recipe_of_its_day(tmp_path, "untied_output", {"model": ENCODER_BEFORE_3_BLOCKS})
    for run in runs:
        args = _args(recipe, run["train_config"], run["model_config"]["dropout"])
        args.early_stopping_metric = run["train_config"]["early_stopping_metric"]
        planned = quality.planned_run("ml-100k", run["variant"], run["seed"], args)
        assert quality_summary.config_key(planned) == quality_summary.config_key(run), run


@pytest.mark.parametrize(
    "recipe, recorded",
    [
        ("interaction_residual", {"interaction_residual": True, "aggregation_layer_norm": True}),
        ("balance", {"balance_weight": 0.01, "aggregation_layer_norm": True}),
        ("paper_layernorm", {"aggregation_layer_norm": True}),
        ("default", {"aggregation_layer_norm": True}),
    ],
)
def test_a_run_records_the_switches_it_changes_under_the_key_of_every_switch(recipe, recorded):
    train = {"epochs": 200, "patience": 20, "batch_size": 256}
    planned = quality.planned_run("ml-1m", "sair", 0, _args(recipe, train))
    switches = {
        k: v for k, v in planned["model_config"].items() if k in experiments.ABLATION_FIELDS
    }
    assert switches == experiments.ablations(recipe).changed()
    every = {"interaction_residual": False, "balance_weight": 0.0, **recorded}
    old_style = {**planned, "model_config": {**planned["model_config"], **every}}
    assert quality_summary.config_key(planned) == quality_summary.config_key(old_style)


def _layer_norm(x, layer):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + layer.epsilon) * layer.gamma.numpy() + layer.beta.numpy()


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_ligr_block_gates_its_residual_branches_and_zeroes_padding():
    block = ablations.LiGRBlock(16, num_heads=2, dropout=0.1, ffn_dim=24)
    x = tf.random.stateless_normal([2, 5, 16], seed=[5, 6])
    mask = tf.constant([[False, True, True, True, True], [True] * 5])
    block.build(x.shape)
    for dense in (block.gate_1, block.gate_2):  # gates away from one half
        dense.bias.assign(tf.random.stateless_normal([16], seed=[7, 8]))
    got = block(x, mask, training=False).numpy()
    xs = x.numpy()
    attn = block.attention(block.norm_1(x), ablations.attention_bias(mask)).numpy()
    g1 = _sigmoid(xs @ block.gate_1.kernel.numpy() + block.gate_1.bias.numpy())
    h = xs + g1 * attn
    u = _layer_norm(h, block.norm_2)
    a = u @ block.ffn_gate.kernel.numpy()
    inner = a * _sigmoid(a) * (u @ block.ffn_up.kernel.numpy())
    g2 = _sigmoid(h @ block.gate_2.kernel.numpy() + block.gate_2.bias.numpy())
    expected = (h + g2 * (inner @ block.ffn_down.kernel.numpy())) * mask.numpy()[..., None]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert not got[0, 0].any()
    assert block.ffn_up.kernel.shape == (16, 24) and not block.ffn_up.use_bias
    assert ablations.LiGRBlock(8).ffn_dim == 32  # 4·D unless given
    for layer in (block, ablations.LiGREncoder(16, num_blocks=3, num_heads=2, ffn_dim=24)):
        clone = keras.layers.deserialize(keras.layers.serialize(layer))
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="multiple of num_heads"):
        ablations.LiGRBlock(10, num_heads=3)
    with pytest.raises(ValueError, match="num_blocks must be >= 1"):
        ablations.LiGREncoder(16, num_blocks=0)


@pytest.mark.parametrize("variant", ["sair", "sasrec"])
def test_ligr_encoder_trains_and_saves_for_every_variant(tmp_path, variant):
    # Not an interest-head switch: sasrec changes too.
    assert experiments.sasrec_configuration("ligr") == "ligr"
    model = _model(variant, encoder_block="ligr")
    assert type(model.encoder) is ablations.LiGREncoder
    assert len(model.encoder.blocks) == ModelConfig().num_blocks
    with tf.GradientTape() as tape:
        loss = model.next_item_loss(SEQ, training=True)
    gates = [model.encoder.blocks[0].gate_1.kernel, model.encoder.blocks[-1].gate_2.kernel]
    assert np.isfinite(float(loss))
    assert all(float(tf.reduce_sum(tf.abs(g))) > 0 for g in tape.gradient(loss, gates))
    model.save(str(tmp_path / "model"))
    loaded = keras.models.load_model(str(tmp_path / "model"))
    assert type(loaded.encoder) is ablations.LiGREncoder
    assert loaded.ablations.changed() == {"encoder_block": "ligr"}
    np.testing.assert_allclose(
        loaded.catalog_scores(SEQ).numpy(), model.catalog_scores(SEQ).numpy(), rtol=1e-4, atol=1e-4
    )


def test_ligr_blocks_refuse_the_product_block_settings_they_do_not_read():
    config = ModelConfig(variant="sair", norm_first=True, **SMALL)
    with pytest.raises(ValueError, match="norm_first and ffn_activation do not apply"):
        ablations.build_model(CATALOG, config, experiments.Ablations(encoder_block="ligr"))


def _mixture_model(mixture_weights="selection", **settings):
    config = ModelConfig(variant="sair", **{**SMALL, "training_loss": "softmax", **settings})
    switches = experiments.Ablations(output_mixture=True, mixture_weights=mixture_weights)
    return ablations.build_model(CATALOG, config, switches)


def _log_softmax_over_real_items(scores: np.ndarray) -> np.ndarray:
    real = scores[..., features.FIRST_ITEM_INDEX :]
    top = real.max(-1, keepdims=True)
    return scores - (top + np.log(np.exp(real - top).sum(-1, keepdims=True)))


def test_output_mixture_starts_as_the_product_model_under_its_log_softmax():
    # The slots' last FFN layers start at zero: every slot is LN(F), and the mixture of K
    # equal softmaxes is the product's softmax, in scores and in the objective.
    model = _mixture_model()
    assert type(model.aggregation) is ablations.MixtureAggregation
    product = ablations.build_model(
        CATALOG,
        ModelConfig(variant="sair", training_loss="softmax", **SMALL),
        experiments.Ablations(),
    )
    product.set_weights(model.get_weights())
    got = model.catalog_scores(SEQ).numpy()[:, features.FIRST_ITEM_INDEX :]
    expected = _log_softmax_over_real_items(product.catalog_scores(SEQ).numpy())
    np.testing.assert_allclose(got, expected[:, features.FIRST_ITEM_INDEX :], atol=1e-5)
    np.testing.assert_allclose(
        float(model.next_item_loss(SEQ)), float(product.next_item_loss(SEQ)), rtol=1e-5
    )


def test_output_mixture_ranks_by_the_log_probability_of_its_weighted_softmaxes(tmp_path):
    model = _mixture_model()
    w2 = model.aggregation.w2  # a live head: the slots differ
    w2.assign(tf.random.stateless_normal(w2.shape, seed=[5, 6], stddev=0.5))
    e, log_w = (t.numpy() for t in model.mixture(SEQ, last_only=True))  # [B, K, D], [B, K]
    assert e.shape == (2, SMALL["top_k"], SMALL["hidden_dim"])
    np.testing.assert_allclose(np.exp(log_w).sum(-1), 1.0, rtol=1e-5)
    table = model.item_vectors().numpy()
    per_slot = _log_softmax_over_real_items(np.einsum("bkd,jd->bkj", e, table))
    mixed = np.log(np.einsum("bk,bkj->bj", np.exp(log_w), np.exp(per_slot)))
    scores = model.catalog_scores(SEQ).numpy()
    real = slice(features.FIRST_ITEM_INDEX, None)
    np.testing.assert_allclose(scores[:, real], mixed[:, real], rtol=1e-4, atol=1e-4)
    assert np.abs(np.exp(scores[:, real]).sum(-1) - 1).max() < 1e-4  # a distribution
    # The slots differ, so the mixture is not one softmax of their mean.
    assert np.abs(scores[:, real] - per_slot.mean(1)[:, real]).max() > 1e-3
    batch = {
        features.ITEM_SEQ: SEQ,
        features.TARGET: tf.constant([4, 13], tf.int64),
        features.NEGATIVES: tf.constant([[7, 21, 0], [2, 30, 25]], tf.int64),
    }
    candidates = np.array([[4, 7, 21, 0], [13, 2, 30, 25]])
    np.testing.assert_allclose(
        model.candidate_scores(batch).numpy(), np.take_along_axis(scores, candidates, 1), rtol=1e-5
    )
    # The objective is the mean −log p(next item) over the real positions, and trains the
    # slots' layers and the item table.
    inputs = np.pad(SEQ.numpy()[:, :-1], [[0, 0], [1, 0]])
    e_all, log_w_all = (t.numpy() for t in model.mixture(inputs))  # [B, N, K, D], [B, N, K]
    real_rows = (inputs != 0) & (SEQ.numpy() != 0)
    slot_log_p = _log_softmax_over_real_items(np.einsum("bnkd,jd->bnkj", e_all, table))
    log_p = np.log(np.einsum("bnk,bnkj->bnj", np.exp(log_w_all), np.exp(slot_log_p)))
    target_log_p = np.take_along_axis(log_p, SEQ.numpy()[..., None], -1)[..., 0]
    np.testing.assert_allclose(
        float(model.next_item_loss(SEQ)), -target_log_p[real_rows].mean(), rtol=1e-4
    )
    with tf.GradientTape() as tape:
        loss = model.next_item_loss(SEQ, training=True)
    grads = tape.gradient(loss, [w2, model.embedding.item_embedding])
    assert np.isfinite(float(loss))
    assert all(float(tf.reduce_sum(tf.abs(tf.convert_to_tensor(g)))) > 0 for g in grads)
    with pytest.raises(ValueError, match="no single user vector"):
        model.last_position(SEQ)
    model.save(str(tmp_path / "model"))
    loaded = keras.models.load_model(str(tmp_path / "model"))
    assert type(loaded.aggregation) is ablations.MixtureAggregation
    assert loaded.ablations.changed() == {"output_mixture": True}
    np.testing.assert_allclose(loaded.catalog_scores(SEQ).numpy(), scores, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("weights", ["uniform", "uniform_routed"])
def test_uniform_mixture_weighs_the_kept_slots_equally(tmp_path, weights):
    model = _mixture_model(weights)
    w2 = model.aggregation.w2
    w2.assign(tf.random.stateless_normal(w2.shape, seed=[5, 6], stddev=0.5))
    e, log_w = (t.numpy() for t in model.mixture(SEQ, last_only=True))
    np.testing.assert_allclose(np.exp(log_w), 1 / SMALL["top_k"], rtol=1e-6)
    per_slot = _log_softmax_over_real_items(np.einsum("bkd,jd->bkj", e, model.item_vectors()))
    real = slice(features.FIRST_ITEM_INDEX, None)
    mixed = np.log(np.exp(per_slot).mean(1))
    scores = model.catalog_scores(SEQ).numpy()
    np.testing.assert_allclose(scores[:, real], mixed[:, real], rtol=1e-4, atol=1e-4)
    # Uniform: the kept values weigh nothing, so the interaction layer (eq. 5) gets no
    # gradient, the selection stays its initial projection of F·Cᵀ, and the pool trains
    # through eq. 7's gather only. Routed: the values train as if they weighed the slots.
    interaction = model.interaction.trainable_variables
    with tf.GradientTape() as tape:
        loss = model.next_item_loss(SEQ, training=True)
    grads = tape.gradient(loss, [*interaction, model.relevance.pool])
    trained = [g is not None and np.any(tf.convert_to_tensor(g).numpy()) for g in grads]
    assert trained == [weights == "uniform_routed"] * len(interaction) + [True]
    model.save(str(tmp_path / "model"))
    loaded = keras.models.load_model(str(tmp_path / "model"))
    assert loaded.ablations.changed() == {"output_mixture": True, "mixture_weights": weights}
    np.testing.assert_allclose(loaded.catalog_scores(SEQ).numpy(), scores, rtol=1e-5, atol=1e-5)


def test_interest_experts_run_one_ffn_per_kept_interest(tmp_path):
    layer = ablations.ExpertAggregation(5, 2, 4, residual=True)
    rng = np.random.default_rng(3)
    f = tf.constant(rng.normal(size=(2, 3, 4)), tf.float32)
    pool = tf.constant(rng.normal(size=(5, 4)), tf.float32)
    indices = tf.constant([[[0, 4], [2, 1], [3, 3]], [[1, 0], [4, 2], [0, 1]]])
    values = tf.constant(rng.normal(size=(2, 3, 2)), tf.float32)
    mask = tf.constant([[True, True, False], [True, True, True]])
    layer(indices, values, f, pool, mask)
    layer.w2.assign(rng.normal(size=layer.w2.shape))  # a live head (it starts at zero)
    layer.b1.assign(rng.normal(size=layer.b1.shape))
    w1, b1, w2, b2 = (v.numpy() for v in (layer.w1, layer.b1, layer.w2, layer.b2))
    assert w1.shape == (4, 5, 4) and w2.shape == (5, 4, 4)  # per expert, not per slot
    idx, val, fn, cn = indices.numpy(), values.numpy(), f.numpy(), pool.numpy()
    w = np.exp(val) / np.exp(val).sum(-1, keepdims=True)
    fused = np.zeros_like(fn)
    for b, n, k in np.ndindex(*idx.shape):
        expert = idx[b, n, k]
        h = np.maximum((cn[expert] + fn[b, n]) @ w1[:, expert] + b1[expert], 0)
        fused[b, n] += w[b, n, k] * (h @ w2[expert] + b2[expert])
    x = fn + fused
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-8)
    expected *= mask.numpy()[..., None]
    got = layer(indices, values, f, pool, mask).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # Only the kept experts learn.
    with tf.GradientTape() as tape:
        out = layer(indices[:, :1], values[:, :1], f[:, :1], pool, mask[:, :1])
        loss = tf.reduce_sum(out * out[::-1])
    grad = tape.gradient(loss, layer.w2).numpy()
    assert np.abs(grad[[0, 1, 4]]).sum() > 0 and np.abs(grad[[2, 3]]).sum() == 0
    with pytest.raises(ValueError, match="num_experts"):
        ablations.ExpertAggregation(1, 2, 4)
    # In the model: every expert is built, the model saves and loads.
    config = ModelConfig(variant="sair", **SMALL)
    model = ablations.build_model(CATALOG, config, experiments.Ablations(interest_experts=True))
    assert type(model.aggregation) is ablations.ExpertAggregation
    assert model.aggregation.w2.shape == (SMALL["num_interests"], 16, 16)
    model.aggregation.w2.assign(tf.random.stateless_normal(model.aggregation.w2.shape, [1, 2]))
    scores = model.catalog_scores(SEQ).numpy()
    model.save(str(tmp_path / "model"))
    loaded = keras.models.load_model(str(tmp_path / "model"))
    assert loaded.ablations.changed() == {"interest_experts": True}
    np.testing.assert_allclose(loaded.catalog_scores(SEQ).numpy(), scores, rtol=1e-5, atol=1e-5)


def test_output_mixture_refuses_a_sampled_objective():
    with pytest.raises(ValueError, match="output_mixture trains the full softmax"):
        _mixture_model(training_loss="sampled_softmax")
