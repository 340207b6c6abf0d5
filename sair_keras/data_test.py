import numpy as np
import pytest
import tensorflow as tf

from sair_keras import data, features


def _write(path, examples):
    with tf.io.TFRecordWriter(str(path), options="GZIP") as w:
        for ex in examples:
            f = {
                features.USER_ID: tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[ex["user"].encode()])
                ),
                features.ITEM_SEQ: tf.train.Feature(int64_list=tf.train.Int64List(value=ex["seq"])),
            }
            if "target" in ex:
                f[features.TARGET] = tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[ex["target"]])
                )
                f[features.NEGATIVES] = tf.train.Feature(
                    int64_list=tf.train.Int64List(value=ex["negatives"])
                )
                f[features.SEEN_ITEMS] = tf.train.Feature(
                    int64_list=tf.train.Int64List(value=ex.get("seen", []))
                )
            w.write(tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString())


def test_left_pad_and_cut():
    assert data.left_pad(tf.constant([5, 6], tf.int64), 4).numpy().tolist() == [0, 0, 5, 6]
    assert data.left_pad(tf.constant([1, 2, 3, 4, 5], tf.int64), 3).numpy().tolist() == [3, 4, 5]


def test_eval_dataset_pads_and_keeps_candidates(tmp_path):
    _write(
        tmp_path / "a.gz",
        [
            {"user": "u", "seq": [2, 3], "target": 4, "negatives": [5, 6, 7], "seen": [2, 3]},
            {
                "user": "v",
                "seq": [2, 3, 4, 5, 6],
                "target": 7,
                "negatives": [8, 9, 10],
                "seen": [2, 3, 4, 5, 6, 11],
            },
            {"user": "w", "seq": [3], "target": 2, "negatives": [], "seen": [3]},
        ],
    )
    batch = next(iter(data.eval_dataset(str(tmp_path / "*.gz"), 8, 4, length_pool=1)))
    assert batch[features.ITEM_SEQ].numpy().tolist() == [[0, 0, 2, 3], [3, 4, 5, 6], [0, 0, 0, 3]]
    assert batch[features.TARGET].numpy().tolist() == [[4], [7], [2]]
    # Variable lengths are 0-padded: a user without negatives has a row of padding, and
    # the seen items are the whole history, not the max_len window.
    assert batch[features.NEGATIVES].numpy().tolist() == [[5, 6, 7], [8, 9, 10], [0, 0, 0]]
    assert batch[features.SEEN_ITEMS].numpy().tolist() == [
        [2, 3, 0, 0, 0, 0],
        [2, 3, 4, 5, 6, 11],
        [3, 0, 0, 0, 0, 0],
    ]


def test_train_dataset_streams_every_sequence(tmp_path):
    _write(tmp_path / "a.gz", [{"user": f"u{i}", "seq": [2] * (i + 1)} for i in range(10)])
    seen = []
    for batch in data.train_dataset(str(tmp_path / "*.gz"), 4, 6, seed=1):
        assert batch[features.ITEM_SEQ].shape[1] == 6
        seen += [u.decode() for u in batch[features.USER_ID].numpy()]
    assert sorted(seen) == sorted(f"u{i}" for i in range(10))
    assert np.all(batch[features.ITEM_SEQ].numpy()[:, -1] == 2)


def test_train_batches_group_similar_lengths_and_drop_all_padding_columns(tmp_path):
    lengths = {f"u{i}": 1 + (7 * i) % 30 for i in range(40)}  # 1 to 30 items
    _write(
        tmp_path / "a.gz", [{"user": u, "seq": list(range(2, 2 + n))} for u, n in lengths.items()]
    )
    seen, widths = [], []
    for batch in data.train_dataset(str(tmp_path / "*.gz"), 4, 24, seed=3, length_pool=5):
        seq = batch[features.ITEM_SEQ].numpy()
        users = [u.decode() for u in batch[features.USER_ID].numpy()]
        real = [min(lengths[u], 24) for u in users]
        assert (seq != 0).sum(axis=1).tolist() == real  # no real item dropped
        assert seq.shape[1] == min(24, -(-max(real) // 8) * 8)  # a multiple of 8, at most N
        assert np.all(seq[:, -1] == [1 + n for n in [lengths[u] for u in users]])  # last item
        seen += users
        widths.append(seq.shape[1])
    assert sorted(seen) == sorted(lengths)
    assert min(widths) < 24  # short histories shared a narrower batch
    plain = data.train_dataset(str(tmp_path / "*.gz"), 4, 24, seed=3, length_pool=1)
    assert sorted(u.decode() for b in plain for u in b[features.USER_ID].numpy()) == sorted(lengths)
    with pytest.raises(ValueError, match="length_pool must be >= 1"):
        data.train_dataset(str(tmp_path / "*.gz"), 4, 24, length_pool=0)


def test_length_sorted_training_batches_hold_about_equal_real_items(tmp_path):
    lengths = [1 + (13 * i) % 60 for i in range(96)]
    _write(tmp_path / "a.gz", [{"user": f"u{i}", "seq": [2] * n} for i, n in enumerate(lengths)])
    batches = list(data.train_dataset(str(tmp_path / "*.gz"), 8, 64, seed=0, length_pool=12))
    sizes = [int(b[features.ITEM_SEQ].shape[0]) for b in batches]
    items = [int((b[features.ITEM_SEQ].numpy() != 0).sum()) for b in batches]
    assert sum(sizes) == 96 and len(batches) == 12  # 8 histories a batch on average
    assert max(sizes) > 2 * min(sizes)  # more short histories in a batch, fewer long ones
    assert max(items) - min(items) <= 60  # at most one history's worth apart


def test_eval_batches_by_length_keep_each_users_candidates(tmp_path):
    examples = [
        {
            "user": f"u{i}",
            "seq": list(range(2, 3 + (5 * i) % 17)),
            "target": 100 + i,
            "negatives": [200 + i] * (i % 3),
            "seen": list(range(2, 3 + (5 * i) % 17)) + [300 + i] * (i % 4),
        }
        for i in range(30)
    ]
    by_user = {ex["user"]: ex for ex in examples}
    _write(tmp_path / "a.gz", examples)
    users = []
    for batch in data.eval_dataset(str(tmp_path / "*.gz"), 4, 12, length_pool=3):
        seq = batch[features.ITEM_SEQ].numpy()
        assert seq.shape[1] in (8, 12)
        for row, user in enumerate(u.decode() for u in batch[features.USER_ID].numpy()):
            ex = by_user[user]
            assert seq[row][seq[row] != 0].tolist() == ex["seq"][-12:]
            assert batch[features.TARGET].numpy()[row].tolist() == [ex["target"]]
            negatives = batch[features.NEGATIVES].numpy()[row]
            assert negatives[negatives != 0].tolist() == ex["negatives"]
            seen = batch[features.SEEN_ITEMS].numpy()[row]
            assert seen[seen != 0].tolist() == ex["seen"]
            users.append(user)
    assert sorted(users) == sorted(by_user)


def test_eval_batches_when_no_user_has_negatives(tmp_path):
    """A catalog too small for the sampled negatives: a zero-width feature in every batch."""
    _write(
        tmp_path / "a.gz",
        [{"user": f"u{i}", "seq": [2] * (1 + i), "target": 3, "negatives": []} for i in range(5)],
    )
    batches = list(data.eval_dataset(str(tmp_path / "*.gz"), 2, 4, length_pool=2))
    assert [b[features.NEGATIVES].shape[1] for b in batches] == [0, 0, 0]
    assert sum(int(b[features.ITEM_SEQ].shape[0]) for b in batches) == 5


def test_missing_files_are_named():
    with pytest.raises(FileNotFoundError, match="no TFRecord files match /nope"):
        data.eval_dataset("/nope/*.gz", 2, 3)


def test_history_buckets():
    from sair_keras.features import history_bucket

    got = [history_bucket(n) for n in (1, 9, 10, 49, 50, 149, 150, 700)]
    assert got == ["<10", "<10", "10-49", "10-49", "50-149", "50-149", ">=150", ">=150"]
