"""Warm start: a model initialised from an earlier one trained on another vocabulary.

Vocabulary indices change between runs (items are numbered by count), so rows indexed by
item or category are matched by raw id and name, not by index:

- item embedding rows of items the earlier model knew are copied; new items keep their
  fresh initialisation; items gone from the catalog are dropped;
- category embedding rows likewise, by category name;
- position embedding rows are aligned at the most recent position (slot `max_len - 1` is
  always the last item, docs/MODEL.md §2) and kept where both lengths have them;
- every other weight (encoder, interest layers) is copied as is; the item → category table
  is rebuilt from the new catalog.

The exporter writes what this needs beside the serving SavedModel (`save`), in
`assets.extra/warm_start/`, a folder TF Serving ignores: the weights in the model's order
with their names, the item ids and category names they were indexed by, and the model's
settings. A model whose architecture differs (any setting but `max_len`) is not used.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os

import numpy as np
import tensorflow as tf

from sair_keras import features
from sair_keras.catalog import Catalog
from sair_keras.config import ModelConfig

LOG = logging.getLogger(__name__)

WARM_START_DIR = os.path.join("assets.extra", "warm_start")
WEIGHTS_FILE = "weights.npz"
ITEMS_FILE = "item_ids.txt"
CATEGORIES_FILE = "category_names.txt"
CONFIG_FILE = "model_config.json"

_ITEM_ROWS = "item_embedding"
_CATEGORY_ROWS = "category_embedding"
_POSITION_ROWS = "position_embedding"
_FROM_CATALOG = "item_categories"  # built from the catalog, never copied


@dataclasses.dataclass(frozen=True)
class WarmStart:
    """What a warm start did: item rows copied, new and dropped; weights copied."""

    items_kept: int
    items_new: int
    items_dropped: int
    weights_copied: int

    def describe(self) -> str:
        return (
            f"{self.items_kept:,} items kept, {self.items_new:,} new, "
            f"{self.items_dropped:,} dropped; {self.weights_copied} weights copied"
        )


def _short_name(variable: tf.Variable) -> str:
    return variable.name.split("/")[-1].split(":")[0]


def save(model: tf.keras.Model, catalog: Catalog, model_config: ModelConfig, path: str) -> None:
    """Writes the warm-start files of `model` under the SavedModel directory `path`."""
    directory = os.path.join(path, WARM_START_DIR)
    tf.io.gfile.makedirs(directory)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        **{f"{k:04d}_{_short_name(w)}": w.numpy() for k, w in enumerate(model.weights)},
    )
    with tf.io.gfile.GFile(os.path.join(directory, WEIGHTS_FILE), "wb") as f:
        f.write(buffer.getvalue())
    for name, values in (
        (ITEMS_FILE, catalog.item_ids),
        (CATEGORIES_FILE, catalog.category_names),
    ):
        with tf.io.gfile.GFile(os.path.join(directory, name), "w") as f:
            f.write("".join(f"{v}\n" for v in values))
    with tf.io.gfile.GFile(os.path.join(directory, CONFIG_FILE), "w") as f:
        json.dump(model_config.to_dict(), f, sort_keys=True)


def available(path: str | None) -> bool:
    """Whether the SavedModel directory `path` holds warm-start files."""
    return bool(path) and tf.io.gfile.exists(os.path.join(path, WARM_START_DIR, WEIGHTS_FILE))


def _read_lines(path: str) -> list[str]:
    with tf.io.gfile.GFile(path) as f:
        return f.read().split("\n")[:-1]


def _architecture(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "max_len"}


def _mapped_rows(new: np.ndarray, old: np.ndarray, new_ids, old_ids) -> tuple[np.ndarray, int]:
    """`new` with each row whose id the old table had replaced by that row."""
    where = {key: i for i, key in enumerate(old_ids)}
    out = new.copy()
    kept = 0
    for j, key in enumerate(new_ids):
        i = where.get(key)
        if i is not None:
            out[j] = old[i]
            kept += 1
    return out, kept


def restore(
    model: tf.keras.Model, catalog: Catalog, model_config: ModelConfig, path: str
) -> WarmStart | None:
    """Initialises `model` (built for `catalog`) from the warm-start files under the SavedModel
    directory `path`; returns what it did, or None (logged) when that model's architecture
    differs from `model_config`'s."""
    directory = os.path.join(path, WARM_START_DIR)
    with tf.io.gfile.GFile(os.path.join(directory, CONFIG_FILE)) as f:
        old_config = json.load(f)
    differs = {
        k: (v, model_config.to_dict().get(k))
        for k, v in _architecture(old_config).items()
        if model_config.to_dict().get(k) != v
    }
    if differs:
        LOG.warning("warm start skipped: the model's settings differ (%s)", differs)
        return None
    with tf.io.gfile.GFile(os.path.join(directory, WEIGHTS_FILE), "rb") as f:
        stored = np.load(io.BytesIO(f.read()))
        old = [stored[k] for k in sorted(stored.files)]
    if len(old) != len(model.weights):
        LOG.warning("warm start skipped: %d stored weights for %d", len(old), len(model.weights))
        return None
    old_items = _read_lines(os.path.join(directory, ITEMS_FILE))
    old_categories = _read_lines(os.path.join(directory, CATEGORIES_FILE))
    kept = 0
    values = []
    for variable, value in zip(model.weights, old, strict=True):
        name = _short_name(variable)
        current = variable.numpy()
        if name == _FROM_CATALOG:
            continue
        if name == _ITEM_ROWS:
            value, kept = _mapped_rows(current, value, catalog.item_ids, old_items)
        elif name == _CATEGORY_ROWS:
            value, _ = _mapped_rows(current, value, catalog.category_names, old_categories)
        elif name == _POSITION_ROWS:
            rows = min(len(current), len(value))
            aligned = current.copy()
            aligned[len(current) - rows :] = value[len(value) - rows :]
            value = aligned
        elif value.shape != current.shape:
            LOG.warning(
                "warm start skipped: %s has shape %s, stored %s", name, current.shape, value.shape
            )
            return None
        values.append((variable, value))
    for variable, value in values:  # all or nothing
        variable.assign(value)
    reserved = features.FIRST_ITEM_INDEX  # padding and [UNK] match by their reserved ids
    return WarmStart(
        items_kept=kept - reserved,
        items_new=len(catalog.item_ids) - kept,
        items_dropped=len(old_items) - kept,
        weights_copied=len(values),
    )
