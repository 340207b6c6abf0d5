"""How fast could an ML-1M training epoch be on this machine? Its floating-point work
against the best rate the machine's matrix products reach.

  python benchmarks/epoch_floor.py [--hidden-dims 128 64]

Ingests `../shared/data/ml-1m` (never copied) and reads one epoch of training batches as
training forms them (histories grouped by length, all-padding columns dropped), at the
product's default configuration (`hidden_dim` from `--hidden-dims`, the first being the
default's). It counts the matrix-product work of a training step over that epoch,
forward and backward (three products for each forward one):

  objective    targets · I · D · 2 · 3      (catalog logits at the real positions)
  projections  blocks · Σ_batches B·n · (8·D² + 4·D·F) · 3   (Q/K/V, output, FFN)
  attention    blocks · Σ_batches B·n² · 4·D · 3            (QKᵀ and the weighted sum)

with `I` the catalog, `F` the FFN width, `n` a batch's width. Element-wise work, the
interest head (`sair`) and the optimizer are left out, so the floor is below any real
epoch. The rate is the best of five runs of each product at the step's shapes, float32 and
bfloat16 (AVX512-BF16 through oneDNN). Writes `benchmarks/results/epoch_floor.json`.
"""

from __future__ import annotations

import sair_keras  # noqa: E402, F401  (Keras 2: before TensorFlow is imported)
from pipeline import console  # noqa: E402

# Before the libraries that warn on import: their noise is not for the console.
console.quiet_environment(verbose=False)

import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from speed_common import (  # noqa: E402
    describe_defaults,
    environment,
    ingested_ml1m,
    ml1m_parser,
    write_results,
)


@dataclass(frozen=True)
class EpochShape:
    """What one epoch of training batches holds: histories, real targets, the positions
    the encoder computes (`Σ B·n`) and the attention pairs (`Σ B·n²`)."""

    batches: int
    sequences: int
    targets: int
    positions: int
    attention_pairs: int


def epoch_shape(batches) -> EpochShape:
    """Counts an epoch of `{item_seq [B, n]}` batches (left-padded with 0): a row of
    length ℓ has ℓ − 1 targets (each item after the first, predicted from those before)."""
    import numpy as np

    count = sequences = targets = positions = pairs = 0
    for batch in batches:
        seq = np.asarray(batch["item_seq"])
        b, n = seq.shape
        lengths = (seq != 0).sum(axis=1)
        count += 1
        sequences += b
        targets += int(np.maximum(lengths - 1, 0).sum())
        positions += b * n
        pairs += b * n * n
    return EpochShape(count, sequences, targets, positions, pairs)


def epoch_flops(shape: EpochShape, items: int, hidden: int, ffn: int, blocks: int) -> dict:
    """Floating-point operations of one training epoch's matrix products, by part."""
    forward = {
        "objective": 2 * shape.targets * items * hidden,
        "projections": blocks * shape.positions * (8 * hidden**2 + 4 * hidden * ffn),
        "attention": blocks * shape.attention_pairs * 4 * hidden,
    }
    flops = {part: 3 * f for part, f in forward.items()}  # forward, and two for backward
    return {**flops, "total": sum(flops.values())}


def matmul_rates(rows: int, items: int, hidden: int, repeats: int = 5) -> dict:
    """GFLOP/s, the best of `repeats`, of the step's two kinds of product: the catalog
    logits `[rows, D] × [D, I]` and the Q/K/V projection `[rows, D] × [D, 3D]`."""
    import tensorflow as tf

    g = tf.random.Generator.from_seed(0)
    shapes = {"logits": (rows, hidden, items), "projection": (rows, hidden, 3 * hidden)}
    rates = {}
    for name, (m, k, n) in shapes.items():
        for dtype in (tf.float32, tf.bfloat16):
            a = tf.cast(g.normal([m, k]) * 0.1, dtype)
            b = tf.cast(g.normal([k, n]) * 0.1, dtype)
            product = tf.function(lambda a=a, b=b: tf.reduce_sum(tf.cast(a @ b, tf.float32)))
            product()  # trace
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                product().numpy()
                best = min(best, time.perf_counter() - start)
            rates[f"{name}_{dtype.name}"] = round(2 * m * k * n / best / 1e9, 1)
    return rates


def measure(outputs, hidden_dims: list[int]) -> dict:
    from sair_keras import data, features
    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig, TrainConfig

    default = ModelConfig()
    # The logits' columns: the table's rows from the first item (padding and [UNK] are not)
    items = Catalog.load(outputs.vocabulary_dir).num_items - features.FIRST_ITEM_INDEX
    batches = data.train_dataset(
        data.split_pattern(outputs.examples_dir, "train"), TrainConfig().batch_size, default.max_len
    )
    shape = epoch_shape(batches)
    rows = shape.targets // shape.batches  # a batch's real positions
    out = {"epoch": vars(shape), "catalog_items": items, "by_hidden_dim": {}}
    for hidden in hidden_dims:
        rates = matmul_rates(rows, items, hidden)
        flops = epoch_flops(shape, items, hidden, hidden, default.num_blocks)
        best = max(rates.values())
        out["by_hidden_dim"][str(hidden)] = {
            "teraflops_per_epoch": {k: round(v / 1e12, 3) for k, v in flops.items()},
            "gflops_per_second": rates,
            "floor_seconds_per_epoch": round(flops["total"] / (best * 1e9), 2),
        }
        print(f"D={hidden}: {out['by_hidden_dim'][str(hidden)]}", flush=True)
    return out


def main() -> int:
    p = ml1m_parser(__doc__, "epoch_floor.json", variants=False)
    p.add_argument("--hidden-dims", type=int, nargs="+", default=None)
    args = p.parse_args()
    from sair_keras.config import ModelConfig

    hidden_dims = args.hidden_dims or [ModelConfig().hidden_dim, 64]
    with ingested_ml1m(args.shared_data) as outputs:
        results = measure(outputs, hidden_dims)
    results["environment"] = environment(
        f"ML-1M, the default configuration ({describe_defaults()}), one epoch's batches; "
        "matrix products at the step's shapes",
        tf_threads="TensorFlow's default",
    )
    write_results(args.results, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
