"""The item catalog a model is built for, read from the ingestion's vocabulary files."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf

from sair_keras import features


@dataclasses.dataclass(frozen=True)
class Catalog:
    """Attributes:
    item_ids: raw item id of every index (0 `[PAD]`, 1 `[UNK]`, then the items).
    num_categories: rows of the category table, padding and `[UNK]` included.
    item_categories: `[len(item_ids), C]` category indices of each item, 0-padded.
    train_counts: `[len(item_ids)]` interactions of each item in the training split (the
      popularity baseline); zeros when the vocabulary has no count file.
    category_names: the name of every category index (0 `[PAD]`, 1 `[UNK]`); by default
      the indices as text.
    max_len: the length the ingestion cut the sequences to (None when not recorded).
    """

    item_ids: tuple[str, ...]
    num_categories: int
    item_categories: np.ndarray
    train_counts: np.ndarray | None = None
    category_names: tuple[str, ...] | None = None
    max_len: int | None = None

    def __post_init__(self) -> None:
        if self.train_counts is None:
            object.__setattr__(self, "train_counts", np.zeros(len(self.item_ids), np.int64))
        if self.category_names is None:
            names = ("[PAD]", "[UNK]", *(str(i) for i in range(2, self.num_categories)))
            object.__setattr__(self, "category_names", names[: self.num_categories])

    @property
    def num_items(self) -> int:
        """Rows of the item table, padding and `[UNK]` included."""
        return len(self.item_ids)

    @classmethod
    def load(cls, vocabulary_dir: str) -> Catalog:
        """Reads items.tsv and categories.tsv (any filesystem TensorFlow reads)."""
        rows = _rows(os.path.join(vocabulary_dir, features.ITEM_VOCAB_FILE))
        cats = _rows(os.path.join(vocabulary_dir, features.CATEGORY_VOCAB_FILE))
        per_item = [[int(c) for c in r[3].split("|") if c] for r in rows]
        width = max(1, max(len(c) for c in per_item))
        table = np.zeros((len(rows), width), dtype=np.int64)
        for i, c in enumerate(per_item):
            table[i, : len(c)] = c
        table[features.PAD_INDEX] = 0
        counts = np.zeros(len(rows), dtype=np.int64)
        counts_path = os.path.join(vocabulary_dir, features.TRAIN_COUNTS_FILE)
        if tf.io.gfile.exists(counts_path):
            for index, count in _rows(counts_path):
                counts[int(index)] = int(count)
        max_len = None
        max_len_path = os.path.join(vocabulary_dir, features.MAX_LEN_FILE)
        if tf.io.gfile.exists(max_len_path):
            with tf.io.gfile.GFile(max_len_path) as f:
                max_len = int(f.read().strip())
        names = tuple(r[1] for r in cats)
        return cls(tuple(r[1] for r in rows), len(cats), table, counts, names, max_len)

    @classmethod
    def synthetic(cls, num_items: int, num_categories: int, seed: int = 0) -> Catalog:
        """A made-up catalog (tests, examples): every item has one or two categories."""
        rng = np.random.default_rng(seed)
        total = num_items + features.FIRST_ITEM_INDEX
        table = np.zeros((total, 2), dtype=np.int64)
        first = features.FIRST_ITEM_INDEX
        table[first:, 0] = rng.integers(first, first + num_categories, size=num_items)
        table[first:, 1] = np.where(
            rng.random(num_items) < 0.3,
            rng.integers(first, first + num_categories, size=num_items),
            0,
        )
        table[features.UNK_INDEX, 0] = features.UNK_INDEX
        ids = ("[PAD]", "[UNK]", *(str(i) for i in range(num_items)))
        counts = np.zeros(total, dtype=np.int64)
        counts[first:] = rng.integers(0, 100, size=num_items)
        return cls(ids, num_categories + first, table, counts)


def _rows(path: str) -> list[list[str]]:
    with tf.io.gfile.GFile(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]
