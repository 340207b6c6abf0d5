"""step_breakdown: the timed parts of a training step, on a small synthetic catalog."""

import sys
from pathlib import Path

import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parent))

import step_breakdown  # noqa: E402

from sair_keras import features  # noqa: E402
from sair_keras.catalog import Catalog  # noqa: E402
from sair_keras.config import ModelConfig, TrainConfig  # noqa: E402
from sair_keras.model import build_model  # noqa: E402
from sair_keras.train import compile_model  # noqa: E402


def test_kernels_are_counted_by_part_of_the_step():
    kernels = [
        ("sair_model/encoder/block_0/attention/MatMul", "_MklBatchMatMulV2", 2.0),
        ("gradient_tape/sair_model/encoder/block_1/ffn/MatMul", "_MklMatMul", 1.0),
        ("sair_model/interest_aggregation/mul", "Mul", 1.0),
        ("gradient_tape/sair_model/top_k_interest/TopKV2", "TopKV2", 0.5),
        ("sair_model/embedding/GatherV2", "GatherV2", 0.5),
        ("gradient_tape/MatMul/MatMul", "_MklMatMul", 4.0),
        ("ReduceLogSumExp/Exp", "Exp", 0.5),
        ("Adam/update_3/ResourceApplyAdam", "ResourceApplyAdam", 0.5),
    ]
    summary = step_breakdown.summarize_kernels(kernels, "sair_model")
    assert summary["thread_seconds"] == 10.0
    parts = summary["by_part"]
    assert {k: v["seconds"] for k, v in parts.items()} == {
        "objective": 4.5,
        "encoder": 3.0,
        "interest_head": 1.5,
        "embedding": 0.5,
        "optimizer": 0.5,
    }
    assert list(parts) == ["objective", "encoder", "interest_head", "embedding", "optimizer"]
    assert parts["objective"]["share"] == 0.45
    assert summary["by_kernel"]["_MklMatMul"]["seconds"] == 5.0


def test_a_breakdown_times_the_forward_pass_the_step_and_the_objective():
    catalog = Catalog.synthetic(50, 4, seed=0)
    model = build_model(catalog, ModelConfig(max_len=8, hidden_dim=8, num_interests=4, top_k=2))
    compile_model(model, TrainConfig())
    seq = tf.constant([[0, 0, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16]], tf.int64)
    before = model.embedding.item_embedding.numpy().copy()
    result = step_breakdown.breakdown(model, [{features.ITEM_SEQ: seq}], repeats=1)
    assert result["training_loss"] == "softmax" and result["items"] == 14
    assert 0 < result["forward_seconds"] and 0 < result["step_seconds"]
    # The timed step is the training step: it updated the item table.
    assert not (model.embedding.item_embedding.numpy() == before).all()
    profile = result["profile"]
    assert profile["thread_seconds"] > 0
    assert {"objective", "encoder", "optimizer"} <= set(profile["by_part"])
    assert "Process" not in profile["by_kernel"]  # the executor's own events are not kernels
    assert set(result["objective_seconds"]) == {"float32", "bfloat16"}
    assert all(s > 0 for s in result["objective_seconds"].values())
