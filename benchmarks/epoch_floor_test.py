"""epoch_floor: an epoch's shape counted from its batches, and its matrix-product work."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import epoch_floor  # noqa: E402


def test_epoch_shape_counts_targets_positions_and_attention_pairs():
    batches = [
        {"item_seq": np.array([[0, 0, 5, 6], [7, 8, 9, 3]])},  # lengths 2 and 4, width 4
        {"item_seq": np.array([[0, 4], [0, 0], [2, 3]])},  # lengths 1, 0, 2, width 2
    ]
    shape = epoch_floor.epoch_shape(batches)
    assert shape == epoch_floor.EpochShape(
        batches=2,
        sequences=5,
        targets=(1 + 3) + (0 + 0 + 1),
        positions=2 * 4 + 3 * 2,
        attention_pairs=2 * 16 + 3 * 4,
    )


def test_epoch_flops_counts_forward_and_backward_products():
    shape = epoch_floor.EpochShape(
        batches=1, sequences=2, targets=5, positions=8, attention_pairs=32
    )
    flops = epoch_floor.epoch_flops(shape, items=10, hidden=4, ffn=6, blocks=2)
    assert flops["objective"] == 3 * 2 * 5 * 10 * 4
    assert flops["projections"] == 3 * 2 * 8 * (8 * 16 + 4 * 4 * 6)
    assert flops["attention"] == 3 * 2 * 32 * 4 * 4
    assert flops["total"] == flops["objective"] + flops["projections"] + flops["attention"]


def test_matmul_rates_are_positive_for_both_products_and_precisions():
    rates = epoch_floor.matmul_rates(rows=512, items=256, hidden=32, repeats=2)
    assert set(rates) == {
        "logits_float32",
        "logits_bfloat16",
        "projection_float32",
        "projection_bfloat16",
    }
    assert all(r > 0 for r in rates.values())
