"""Batch recommendations: histories rebuilt from the examples, top-N from the SavedModel."""

from __future__ import annotations

import apache_beam as beam
import pytest
import tensorflow as tf
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from components.batch_recommend import recommend
from sair_keras import export, features
from sair_keras.catalog import Catalog
from sair_keras.config import ModelConfig
from sair_keras.model import build_model

CATALOG = Catalog.synthetic(30, 4)
ITEM_IDS = list(CATALOG.item_ids)  # index i ≥ 2 ↔ raw id str(i - 2)


def _example(user: str, seq: list[int], target: int | None = None, seen=None) -> bytes:
    feats = {
        features.USER_ID: tf.train.Feature(bytes_list=tf.train.BytesList(value=[user.encode()])),
        features.ITEM_SEQ: tf.train.Feature(int64_list=tf.train.Int64List(value=seq)),
    }
    if target is not None:
        feats[features.TARGET] = tf.train.Feature(int64_list=tf.train.Int64List(value=[target]))
    if seen is not None:
        feats[features.SEEN_ITEMS] = tf.train.Feature(int64_list=tf.train.Int64List(value=seen))
    return tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString()


def _write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path), tf.io.TFRecordOptions(compression_type="GZIP")) as w:
        for r in records:
            w.write(r)


@pytest.fixture
def examples_dir(tmp_path):
    root = tmp_path / "examples"
    # u1 and u2 were held out (train prefix + eval + test); u3 is too short: train only.
    _write(
        root / "Split-train" / "data_tfrecord-00000-of-00001.gz",
        [_example("u1", [2, 3]), _example("u2", [5, 6, 7]), _example("u3", [9, 4])],
    )
    _write(
        root / "Split-test" / "data_tfrecord-00000-of-00001.gz",
        [_example("u1", [2, 3, 10], 11), _example("u2", [5, 6, 7, 8], 12)],
    )
    return str(root)


def test_histories_are_the_test_history_plus_its_target_or_the_training_sequence(examples_dir):
    with TestPipeline() as p:
        histories = p | recommend.ReadUserHistories(examples_dir, ITEM_IDS)
        assert_that(
            histories,
            equal_to(
                [
                    recommend.UserHistory("u1", ("0", "1", "8", "9")),
                    recommend.UserHistory("u2", ("3", "4", "5", "6", "10")),
                    recommend.UserHistory("u3", ("7", "2")),
                ]
            ),
        )


def test_a_history_longer_than_the_window_keeps_its_earlier_items_first(tmp_path):
    # u4's test window is [5, 6, 7]; items 20 and 21 came before it (its seen_items), so
    # they are in the history the model excludes, before the items it reads.
    root = tmp_path / "examples"
    _write(root / "Split-train" / "a.gz", [_example("u4", [20, 21, 5])])
    _write(root / "Split-test" / "a.gz", [_example("u4", [5, 6, 7], 8, [5, 6, 7, 20, 21])])
    expected = recommend.UserHistory("u4", ("18", "19", "3", "4", "5", "6"))
    with TestPipeline() as p:
        assert_that(p | recommend.ReadUserHistories(str(root), ITEM_IDS), equal_to([expected]))
    assert recommend.find_user_history(str(root), "u4", ITEM_IDS) == expected.item_ids


def test_find_user_history_reads_one_user_without_beam(examples_dir):
    assert recommend.find_user_history(examples_dir, "u2", ITEM_IDS) == ("3", "4", "5", "6", "10")
    assert recommend.find_user_history(examples_dir, "u3", ITEM_IDS) == ("7", "2")
    with pytest.raises(KeyError, match="'u9'"):
        recommend.find_user_history(examples_dir, "u9", ITEM_IDS)


def test_recommendations_are_the_saved_models_top_n_without_seen_items(tmp_path):
    model = build_model(CATALOG, ModelConfig(max_len=6, hidden_dim=8, num_interests=4, top_k=2))
    model_dir = str(tmp_path / "model")
    export.export_serving_model(model, CATALOG, model_dir, top_n=5)
    histories = [
        recommend.UserHistory("a", ("0", "1", "8", "9")),
        recommend.UserHistory("b", ("7",)),
        recommend.UserHistory("c", ("3", "4", "5", "6", "10", "11", "12", "13")),
    ]
    direct = tf.saved_model.load(model_dir).signatures["recommend"]
    expected = []
    for h in histories:
        out = direct(history=tf.constant([list(h.item_ids)]))
        expected.append(
            (
                h.user_id,
                tuple(out["item_ids"].numpy()[0].astype(str)),
            )
        )
        assert not set(expected[-1][1]) & set(h.item_ids)

    with TestPipeline() as p:
        recs = p | beam.Create(histories) | recommend.RecommendTopN(model_dir, batch_size=2)
        assert_that(recs | beam.Map(lambda r: (r.user_id, r.item_ids)), equal_to(expected))
        assert_that(
            recs | "Sorted" >> beam.Map(lambda r: list(r.scores) == sorted(r.scores, reverse=True)),
            equal_to([True] * 3),
            label="ScoresBestFirst",
        )


def test_written_csv_and_tfrecords(tmp_path):
    recs = [
        recommend.Recommendation("u,1", ("x", 'say "hi"'), (2.5, 1.25)),
        recommend.Recommendation("u2", ("y", "z"), (0.5, -1.0)),
    ]
    with TestPipeline() as p:
        _ = p | beam.Create(recs) | recommend.WriteRecommendations(str(tmp_path))
    (csv_file,) = (tmp_path / recommend.CSV_DIR).glob("*.csv")
    lines = csv_file.read_text().splitlines()
    assert lines[0] == recommend.CSV_HEADER
    assert sorted(lines[1:]) == sorted(
        ['"u,1",1,x,2.5', '"u,1",2,"say ""hi""",1.25', "u2,1,y,0.5", "u2,2,z,-1.0"]
    )
    (tfr,) = (tmp_path / recommend.TFRECORD_DIR).glob("*.tfrecord.gz")
    parsed = {}
    for raw in tf.data.TFRecordDataset(str(tfr), compression_type="GZIP"):
        ex = tf.train.Example.FromString(raw.numpy())
        f = ex.features.feature
        parsed[f["user_id"].bytes_list.value[0].decode()] = (
            [v.decode() for v in f["item_ids"].bytes_list.value],
            list(f["scores"].float_list.value),
        )
    assert parsed == {"u,1": (["x", 'say "hi"'], [2.5, 1.25]), "u2": (["y", "z"], [0.5, -1.0])}
