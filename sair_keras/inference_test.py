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
