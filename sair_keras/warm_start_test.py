"""Warm start: rows matched by raw id across vocabularies, the rest copied, nothing half-done."""

import numpy as np
import tensorflow as tf

from sair_keras import features, warm_start
from sair_keras.catalog import Catalog
from sair_keras.config import ModelConfig
from sair_keras.model import build_model

RESERVED = ("[PAD]", "[UNK]")


def _catalog(items, categories):
    names = {c: k + features.FIRST_ITEM_INDEX for k, c in enumerate(categories)}
    table = np.zeros((len(items) + 2, 1), np.int64)
    for j, item in enumerate(items):
        table[j + 2, 0] = names[item[0]]  # the item's category: its first letter
    return Catalog(
        item_ids=RESERVED + tuple(items),
        num_categories=len(categories) + 2,
        item_categories=table,
        category_names=RESERVED + tuple(categories),
    )


def _config(**kw):
    return ModelConfig(**{"max_len": 12, "hidden_dim": 8, "num_interests": 4, "top_k": 2, **kw})


def _weights(model):
    """{short name: value}, names made unique by their position in the model's order."""
    return {f"{k}:{w.name.split('/')[-1]}": w.numpy() for k, w in enumerate(model.weights)}


def test_a_model_on_a_new_vocabulary_starts_from_the_old_weights_by_raw_id(tmp_path):
    old_catalog = _catalog(["a1", "a2", "b1", "b2", "c1"], ["a", "b", "c"])
    tf.keras.utils.set_random_seed(1)
    old = build_model(old_catalog, _config())
    warm_start.save(old, old_catalog, _config(), str(tmp_path))
    assert warm_start.available(str(tmp_path)) and not warm_start.available(str(tmp_path / "x"))

    # Reordered (counts changed), "b2" gone, "d1" and "a3" new, a category added, max_len 8.
    new_catalog = _catalog(["c1", "a3", "a1", "d1", "b1", "a2"], ["c", "d", "a", "b"])
    tf.keras.utils.set_random_seed(2)
    new = build_model(new_catalog, _config(max_len=8))
    fresh = _weights(new)
    started = warm_start.restore(new, new_catalog, _config(max_len=8), str(tmp_path))
    assert (started.items_kept, started.items_new, started.items_dropped) == (4, 2, 1)
    assert "4 items kept, 2 new, 1 dropped" in started.describe()

    old_w, new_w = _weights(old), _weights(new)
    items = next(k for k in new_w if "item_embedding" in k)
    for j, item in enumerate(new_catalog.item_ids):
        if item in old_catalog.item_ids:
            i = old_catalog.item_ids.index(item)
            np.testing.assert_array_equal(new_w[items][j], old_w[items][i])
        else:
            np.testing.assert_array_equal(new_w[items][j], fresh[items][j])
    cats = next(k for k in new_w if "category_embedding" in k)
    np.testing.assert_array_equal(
        new_w[cats][new_catalog.category_names.index("a")],
        old_w[cats][old_catalog.category_names.index("a")],
    )
    np.testing.assert_array_equal(
        new_w[cats][new_catalog.category_names.index("d")],
        fresh[cats][new_catalog.category_names.index("d")],
    )
    positions = next(k for k in new_w if "position_embedding" in k)
    np.testing.assert_array_equal(new_w[positions], old_w[positions][-8:])  # latest aligned
    # Every other weight is the old model's, in order.
    for old_var, new_var in zip(old.weights, new.weights, strict=True):
        name = new_var.name
        if not any(s in name for s in ("embedding:", "item_categories:")):
            np.testing.assert_array_equal(new_var.numpy(), old_var.numpy(), err_msg=name)
    table = next(w for w in new.weights if "item_categories" in w.name).numpy()
    np.testing.assert_array_equal(table, new_catalog.item_categories)  # from the new catalog


def test_a_model_of_another_architecture_is_not_used_and_nothing_changes(tmp_path):
    catalog = _catalog(["a1", "b1"], ["a", "b"])
    warm_start.save(build_model(catalog, _config()), catalog, _config(), str(tmp_path))
    other = build_model(catalog, _config(hidden_dim=16))
    before = _weights(other)
    assert warm_start.restore(other, catalog, _config(hidden_dim=16), str(tmp_path)) is None
    after = _weights(other)
    assert all(np.array_equal(before[k], after[k]) for k in before)
