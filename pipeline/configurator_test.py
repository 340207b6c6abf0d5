"""The configurator: precedence, flags derived from the fields, one max_len, the shipped
files."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from components.sequence_gen.config import DataConfig
from pipeline import configurator
from sair_keras.config import ConfigError, ModelConfig, TrainConfig

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "configs").glob("*.yaml")) + [configurator.DEMO_FILE]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configurator.add_flags(parser)
    return parser.parse_args(argv)


def test_every_scalar_field_has_a_flag_and_shared_names_get_their_section():
    flags = {a for action in _build_parser()._actions for a in action.option_strings}
    for field in dataclasses.fields(ModelConfig):
        if field.name != "max_len":
            assert "--" + field.name.replace("_", "-") in flags, field.name
    assert {"--data-seed", "--train-seed", "--max-len", "--cache", "--no-cache"} <= flags
    assert "--seed" not in flags
    args = _parse(["--data-seed", "7", "--train-seed", "3", "--no-use-categories"])
    layer = configurator.from_flags(args)
    assert layer == {"data": {"seed": 7}, "train": {"seed": 3}, "model": {"use_categories": False}}


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    configurator.add_flags(parser)
    return parser


def test_flags_over_the_file_over_the_demo_over_the_defaults(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("train: {epochs: 7, learning_rate: 0.01}\nmodel: {dropout: 0.1}\n")
    flags = configurator.from_flags(_parse(["--epochs", "3", "--max-len", "20"]))
    layer = configurator.resolve(cfg, flags, demo=True)
    assert layer["train"] == {"epochs": 3, "patience": 5, "learning_rate": 0.01}
    assert configurator.data_config(layer).max_len == 20
    model = configurator.model_config(layer)
    assert (model.max_len, model.dropout, model.hidden_dim) == (20, 0.1, ModelConfig().hidden_dim)
    # Without the demo the defaults stand where neither the file nor a flag names a setting.
    plain = configurator.resolve(cfg, {}, demo=False)
    assert "patience" not in plain["train"]
    assert configurator.data_config(plain).max_len == 200


def test_a_file_with_a_source_is_not_the_demo(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("source: {paths: [x.csv]}\n")
    assert "data" not in configurator.resolve(cfg, {}, demo=True)


@pytest.mark.parametrize(
    "text, message",
    [
        ("model: {max_len: 20}\n", "max_len is set once, under data"),
        ("model: {exclude_seen: false}\n", "exclude_seen is set once, under data"),
        ("recipe: softmax\n", "unknown keys ['recipe']"),
        ("train: {epoch: 3}\n", "unknown train keys ['epoch']"),
        ("model: 3\n", "'model' must be a mapping"),
        ("- a\n", "must hold a mapping"),
        ("model: {variant: sair\n", "cannot read config file"),
    ],
)
def test_bad_files_are_refused_with_what_to_change(tmp_path, text, message):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        configurator.load_file(cfg)


def test_a_caller_s_own_section_is_read_and_checked_only_when_named(tmp_path):
    @dataclasses.dataclass(frozen=True)
    class Extra:
        switch: bool = False

    cfg = tmp_path / "extra.yaml"
    cfg.write_text("model: {top_k: 2}\nextra: {switch: true}\n")
    assert configurator.load_file(cfg, {"extra": Extra})["extra"] == {"switch": True}
    with pytest.raises(ConfigError, match=r"unknown keys \['extra'\]"):
        configurator.load_file(cfg)
    cfg.write_text("extra: {swich: true}\n")
    with pytest.raises(ConfigError, match=r"unknown extra keys \['swich'\]"):
        configurator.load_file(cfg, {"extra": Extra})


def test_a_bad_value_is_a_config_error_naming_the_setting():
    with pytest.raises(ConfigError, match="dropout must be in"):
        configurator.model_config({"model": {"dropout": 1.5}})
    with pytest.raises(ConfigError, match="no input"):
        configurator.pipeline_config({})


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_loads_and_states_no_default(path):
    """A shipped file only changes settings: a value equal to the default would be the
    default written a second time."""
    layer = configurator.load_file(path)
    for section, cls in configurator.SECTIONS.items():
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        for key, value in layer.get(section, {}).items():
            assert value != defaults[key], f"{path.name}: {section}.{key} is the default"
    configurator.data_config(layer)
    configurator.model_config(layer)
    TrainConfig(**layer.get("train", {}))


def test_help_states_each_default_once_from_the_dataclass():
    text = _build_parser().format_help()
    assert f"(default: {TrainConfig().patience})" in text
    assert "--early-stopping-metric" in text


def test_exclude_seen_is_one_setting_for_the_data_and_the_model():
    layer = configurator.from_flags(_parse(["--no-exclude-seen"]))
    assert layer == {"data": {"exclude_seen": False}}
    assert configurator.data_config(layer).exclude_seen is False
    assert configurator.model_config(layer).exclude_seen is False
    assert configurator.model_config({}).exclude_seen is True


def test_max_len_auto_is_the_default_for_user_logs_and_a_flag_value():
    layer = configurator.from_flags(_parse(["--max-len", "auto"]))
    assert configurator.data_config(layer).max_len == "auto"
    assert configurator.model_config(layer).max_len == 200  # until the ingestion chooses
    assert configurator.resolve(None, {}, user_log=True)["data"] == {"max_len": "auto"}
    flags = configurator.from_flags(_parse(["--max-len", "30"]))
    assert configurator.resolve(None, flags, user_log=True)["data"] == {"max_len": 30}
    with pytest.raises(ConfigError, match="max_len must be an integer >= 1 or 'auto'"):
        configurator.data_config({"data": {"max_len": "long"}})


def test_the_temporal_split_and_k_core_are_flags_with_cutoffs_as_numbers_or_times():
    args = ["--split", "temporal", "--val-cutoff", "0.8", "--test-cutoff", "0.9"]
    config = configurator.data_config(configurator.from_flags(_parse(args)))
    assert (config.split, config.cutoffs()) == ("temporal", (0.8, 0.9))
    args = ["--split", "temporal", "--cutoff-unit", "time"]
    args += ["--val-cutoff", "2024-05-01", "--test-cutoff", "1714694400"]
    config = configurator.data_config(configurator.from_flags(_parse(args)))
    assert config.cutoffs() == (1714521600.0, 1714694400.0)  # 2024-05-01 and 05-03, UTC
    args = ["--min-user-interactions", "5", "--min-item-interactions", "3"]
    config = configurator.data_config(configurator.from_flags(_parse(args)))
    assert (config.min_user_interactions, config.min_item_interactions, config.k_core) == (
        5,
        3,
        True,
    )
    assert not DataConfig().k_core
