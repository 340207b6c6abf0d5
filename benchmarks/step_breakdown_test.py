"""step_breakdown: the timed parts of a training step, on a small synthetic catalog."""

import sys
from pathlib import Path

import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parent))

import step_breakdown  # noqa: E402

from sair_keras import features  # noqa: E402
from sair_keras.catalog import Catalog  # noqa: E402
from sair_keras.config import ModelConfig  # noqa: E402
from sair_keras.model import build_model  # noqa: E402


def test_a_breakdown_times_the_network_the_step_and_the_objective():
    catalog = Catalog.synthetic(50, 4, seed=0)
    model = build_model(catalog, ModelConfig(max_len=8, hidden_dim=8, num_interests=4, top_k=2))
    seq = tf.constant([[0, 0, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16]], tf.int64)
    result = step_breakdown.breakdown(model, [{features.ITEM_SEQ: seq}], repeats=1)
    assert result["training_loss"] == "softmax" and result["items"] == 14
    assert 0 < result["model_seconds"] and 0 < result["step_seconds"]
    assert result["objective_share"] < 1
    assert set(result["objective_seconds"]) == {"float32", "bfloat16"}
    assert all(s > 0 for s in result["objective_seconds"].values())
