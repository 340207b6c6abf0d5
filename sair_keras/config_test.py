"""Typed configs: the paper's defaults, named recipes, refused values."""

import dataclasses

import pytest

from sair_keras.config import (
    INTEREST_HEAD_FIELDS,
    ModelConfig,
    ModelConfigError,
    TrainConfig,
    sasrec_recipe,
)


def test_defaults_are_the_papers():
    m, t = ModelConfig(), TrainConfig()
    assert (m.hidden_dim, m.max_len, m.decov_weight) == (64, 150, 1.0)
    assert (t.batch_size, t.learning_rate, t.patience) == (256, 1e-3, 20)


def test_recipes():
    assert ModelConfig.recipe("paper").aggregation_residual is False
    assert ModelConfig.recipe("default") == ModelConfig()
    paper = ModelConfig.recipe("paper", variant="sasrec", top_k=2)
    assert (paper.variant, paper.top_k, paper.aggregation_residual) == ("sasrec", 2, False)
    with pytest.raises(ModelConfigError, match="unknown recipe 'best'"):
        ModelConfig.recipe("best")
    norm = ModelConfig.recipe("paper_layernorm")
    assert (norm.aggregation_residual, norm.aggregation_layer_norm) == (False, True)
    assert ModelConfig().training_loss == "bce"  # eq. 12
    assert ModelConfig.recipe("softmax").training_loss == "softmax"
    both = ModelConfig.recipe("paper_softmax")
    assert (both.aggregation_residual, both.training_loss) == (False, "softmax")
    assert ModelConfig.recipe("no_decov").decov_weight == 0.0
    assert ModelConfig.recipe("dropout_0.5").dropout == 0.5
    pool = ModelConfig.recipe("pool_20_top_8")
    assert (pool.num_interests, pool.top_k) == (20, 8)
    pool_softmax = ModelConfig.recipe("softmax_pool_20_top_8")
    assert (pool_softmax.num_interests, pool_softmax.top_k) == (20, 8)
    assert pool_softmax.training_loss == "softmax"
    assert ModelConfig.recipe("balance").balance_weight == 0.01
    assert ModelConfig().balance_weight == 0.0  # not in the paper: off by default
    assert ModelConfig.recipe("interaction_residual").interaction_residual is True
    recbole = ModelConfig.recipe("recbole", variant="sasrec")
    assert (recbole.num_heads, recbole.ffn_dim, recbole.ffn_activation) == (2, 256, "gelu")
    assert (recbole.dropout, recbole.training_loss) == (0.5, "softmax")


def test_a_recipe_s_sasrec_is_the_recipe_with_the_same_fields_outside_the_head():
    assert INTEREST_HEAD_FIELDS <= {f.name for f in dataclasses.fields(ModelConfig)}
    for head_only in ("default", "paper", "pool_20_top_8", "top_1", "no_decov", "balance"):
        assert sasrec_recipe(head_only) == "default"
    assert sasrec_recipe("softmax_pool_20_top_8") == "softmax"
    assert sasrec_recipe("paper_softmax") == "softmax"
    # Recipes that change the encoder or the loss only are their own.
    assert sasrec_recipe("recbole") == "recbole"
    assert sasrec_recipe("dropout_0.5") == "dropout_0.5"
    with pytest.raises(ModelConfigError, match="'best'"):
        sasrec_recipe("best")


def test_the_ffn_width_defaults_to_the_hidden_size_and_is_stored_resolved():
    assert ModelConfig().ffn_dim == 64 and ModelConfig().ffn_activation == "relu"
    assert ModelConfig(hidden_dim=32).to_dict()["ffn_dim"] == 32
    # A config stored before the setting existed reads as what it ran (SASRec's FFN).
    old = ModelConfig(hidden_dim=32).to_dict()
    del old["ffn_dim"], old["ffn_activation"]
    assert ModelConfig.from_dict(old) == ModelConfig(hidden_dim=32, ffn_dim=32)


def test_the_head_layer_norm_follows_the_residual_unless_set():
    assert ModelConfig().aggregation_layer_norm is True
    assert ModelConfig.recipe("paper").aggregation_layer_norm is False
    # A config stored before the setting existed reads as what it ran.
    old = {k: v for k, v in ModelConfig.recipe("paper").to_dict().items()}
    del old["aggregation_layer_norm"]
    assert ModelConfig.from_dict(old) == ModelConfig.recipe("paper")
    assert ModelConfig(aggregation_layer_norm=False).to_dict()["aggregation_layer_norm"] is False


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variant": "bert4rec"}, "unknown variant 'bert4rec'"),
        ({"top_k": 11, "num_interests": 10}, "top_k K=11 exceeds the interest pool L=10"),
        ({"hidden_dim": 63, "num_heads": 2}, "hidden_dim (63) must be divisible by num_heads (2)"),
        ({"dropout": 1.0}, "dropout must be in [0, 1), got 1.0"),
        ({"training_loss": "bpr"}, "unknown training_loss 'bpr'"),
        ({"ffn_dim": 0}, "ffn_dim must be >= 1, got 0"),
        ({"ffn_activation": "swish"}, "unknown ffn_activation 'swish'"),
        ({"balance_weight": -0.1}, "balance_weight must be >= 0, got -0.1"),
        ({"variant": "sasrec", "balance_weight": 0.01}, "not to variant 'sasrec'"),
        ({"variant": "sair_full", "interaction_residual": True}, "not to variant 'sair_full'"),
    ],
)
def test_bad_model_config_names_the_value(kwargs, message):
    with pytest.raises(ModelConfigError) as e:
        ModelConfig(**kwargs)
    assert message in str(e.value)


def test_unknown_keys_are_refused():
    with pytest.raises(ModelConfigError, match=r"unknown ModelConfig keys \['hiden_dim'\]"):
        ModelConfig.from_dict({"hiden_dim": 3})
