"""The serving SavedModel, loaded in a fresh process, answers in raw item ids."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import tensorflow as tf

from sair_keras import export, features, ranking
from sair_keras.catalog import Catalog
from sair_keras.config import ModelConfig
from sair_keras.model import build_model


def test_compact_left():
    x = tf.constant([[0, 5, 0, 6], [7, 8, 9, 10]], tf.int64)
    assert export.compact_left(x, 3).numpy().tolist() == [[0, 5, 6], [8, 9, 10]]
    assert export.compact_left(x, 6).numpy().tolist() == [[0, 0, 0, 0, 5, 6], [0, 0, 7, 8, 9, 10]]


FRESH = textwrap.dedent("""
    import json, os, sys
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf
    m = tf.saved_model.load(sys.argv[1])
    out = {"signatures": sorted(m.signatures)}
    hist = tf.constant([["3", "7", "11", "", ""], ["20", "nope", "4", "9", "1"]])
    rec = m.signatures["recommend"](history=hist)
    out["ids"] = rec["item_ids"].numpy().astype(str).tolist()
    out["scores"] = rec["scores"].numpy().tolist()
    clean = tf.constant([["3", "7", "11"], ["20", "4", "9"]])
    out["clean_ids"] = m.signatures["recommend"](history=tf.constant(
        [["3", "7", "11", ""], ["20", "4", "9", "1"]]))["item_ids"].numpy().astype(str).tolist()
    out["rescored"] = m.signatures["score"](history=hist, candidates=rec["item_ids"])[
        "scores"].numpy().tolist()
    ex = [tf.train.Example(features=tf.train.Features(feature={"history": tf.train.Feature(
        bytes_list=tf.train.BytesList(value=[s.encode() for s in row]))})).SerializeToString()
        for row in (["3", "7", "11"], ["20", "nope", "4", "9", "1"])]
    out["example_ids"] = m.signatures["serving_default"](examples=tf.constant(ex))[
        "item_ids"].numpy().astype(str).tolist()
    print(json.dumps(out))
""")


def test_exported_model_in_a_fresh_process(tmp_path):
    catalog = Catalog.synthetic(30, 4)
    model = build_model(catalog, ModelConfig(max_len=6, hidden_dim=8, num_interests=4, top_k=2))
    export.export_serving_model(model, catalog, str(tmp_path / "serving"), top_n=5)
    proc = subprocess.run(
        [sys.executable, "-c", FRESH, str(tmp_path / "serving")],
        check=True,
        capture_output=True,
        text=True,
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["signatures"] == [
        "candidate_scores",
        "interests",
        "ranks",
        "recommend",
        "score",
        "serving_default",
    ]
    history = [{"3", "7", "11"}, {"20", "4", "9", "1"}]
    for row, ids in enumerate(out["ids"]):
        assert len(ids) == 5
        assert not set(ids) & history[row]  # seen items are never recommended
        assert not set(ids) & {"[PAD]", "[UNK]"}
        assert out["scores"][row] == sorted(out["scores"][row], reverse=True)
    assert out["ids"] == out["clean_ids"]  # the unknown id "nope" and "" are ignored
    np.testing.assert_allclose(out["rescored"], out["scores"], rtol=1e-5)
    assert out["example_ids"] == out["ids"]


def _eval_example(item_seq, target, negatives, seen_items) -> bytes:
    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

    feature = {
        features.ITEM_SEQ: ints(item_seq),
        features.TARGET: ints([target]),
        features.NEGATIVES: ints(negatives),
        features.SEEN_ITEMS: ints(seen_items),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_ranks_signature_gives_the_models_and_popularitys_ranks(tmp_path):
    catalog = Catalog.synthetic(30, 4)
    model = build_model(catalog, ModelConfig(max_len=4, hidden_dim=8, num_interests=4, top_k=2))
    export.export_serving_model(model, catalog, str(tmp_path / "serving"))
    examples = [
        # a history longer than max_len: item 9 lies before the 4-item window
        _eval_example([3, 4, 5, 6], 7, [10, 11, 12], [3, 4, 5, 6, 9]),
        _eval_example([8], 2, [], [8]),  # a user without negatives
    ]
    served = tf.saved_model.load(str(tmp_path / "serving")).signatures[export.EVAL_SIGNATURE]
    ranks = served(examples=tf.constant(examples))[export.EVAL_SIGNATURE].numpy()
    assert ranks.shape == (2, 4)
    batch = {
        features.ITEM_SEQ: tf.constant([[3, 4, 5, 6], [0, 0, 0, 8]], tf.int64),
        features.TARGET: tf.constant([[7], [2]], tf.int64),
        features.NEGATIVES: tf.constant([[10, 11, 12], [0, 0, 0]], tf.int64),
        features.SEEN_ITEMS: tf.constant([[3, 4, 5, 6, 9], [8, 0, 0, 0, 0]], tf.int64),
    }
    np.testing.assert_array_equal(ranks[:, :2], model.eval_ranks(batch).numpy())
    assert ranks[1, ranking.SAMPLED] == ranking.NOT_RANKED
    # Popularity: items ranked by their training counts, ties against the target.
    counts = catalog.train_counts.astype(float)
    expected = ranking.ranks(
        tf.constant(np.tile(counts, (2, 1))),
        batch[features.TARGET],
        batch[features.NEGATIVES],
        batch[features.SEEN_ITEMS],
    ).numpy()
    np.testing.assert_array_equal(ranks[:, 2:], expected)
    unseen = [i for i in range(2, catalog.num_items) if i not in (3, 4, 5, 6, 9, 7)]
    assert ranks[0, ranking.POPULARITY_CATALOG] == sum(counts[i] >= counts[7] for i in unseen)


def _eval_example_by_id(catalog, item_seq, target, negatives, seen_items) -> bytes:
    """The example `_eval_example` writes, with the raw-id features the ingestion adds."""

    def ids(indices):
        return tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[catalog.item_ids[i].encode() for i in indices])
        )

    example = tf.train.Example.FromString(_eval_example(item_seq, target, negatives, seen_items))
    feature = example.features.feature
    feature[features.ITEM_SEQ_IDS].CopyFrom(ids(item_seq))
    feature[features.TARGET_ID].CopyFrom(ids([target]))
    feature[features.NEGATIVE_IDS].CopyFrom(ids(negatives))
    feature[features.SEEN_ITEM_IDS].CopyFrom(ids(seen_items))
    return example.SerializeToString()


def test_ranks_read_raw_ids_so_a_model_of_another_vocabulary_ranks_the_same_items(tmp_path):
    # The examples of a newer vocabulary: items renumbered, one new item ("new").
    catalog = Catalog.synthetic(30, 4)
    model = build_model(catalog, ModelConfig(max_len=4, hidden_dim=8, num_interests=4, top_k=2))
    export.export_serving_model(model, catalog, str(tmp_path / "serving"))
    served = tf.saved_model.load(str(tmp_path / "serving")).signatures[export.EVAL_SIGNATURE]
    reordered = (*catalog.item_ids[:2], "new", *reversed(catalog.item_ids[2:]))
    newer = Catalog(reordered, catalog.num_categories, catalog.item_categories)

    def index(i):  # an index of `catalog` → the same item's index in `newer`
        return newer.item_ids.index(catalog.item_ids[i])

    cases = [([3, 4, 5, 6], 7, [10, 11, 12], [3, 4, 5, 6, 9]), ([8], 2, [], [8])]
    by_index = [_eval_example(*case) for case in cases]
    by_id = [
        _eval_example_by_id(
            newer, [index(i) for i in s], index(t), [index(i) for i in n], [index(i) for i in x]
        )
        for s, t, n, x in cases
    ]
    expected = served(examples=tf.constant(by_index))[export.EVAL_SIGNATURE].numpy()
    ranks = served(examples=tf.constant(by_id))[export.EVAL_SIGNATURE].numpy()
    np.testing.assert_array_equal(ranks, expected)
    # A target the model never saw is a miss in every ranked column; an unknown negative
    # does not compete.
    new = newer.item_ids.index("new")
    unknown = _eval_example_by_id(newer, [index(3)], new, [index(10), new], [index(3)])
    ranks = served(examples=tf.constant([unknown]))[export.EVAL_SIGNATURE].numpy()
    np.testing.assert_array_equal(ranks[0], [ranking.LAST] * 4)
    known = _eval_example_by_id(newer, [index(3)], index(7), [index(10), new], [index(3)])
    alone = _eval_example_by_id(newer, [index(3)], index(7), [index(10)], [index(3)])
    ranks = served(examples=tf.constant([known, alone]))[export.EVAL_SIGNATURE].numpy()
    np.testing.assert_array_equal(ranks[0], ranks[1])


def test_recommend_falls_back_to_popularity_and_leaves_slots_beyond_the_unseen_items_empty(
    tmp_path,
):
    catalog = Catalog.synthetic(12, 3)
    model = build_model(catalog, ModelConfig(max_len=4, hidden_dim=8, num_interests=4, top_k=2))
    export.export_serving_model(model, catalog, str(tmp_path / "serving"), top_n=5)
    recommend = tf.saved_model.load(str(tmp_path / "serving")).signatures["recommend"]
    ids = list(catalog.item_ids[features.FIRST_ITEM_INDEX :])
    # An empty history and one of unknown ids: the training split's most popular items.
    out = recommend(history=tf.constant([["", ""], ["nope", "gone"]]))
    counts = catalog.train_counts[features.FIRST_ITEM_INDEX :]
    popular = [ids[i] for i in np.argsort(-counts, kind="stable")[:5]]
    for row in range(2):
        assert out["fallback"].numpy()[row]
        assert sorted(out["item_ids"].numpy()[row].astype(str)) == sorted(popular)
    # A history covering all but 3 items: those 3, then "" with score -inf.
    rest = ids[:3]
    out = recommend(history=tf.constant([ids[3:]]))
    got = out["item_ids"].numpy()[0].astype(str).tolist()
    assert not out["fallback"].numpy()[0]
    assert sorted(got[:3]) == sorted(rest) and got[3:] == ["", ""]
    assert (
        np.isinf(out["scores"].numpy()[0, 3:]).all()
        and np.isfinite(out["scores"].numpy()[0, :3]).all()
    )


def test_recommend_without_exclude_seen_may_return_the_history():
    from sair_keras.export import ServingModule

    catalog = Catalog.synthetic(12, 2)
    model = build_model(catalog, ModelConfig(variant="sasrec", max_len=6, hidden_dim=8))
    history = tf.constant([["0", "1", "2", "3", "4", "5", "6", "7", "8"]])
    indices = export.compact_left(ServingModule(model, catalog)._indices(history), 6)
    best = tf.math.top_k(model.catalog_scores(indices)[:, 2:], k=3).indices.numpy()[0] + 2
    repeating = build_model(
        catalog, ModelConfig(variant="sasrec", max_len=6, hidden_dim=8, exclude_seen=False)
    )
    repeating.set_weights(model.get_weights())
    out = ServingModule(repeating, catalog, top_n=3)._recommend(history)
    assert list(out["item_ids"].numpy()[0].astype(str)) == [catalog.item_ids[i] for i in best]
    seen = ServingModule(model, catalog, top_n=3)._recommend(history)["item_ids"].numpy()[0]
    assert not set(seen.astype(str)) & set(history.numpy()[0].astype(str))
