"""Item and category vocabularies: raw ids ↔ internal indices, and each item's categories.

Index 0 is padding and 1 is `[UNK]` in both vocabularies; real entries start at 2. Items are
ordered by interaction count (descending), ties by raw id, so the order is deterministic;
items of the item table that no interaction mentions come last, with count 0, when the
catalog includes them (DataConfig.item_catalog).
An item keeps all its categories; an item without one maps to `[UNK]`.

Files (one row per index, so line number == index):
  items.tsv:      index \\t item_id \\t count \\t category indices joined by "|"
  categories.tsv: index \\t category \\t number of items
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from components.sequence_gen import fileio
from sair_keras import features


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    items: tuple[str, ...]  # raw item ids, position i ↔ index i + FIRST_ITEM_INDEX
    item_counts: tuple[int, ...]
    categories: tuple[str, ...]  # position j ↔ category index j + FIRST_ITEM_INDEX
    item_categories: tuple[tuple[int, ...], ...]  # category indices of each item

    @property
    def num_items(self) -> int:
        return len(self.items)

    @property
    def num_categories(self) -> int:
        return len(self.categories)

    def item_index(self) -> dict[str, int]:
        return {item: i + features.FIRST_ITEM_INDEX for i, item in enumerate(self.items)}

    @property
    def items_without_interactions(self) -> int:
        return sum(1 for count in self.item_counts if count == 0)

    @property
    def items_without_category(self) -> int:
        return sum(1 for cats in self.item_categories if cats == (features.UNK_INDEX,))

    @classmethod
    def build(
        cls,
        item_counts: Mapping[str, int],
        item_categories: Mapping[str, Sequence[str]],
        catalog_items: Iterable[str] = (),
    ) -> Vocabulary:
        """Items by count (descending), then raw id; `catalog_items` that no interaction
        mentions join with count 0 (DataConfig.item_catalog "item_table")."""
        item_counts = {**dict.fromkeys(catalog_items, 0), **item_counts}
        items = sorted(item_counts, key=lambda item: (-item_counts[item], item))
        used = sorted({c for item in items for c in item_categories.get(item, ())})
        cat_index = {c: j + features.FIRST_ITEM_INDEX for j, c in enumerate(used)}
        per_item = []
        for item in items:
            cats = tuple(dict.fromkeys(cat_index[c] for c in item_categories.get(item, ())))
            per_item.append(cats or (features.UNK_INDEX,))
        return cls(
            items=tuple(items),
            item_counts=tuple(item_counts[i] for i in items),
            categories=tuple(used),
            item_categories=tuple(per_item),
        )

    def write(self, directory: str) -> None:
        fileio.ensure_dir(directory)
        category_items = Counter(c for cats in self.item_categories for c in cats)
        item_rows = [
            f"{features.PAD_INDEX}\t{features.PAD_TOKEN}\t0\t{features.PAD_INDEX}",
            f"{features.UNK_INDEX}\t{features.UNK_TOKEN}\t0\t{features.UNK_INDEX}",
        ]
        for i, (item, count, cats) in enumerate(
            zip(self.items, self.item_counts, self.item_categories, strict=True)
        ):
            joined = "|".join(str(c) for c in cats)
            item_rows.append(f"{i + features.FIRST_ITEM_INDEX}\t{item}\t{count}\t{joined}")
        cat_rows = [
            f"{features.PAD_INDEX}\t{features.PAD_TOKEN}\t0",
            f"{features.UNK_INDEX}\t{features.UNK_TOKEN}\t"
            f"{category_items.get(features.UNK_INDEX, 0)}",
        ]
        for j, cat in enumerate(self.categories):
            index = j + features.FIRST_ITEM_INDEX
            cat_rows.append(f"{index}\t{cat}\t{category_items.get(index, 0)}")
        fileio.write_text(
            posixpath.join(directory, features.ITEM_VOCAB_FILE), "\n".join(item_rows) + "\n"
        )
        fileio.write_text(
            posixpath.join(directory, features.CATEGORY_VOCAB_FILE), "\n".join(cat_rows) + "\n"
        )

    @classmethod
    def read(cls, directory: str) -> Vocabulary:
        item_rows = _read_rows(posixpath.join(directory, features.ITEM_VOCAB_FILE))
        cat_rows = _read_rows(posixpath.join(directory, features.CATEGORY_VOCAB_FILE))
        real = item_rows[features.FIRST_ITEM_INDEX :]
        return cls(
            items=tuple(r[1] for r in real),
            item_counts=tuple(int(r[2]) for r in real),
            categories=tuple(r[1] for r in cat_rows[features.FIRST_ITEM_INDEX :]),
            item_categories=tuple(tuple(int(c) for c in r[3].split("|")) for r in real),
        )


def _read_rows(path: str) -> list[list[str]]:
    return [line.split("\t") for line in fileio.read_text(path).splitlines()]
