"""Typed configs: the defaults, refused values."""

import pytest

from sair_keras.config import ConfigError, ModelConfig, TrainConfig


def test_defaults_are_the_configuration_chosen_on_validation():
    m, t = ModelConfig(), TrainConfig()
    assert (m.hidden_dim, m.max_len, m.dropout, m.decov_weight) == (128, 200, 0.1, 1.0)
    assert (m.num_interests, m.top_k, m.training_loss) == (10, 3, "auto")
    assert (t.batch_size, t.learning_rate, t.learning_rate_schedule) == (128, 2e-3, "cosine")
    assert (t.epochs, t.patience) == (60, 10)


def test_the_ffn_width_defaults_to_the_hidden_size_and_is_stored_resolved():
    assert ModelConfig().ffn_dim == 128 and ModelConfig().ffn_activation == "relu"
    assert ModelConfig(hidden_dim=32).to_dict()["ffn_dim"] == 32
    # A config stored before the setting existed reads as what it ran (SASRec's FFN).
    old = ModelConfig(hidden_dim=32).to_dict()
    del old["ffn_dim"], old["ffn_activation"]
    assert ModelConfig.from_dict(old) == ModelConfig(hidden_dim=32, ffn_dim=32)


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
    ],
)
def test_bad_model_config_names_the_value(kwargs, message):
    with pytest.raises(ConfigError) as e:
        ModelConfig(**kwargs)
    assert message in str(e.value)


def test_unknown_keys_are_refused():
    with pytest.raises(ConfigError, match=r"unknown ModelConfig keys \['hiden_dim'\]"):
        ModelConfig.from_dict({"hiden_dim": 3})
