"""The named experiment configurations and how they pair with `sasrec`."""

import dataclasses
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import experiments  # noqa: E402

from components.sequence_gen.config import DataConfig  # noqa: E402
from pipeline import configurator  # noqa: E402
from sair_keras.config import ConfigError, ModelConfig, TrainConfig  # noqa: E402


def test_every_configuration_builds_a_model_config():
    assert {"default", "paper", "softmax", "recbole", "softmax_pool_20_top_8"} <= set(
        experiments.names()
    )
    assert "vertex" not in experiments.names()  # a deployment, not an experiment
    for name in experiments.names():
        ModelConfig(**experiments.model_settings(name))
        DataConfig(**experiments.data_settings(name))
        TrainConfig(**experiments.train_settings(name))
    assert experiments.model_settings("default") == {}
    assert experiments.model_settings("paper") == {
        "hidden_dim": 64,
        "num_blocks": 2,
        "num_heads": 1,
        "aggregation_residual": False,
        "training_loss": "bce",
        "dropout": 0.2,
    }
    recbole = ModelConfig(**experiments.model_settings("recbole"))
    assert (recbole.num_blocks, recbole.num_heads) == (2, 2)
    assert (recbole.ffn_dim, recbole.ffn_activation) == (256, "gelu")
    # The published configurations keep their 2 blocks of 1 head under the product's 3 of 2.
    for name in ("paper", "sasrec_plus", "plus_batch_128", "plus_pool_20_top_8"):
        published = ModelConfig(**experiments.model_settings(name))
        assert (published.num_blocks, published.num_heads) == (2, 1), name
    with pytest.raises(ConfigError, match="unknown configuration 'best'"):
        experiments.model_settings("best")


def test_every_configuration_states_no_default():
    """A value equal to the default would be the default written a second time."""
    for name in experiments.names():
        layer = experiments._layer(name)
        for section, cls in {**configurator.SECTIONS, "ablations": experiments.Ablations}.items():
            defaults = {f.name: f.default for f in dataclasses.fields(cls)}
            for key, value in layer.get(section, {}).items():
                assert value != defaults[key], f"{name}: {section}.{key} is the default"


def test_a_configuration_s_sasrec_is_the_one_with_the_same_fields_outside_the_head():
    model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
    assert experiments.INTEREST_HEAD_FIELDS <= model_fields | experiments.ABLATION_FIELDS
    assert experiments.HEAD_ABLATIONS < experiments.ABLATION_FIELDS
    for head_only in ("default", "pool_20_top_8", "top_1", "no_decov", "balance"):
        assert experiments.sasrec_configuration(head_only) == "default"
    assert experiments.sasrec_configuration("paper") == "paper"  # BCE: its own sasrec
    assert experiments.sasrec_configuration("softmax_pool_20_top_8") == "softmax"
    assert experiments.sasrec_configuration("paper_softmax") == "softmax"
    assert experiments.sasrec_configuration("recbole") == "recbole"
    assert experiments.sasrec_configuration("dropout_0.5") == "dropout_0.5"


def test_a_configuration_s_max_len_is_its_data_max_len():
    assert experiments.max_len("paper") == 150
    assert experiments.max_len("default") is None
    assert experiments.sasrec_configuration("sasrec_plus") == "sasrec_plus"
    assert experiments.sasrec_configuration("plus_pool_20_top_8") == "sasrec_plus"


def test_a_configuration_s_train_section_sets_its_optimisation_not_the_protocol(tmp_path):
    constant_1e_3 = {
        "learning_rate": 0.001,
        "learning_rate_schedule": "constant",
        "weight_averaging": 0.0,
    }
    assert experiments.train_settings("plus_batch_128") == constant_1e_3
    assert experiments.train_settings("sasrec_plus") == {"batch_size": 256, **constant_1e_3}
    # Another batch size is another sasrec: not the one of the same model at batch 256.
    assert experiments.sasrec_configuration("plus_batch_128") == "plus_batch_128"
    assert experiments.sasrec_configuration("sasrec_plus") == "sasrec_plus"
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text("train: {batch_size: 64, epochs: 30, early_stopping_metric: hr_10}\n")
    assert experiments.train_settings(protocol) == {"batch_size": 64}  # the flags' protocol
    assert experiments.train_settings("paper") == {"batch_size": 256, **constant_1e_3}


def test_a_configuration_s_data_section_sets_how_the_examples_are_built():
    assert experiments.data_settings("plus_batch_128") == {"training_windows": "last"}
    assert experiments.data_settings("default") == {}  # max_len: the model's
    # The same training examples (and all else outside the head): the same sasrec.
    assert experiments.sasrec_configuration("plus_pool_20_top_8") == "sasrec_plus"


def _named_in_scripts() -> dict[str, set[str]]:
    """The configurations each benchmark script names: `--recipe NAME`, and the lists it
    loops over (`CANDIDATES=(...)`, `for recipe in ...; do`)."""
    import re

    named = {}
    for script in sorted(experiments.ROOT.glob("benchmarks/*.sh")):
        text = script.read_text()
        names = set(re.findall(r"--recipe \"?([\w.\-]+)", text))
        for block in re.findall(r"CANDIDATES=\(([^)]*)\)|for recipe in ([^;]*);", text):
            names |= set(" ".join(block).replace("\\", " ").split())
        named[script.name] = names
    return named


def test_the_benchmark_scripts_name_configurations_that_exist():
    named = _named_in_scripts()
    assert {"dropout_0.2", "default", "gbce"} <= named["search_default.sh"]
    assert {"paper", "balance"} <= named["reproduce_paper.sh"]
    for script, names in named.items():
        assert names <= set(experiments.names()), script


@pytest.mark.parametrize(
    "model, changed",
    [
        # the product's model: the LayerNorm follows the residual, whether recorded or not
        ({"aggregation_residual": True, "aggregation_layer_norm": True}, {}),
        ({"aggregation_residual": False, "aggregation_layer_norm": False}, {}),
        ({"aggregation_residual": True, "aggregation_layer_norm": None}, {}),
        ({"aggregation_residual": True, "output_mixture": False}, {}),
        # the LayerNorm apart from the residual, and the output mixture's switches
        (
            {"aggregation_residual": True, "aggregation_layer_norm": False},
            {"aggregation_layer_norm": False},
        ),
        (
            {"output_mixture": True, "mixture_weights": "uniform", "hidden_dim": 128},
            {"mixture_weights": "uniform", "output_mixture": True},
        ),
    ],
)
def test_changed_switches_are_those_apart_from_the_product_s_model(model, changed):
    assert experiments.changed_switches(model) == changed


def test_changed_switches_keeps_the_names_asked_for():
    model = {"output_layer": "untied", "output_mixture": True}
    assert experiments.changed_switches(model, experiments.HEAD_ABLATIONS) == {
        "output_mixture": True
    }
