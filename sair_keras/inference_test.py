import numpy as np
import tensorflow as tf

from sair_keras import inference
from sair_keras.catalog import Catalog
from sair_keras.config import ModelConfig
from sair_keras.model import build_model


def test_top_n_matches_a_masked_argsort_and_skips_seen_items():
    model = build_model(
        Catalog.synthetic(30, 4), ModelConfig(max_len=8, hidden_dim=8, num_interests=4, top_k=2)
    )
    seq = tf.constant([[0, 0, 0, 4, 9, 2, 17, 30], [3, 4, 5, 6, 7, 8, 9, 10]], tf.int64)
    scores, items = inference.top_n(model, seq, 5)
    full = model.catalog_scores(seq).numpy()
    for row in range(2):
        masked = full[row].copy()
        masked[:2] = -np.inf  # padding and [UNK]
        masked[seq.numpy()[row]] = -np.inf
        expected = np.argsort(-masked, kind="stable")[:5]
        assert items.numpy()[row].tolist() == expected.tolist()
        np.testing.assert_allclose(scores.numpy()[row], masked[expected], rtol=1e-5)
        assert not set(items.numpy()[row]) & set(seq.numpy()[row])


def test_seen_mask_marks_the_history_and_the_reserved_rows():
    mask = inference.seen_mask(tf.constant([[0, 3, 3], [4, 0, 0]], tf.int64), 6).numpy()
    assert mask.tolist() == [
        [True, True, False, True, False, False],
        [True, True, False, False, True, False],
    ]


def test_a_history_longer_than_the_window_is_excluded_whole():
    model = build_model(
        Catalog.synthetic(30, 4), ModelConfig(max_len=4, hidden_dim=8, num_interests=4, top_k=2)
    )
    history = tf.constant([list(range(2, 27))], tf.int64)  # 25 items, the window holds 4
    _, items = inference.top_n(model, history[:, -4:], 5, exclude=history)
    assert set(items.numpy()[0]) == {27, 28, 29, 30, 31}  # the only items never seen
    _, window_only = inference.top_n(model, history[:, -4:], 5)
    assert set(window_only.numpy()[0]) & set(range(2, 23))  # without: older items come back
