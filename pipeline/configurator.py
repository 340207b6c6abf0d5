"""The one configurator: how a run's settings are put together, for the command line, the
config files and the benchmarks alike.

Precedence, lowest first:

1. the defaults of the typed configs (`DataConfig`, `ModelConfig`, `TrainConfig`,
   `EvaluationConfig`, `KubeflowConfig`, `PipelineConfig`): the only place a default is
   written;
2. the built-in demo's settings (`pipeline/demo.yaml`), when the data is the synthetic demo
   and the config file names no `source`; for a user's own log (`--dataset csv`),
   `max_len: auto` (the ingestion picks it from the data);
3. the config file (`--config FILE`, YAML), section by section;
4. the command-line flags.

Each layer changes only the settings it names. The keys a file accepts and the flags are
derived from the dataclass fields: field `f` of a section is the key `section.f` and the
flag `--f` (dashes for underscores), or `--<section>-f` when two sections have a field of
that name (`--data-seed`, `--train-seed`); `--cache` / `--no-cache` is `enable_cache`.
`max_len` and `exclude_seen` are set once, under `data`: the model is built with the same
values.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import typing
from collections import Counter
from pathlib import Path
from typing import Any

from components.sequence_gen.config import (
    AUTO,
    AUTO_MAX_LEN_CAP,
    ITEM_CATALOGS,
    TRAINING_WINDOWS,
    DataConfig,
    SourceConfig,
    parse_cutoff,
    parse_max_len,
)
from pipeline.config import RUNNERS, EvaluationConfig, KubeflowConfig, PipelineConfig
from sair_keras.config import (
    FFN_ACTIVATIONS,
    SIMILARITIES,
    TRAINING_LOSSES,
    VARIANTS,
    ConfigError,
    ModelConfig,
    TrainConfig,
)

TOP = ""  # the top level of PipelineConfig, beside its sections
SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "evaluation": EvaluationConfig,
    "kubeflow": KubeflowConfig,
}
DEMO_FILE = Path(__file__).resolve().parent / "demo.yaml"

# Scalar settings a file may hold but no flag sets: each is set once, under `data`, and
# the model takes it from there. (Nested and list-valued settings get no flag either.)
_NOT_FLAGS = {
    ("model", "max_len"),  # data.max_len
    ("model", "exclude_seen"),  # data.exclude_seen
}
_FLAG_NAMES = {(TOP, "enable_cache"): "cache"}
CHOICES = {
    ("model", "variant"): VARIANTS,
    ("model", "training_loss"): TRAINING_LOSSES,
    ("model", "ffn_activation"): FFN_ACTIVATIONS,
    ("model", "similarity"): SIMILARITIES,
    ("data", "item_catalog"): ITEM_CATALOGS,
    ("data", "training_windows"): TRAINING_WINDOWS,
    (TOP, "runner"): RUNNERS,
}


@dataclasses.dataclass(frozen=True)
class Setting:
    section: str  # TOP for PipelineConfig's own fields
    field: str
    type: Any  # int, float, str, bool or a parsing function
    help: str

    @property
    def dest(self) -> str:
        return f"setting__{self.section}__{self.field}"


def _fields(cls: type) -> list[tuple[str, Any]]:
    hints = typing.get_type_hints(cls)
    return [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]


def _scalar(annotation: Any) -> type | None:
    """int, float, str or bool for a scalar field (optional or not), else None."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if args:
        return args[0] if len(args) == 1 and args[0] in (int, float, str, bool) else None
    return annotation if annotation in (int, float, str, bool) else None


def _attribute_help(cls: type) -> dict[str, str]:
    """`name: text` entries of the class docstring's attributes, joined to one line."""
    helps: dict[str, str] = {}
    current = None
    for line in (cls.__doc__ or "").splitlines():
        match = re.match(r"\s*(\w+(?:, \w+)*): (.*)", line)
        if match:
            names = match.group(1).split(", ")
            for name in names:
                helps[name] = match.group(2)
            current = names
        elif current and line.strip() and not line.strip().endswith(":"):
            for name in current:
                helps[name] += " " + line.strip()
        else:
            current = None
    return helps


# Settings whose flag parses its value with a function of its own.
_FLAG_TYPES = {
    ("data", "max_len"): parse_max_len,
    ("data", "val_cutoff"): parse_cutoff,
    ("data", "test_cutoff"): parse_cutoff,
}


def settings() -> list[Setting]:
    """Every setting a flag can set, in section order."""
    out = []
    for section, cls in [(TOP, PipelineConfig), *SECTIONS.items()]:
        helps = _attribute_help(cls)
        for name, annotation in _fields(cls):
            kind = _FLAG_TYPES.get((section, name)) or _scalar(annotation)
            if kind is None or (section, name) in _NOT_FLAGS:
                continue
            text = helps.get(name, "")
            default = _default(cls, name)
            if default is not None and default is not dataclasses.MISSING:
                text = f"{text} (default: {default})".strip()
            out.append(Setting(section, name, kind, text))
    return out


def flag_name(setting: Setting, shared: set[str]) -> str:
    name = _FLAG_NAMES.get((setting.section, setting.field))
    if name is None:
        prefix = f"{setting.section}_" if setting.field in shared and setting.section else ""
        name = prefix + setting.field
    return "--" + name.replace("_", "-")


def _shared_names(all_settings: list[Setting]) -> set[str]:
    counts = Counter(s.field for s in all_settings)
    return {name for name, n in counts.items() if n > 1}


def add_flags(parser: argparse.ArgumentParser, sections: tuple[str, ...] | None = None) -> None:
    """One flag per setting of `sections` (every section and the top level by default),
    in an argument group per section; a flag not given leaves the lower layers' value."""
    every = settings()
    shared = _shared_names(every)
    groups: dict[str, Any] = {}
    for s in every:
        if sections is not None and s.section not in sections:
            continue
        if s.section not in groups:
            title = f"{s.section} settings" if s.section else "pipeline settings"
            groups[s.section] = parser.add_argument_group(title)
        help_text = s.help.replace("%", "%%") or None
        kwargs: dict[str, Any] = {"dest": s.dest, "default": None, "help": help_text}
        if s.type is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = s.type
            kwargs["choices"] = CHOICES.get((s.section, s.field))
            kwargs["metavar"] = None if kwargs["choices"] else s.field.upper()
        groups[s.section].add_argument(flag_name(s, shared), **kwargs)


def from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the flags gave, as a layer (`{"data": {...}, ..., "top_n": 5}`)."""
    layer: dict[str, Any] = {}
    for s in settings():
        value = getattr(args, s.dest, None)
        if value is None:
            continue
        if s.section:
            layer.setdefault(s.section, {})[s.field] = value
        else:
            layer[s.field] = value
    return layer


def read_mapping(path: str | Path) -> dict[str, Any]:
    """A YAML (or JSON) file holding a mapping; an empty file is an empty mapping."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping, got {type(data).__name__}")
    return data


def load_file(path: str | Path, extra_sections: dict[str, type] | None = None) -> dict[str, Any]:
    """A config file (YAML) as a layer, its keys checked against the configs' fields.
    `extra_sections` names sections (and their dataclasses) that a caller beside the
    pipeline reads, e.g. the benchmarks' `ablations`."""
    data = read_mapping(path)
    check_layer(data, str(path), extra_sections or {})
    return data


def resolve(
    config_file: str | Path | None,
    flags: dict[str, Any],
    *,
    demo: bool = False,
    user_log: bool = False,
) -> dict[str, Any]:
    """The merged layers, lowest first: the demo's settings (when `demo` and the file names
    no source) or a user log's (`USER_LOG`, when `user_log`), the config file, the flags.
    The dataclass defaults fill the rest when the configs are built (`pipeline_config`,
    `data_config`)."""
    file_layer = load_file(config_file) if config_file else {}
    base = {}
    if demo and "source" not in file_layer:
        base = demo_layer()
    elif user_log:
        base = USER_LOG
    return merge(base, file_layer, flags)


def output_root(layer: dict[str, Any]) -> str:
    """The layer's output root, resolved to an absolute path unless it is a URI."""
    root = str(layer.get("output_root", _default(PipelineConfig, "output_root")))
    return root if "://" in root else str(Path(root).resolve())


def check_layer(
    layer: dict[str, Any], where: str, extra_sections: dict[str, type] | None = None
) -> None:
    sections = {**SECTIONS, **(extra_sections or {})}
    top = {f.name for f in dataclasses.fields(PipelineConfig)} | set(sections)
    unknown = sorted(set(layer) - top)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; known: {sorted(top)}")
    for section, cls in sections.items():
        values = layer.get(section, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: '{section}' must be a mapping")
        for shared in ("max_len", "exclude_seen"):
            if section == "model" and shared in values:
                raise ConfigError(
                    f"{where}: {shared} is set once, under data (data.{shared}); the model takes it"
                )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown {section} keys {unknown}; known: {sorted(known)}")


def merge(*layers: dict[str, Any]) -> dict[str, Any]:
    """Later layers over earlier ones, section by section."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key in SECTIONS:
                out[key] = {**out.get(key, {}), **value}
            else:
                out[key] = value
    return out


def demo_layer() -> dict[str, Any]:
    return load_file(DEMO_FILE)


# A user's own log (`--dataset csv`): settings from the data, under the file and the flags.
USER_LOG = {"data": {"max_len": AUTO}}


def data_config(layer: dict[str, Any]) -> DataConfig:
    return _build(DataConfig, layer.get("data", {}), "data")


def model_config(layer: dict[str, Any]) -> ModelConfig:
    """The model section, with `data.max_len` and `data.exclude_seen`."""
    model = dict(layer.get("model", {}))
    data = data_config(layer)
    # With "auto" the model is built for the length the ingestion chose (the Trainer reads
    # it beside the examples); until then it holds the cap.
    model["max_len"] = AUTO_MAX_LEN_CAP if data.max_len == AUTO else data.max_len
    model["exclude_seen"] = data.exclude_seen
    return _build(ModelConfig, model, "model")


def _build(cls: type, values: dict[str, Any], section: str) -> Any:
    try:
        return cls(**values)
    except TypeError as e:
        raise ConfigError(f"{section}: {e}") from e


def pipeline_config(layer: dict[str, Any], source: SourceConfig | None = None) -> PipelineConfig:
    """The `PipelineConfig` of a merged layer; `source` when the layer has none."""
    check_layer(layer, "configuration")
    top = {k: v for k, v in layer.items() if k not in SECTIONS and k != "source"}
    source = source_config(layer) or source
    if source is None:
        raise ConfigError("no input: give a source (a config file's `source`, or --dataset)")
    top["output_root"] = output_root(layer)
    if top.get("metadata_sqlite"):
        top["metadata_sqlite"] = str(Path(top["metadata_sqlite"]).resolve())
    if "beam_args" in top:
        top["beam_args"] = tuple(top["beam_args"])
    return _build(
        PipelineConfig,
        dict(
            source=source,
            data=data_config(layer),
            model=model_config(layer),
            train=_build(TrainConfig, layer.get("train", {}), "train"),
            evaluation=_build(EvaluationConfig, layer.get("evaluation", {}), "evaluation"),
            kubeflow=_build(KubeflowConfig, layer.get("kubeflow", {}), "kubeflow"),
            **top,
        ),
        "pipeline",
    )


def source_config(layer: dict[str, Any]) -> SourceConfig | None:
    """The layer's `source` section as a `SourceConfig`, or None when it has none."""
    if "source" not in layer:
        return None
    return SourceConfig.from_json(json.dumps(layer["source"]))


def _default(cls: type, name: str) -> Any:
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)
