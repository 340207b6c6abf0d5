"""Typed configuration of the ingestion: where the interactions are (`SourceConfig`) and the
rules that turn them into sequence examples (`DataConfig`, defaults from the paper)."""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any

from sair_keras.config import ConfigError, dataclass_from_dict

TEXT_FORMATS = ("csv", "tsv", "delimited")
FORMATS = (*TEXT_FORMATS, "parquet")
TIME_TYPES = ("numeric", "iso8601", "position")
SPLITS = ("leave_one_out", "temporal")
CUTOFF_UNITS = ("fraction", "time")
ITEM_CATALOGS = ("interactions", "item_table")
TRAINING_WINDOWS = ("last", "all")  # DataConfig.training_windows
ID_TYPES = ("string", "int")


AUTO = "auto"  # DataConfig.max_len chosen from the data
AUTO_MAX_LEN_PERCENTILE = 99
AUTO_MAX_LEN_CAP = 200


def parse_max_len(text: str) -> int | str:
    """A `max_len` flag's value: a positive integer or "auto"."""
    return AUTO if text == AUTO else int(text)


def parse_cutoff(text: str) -> float | str:
    """A temporal cutoff flag's value: a number, or an ISO 8601 time kept as text."""
    try:
        return float(text)
    except ValueError:
        return text


def cutoff_seconds(value: float | str) -> float:
    """A cutoff of unit "time" as a number: ISO 8601 text → seconds since the epoch (UTC
    when no zone is given), the unit the ingestion reads "iso8601" times in."""
    if isinstance(value, (int, float)):
        return float(value)
    try:
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"a cutoff must be a number or an ISO 8601 time, got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The rules of the paper's protocol (docs/MODEL.md §7).

    Attributes:
      min_rating: an interaction is valid when its rating is >= this (the paper: non-negative).
      max_len: keep the most recent `max_len` items of every sequence; "auto": the 99th
        percentile of the training sequences' lengths, at most 200, chosen by the ingestion
        and printed in its data report (the default for user logs, `--dataset csv`).
      training_windows: the training examples of a history longer than `max_len`: "all"
        (default), the whole history cut from its end into windows of `max_len` items,
        each window's first item the last of the one before it, so that every training
        item but the user's first is a target exactly once; or "last", its most recent
        `max_len` items (one example per user; the older items are never a training
        target: the paper's protocol). Validation and
        test histories keep the most recent `max_len` items either way.
      num_eval_negatives: negatives per validation / test user, sampled uniformly from items
        the user never interacted with.
      min_eval_interactions: users with fewer interactions go to training only.
      seed: seeds the evaluation negatives (per user, independent of parallelism).
      max_rejected_fraction: the run fails when more of the rows read are rejected.
      item_catalog: the items the model knows and the evaluation negatives are drawn from:
        "interactions", the items some kept interaction mentions (the default), or
        "item_table", those and every item of the source's item table that no kept
        interaction mentions (count 0). The latter keeps a catalog's not-yet-seen items
        servable and is how RecBole builds its candidates (the paper's ML-1M numbers: its
        3,883 items are every movie of movies.dat, 177 of them unrated).
      exclude_seen: items the user interacted with before are never recommended, nor
        counted against the target in the full-catalog ranking, nor drawn as BCE training
        negatives (default); off for logs of repeat consumption (groceries, music), where a
        seen item may well be the next one. The model takes the same value.
    """

    min_rating: float = 0.0
    max_len: int | str = 200
    training_windows: str = "all"
    num_eval_negatives: int = 100
    min_eval_interactions: int = 3
    seed: int = 42
    max_rejected_fraction: float = 0.05
    item_catalog: str = "interactions"
    exclude_seen: bool = True
    min_user_interactions: int = 1
    min_item_interactions: int = 1
    split: str = "leave_one_out"
    val_cutoff: float | str | None = None
    test_cutoff: float | str | None = None
    cutoff_unit: str = "fraction"

    def __post_init__(self) -> None:
        if self.max_len != AUTO and (not isinstance(self.max_len, int) or self.max_len < 1):
            raise ConfigError(f"max_len must be an integer >= 1 or {AUTO!r}, got {self.max_len!r}")
        if self.num_eval_negatives < 1:
            raise ConfigError(f"num_eval_negatives must be >= 1, got {self.num_eval_negatives}")
        if self.min_eval_interactions < 3:
            raise ConfigError(
                "min_eval_interactions must be >= 3 (leave-one-out needs a training item, a "
                f"validation item and a test item), got {self.min_eval_interactions}"
            )
        if not 0.0 <= self.max_rejected_fraction <= 1.0:
            raise ConfigError(
                f"max_rejected_fraction must be in [0, 1], got {self.max_rejected_fraction}"
            )
        if self.item_catalog not in ITEM_CATALOGS:
            raise ConfigError(
                f"item_catalog must be one of {ITEM_CATALOGS}, got {self.item_catalog!r}"
            )
        for name in ("min_user_interactions", "min_item_interactions"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.training_windows not in TRAINING_WINDOWS:
            raise ConfigError(
                f"training_windows must be one of {TRAINING_WINDOWS}, got {self.training_windows!r}"
            )
        if self.split not in SPLITS:
            raise ConfigError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.cutoff_unit not in CUTOFF_UNITS:
            raise ConfigError(
                f"cutoff_unit must be one of {CUTOFF_UNITS}, got {self.cutoff_unit!r}"
            )
        if self.split == "temporal":
            self.cutoffs()  # validates them

    @property
    def k_core(self) -> bool:
        return self.min_user_interactions > 1 or self.min_item_interactions > 1

    def cutoffs(self) -> tuple[float, float]:
        """(validation, test) cutoffs of the temporal split: fractions or times."""
        if self.val_cutoff is None or self.test_cutoff is None:
            raise ConfigError('split "temporal" needs val_cutoff and test_cutoff')
        if self.cutoff_unit == "fraction":
            values = []
            for name in ("val_cutoff", "test_cutoff"):
                v = getattr(self, name)
                if not isinstance(v, (int, float)) or not 0.0 < v < 1.0:
                    raise ConfigError(
                        f'{name} with cutoff_unit "fraction" must be a number in (0, 1), got {v!r}'
                    )
                values.append(float(v))
            val, test = values
        else:
            val, test = cutoff_seconds(self.val_cutoff), cutoff_seconds(self.test_cutoff)
        if not val < test:
            raise ConfigError(
                f"val_cutoff must come before test_cutoff, got {self.val_cutoff!r} and "
                f"{self.test_cutoff!r}"
            )
        return val, test

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DataConfig:
        return _from_dict(cls, json.loads(text))


@dataclasses.dataclass(frozen=True)
class ItemTable:
    """An optional file mapping items to categories.

    Attributes:
      path: the file (a glob is not allowed: one file).
      item_column: column name (with a header) or 0-based index of the item id.
      category_column: column holding the categories, several separated by
        `category_separator`; or None when `category_flags` is used.
      category_flags: MovieLens-100K style one-hot columns: `{column index: category name}`,
        the item has every category whose column holds "1".
      missing_category: a cell value meaning "no category" (the item maps to `[UNK]`).
    """

    path: str
    format: str = "csv"
    delimiter: str | None = None
    has_header: bool = True
    quoted: bool = True
    encoding: str = "utf-8"
    item_column: str | int = "item_id"
    category_column: str | int | None = "categories"
    category_separator: str = "|"
    category_flags: dict[int, str] | None = None
    missing_category: str | None = None


@dataclasses.dataclass(frozen=True)
class SourceConfig:
    """Where the interactions are and how their columns map to SAIR's.

    Columns are header names (with `has_header`) or 0-based indices. `time_column` holds a
    timestamp or a position; ties keep the input order.

    Attributes:
      paths: one or more files (text may be gzip-compressed; any Beam filesystem path).
      format: "csv", "tsv", "delimited" (with `delimiter`, which may be several characters,
        e.g. "::") or "parquet".
      quoted: parse text with CSV quoting rules (needed when fields hold the delimiter).
      encoding: of text files; a row that does not decode is rejected and counted.
      id_type: "int" rejects ids that are not integers; "string" takes any non-empty id.
      time_type: "numeric" (seconds, or any number that orders), "iso8601", or "position"
        (an order-only log: the column numbers each user's interactions, it is no time; the
        temporal split refuses it).
      rating_column: optional; rows with a NaN rating or one below `min_rating` are rejected.
      category_column: optional categories inside the interaction rows.
      items: optional separate item → categories file.
    """

    paths: tuple[str, ...]
    format: str = "csv"
    delimiter: str | None = None
    has_header: bool = True
    quoted: bool = False
    encoding: str = "utf-8"
    user_column: str | int = "user_id"
    item_column: str | int = "item_id"
    time_column: str | int = "timestamp"
    rating_column: str | int | None = None
    category_column: str | int | None = None
    category_separator: str = "|"
    id_type: str = "string"
    time_type: str = "numeric"
    items: ItemTable | None = None
    name: str = "csv"

    def __post_init__(self) -> None:
        if isinstance(self.paths, str):
            object.__setattr__(self, "paths", (self.paths,))
        object.__setattr__(self, "paths", tuple(self.paths))
        if not self.paths:
            raise ConfigError("SourceConfig.paths is empty: give at least one input file")
        if self.format not in FORMATS:
            raise ConfigError(f"unknown format {self.format!r}; expected one of {FORMATS}")
        if self.format == "delimited" and not self.delimiter:
            raise ConfigError("format 'delimited' needs a delimiter, got none")
        if self.id_type not in ID_TYPES:
            raise ConfigError(f"unknown id_type {self.id_type!r}; expected one of {ID_TYPES}")
        if self.time_type not in TIME_TYPES:
            raise ConfigError(f"unknown time_type {self.time_type!r}; expected {TIME_TYPES}")

    @property
    def text_delimiter(self) -> str:
        return text_delimiter(self.format, self.delimiter)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SourceConfig:
        raw = json.loads(text)
        if raw.get("items") is not None:
            items = dict(raw["items"])
            if items.get("category_flags") is not None:
                items["category_flags"] = {int(k): v for k, v in items["category_flags"].items()}
            raw["items"] = _from_dict(ItemTable, items)
        raw["paths"] = tuple(raw["paths"])
        return _from_dict(cls, raw)


def text_delimiter(fmt: str, delimiter: str | None) -> str:
    if delimiter:
        return delimiter
    if fmt == "tsv":
        return "\t"
    return ","


def _from_dict(cls: type, raw: dict[str, Any]) -> Any:
    return dataclass_from_dict(cls, raw, ConfigError)
