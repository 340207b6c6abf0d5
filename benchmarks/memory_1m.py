"""Memory of training on a catalog of 1,000,000 items.

  python benchmarks/memory_1m.py [--items 1000000] [--steps 5]

Builds the product's default model (`training_loss="auto"`, which picks the sampled softmax
above 50,000 items) for a synthetic catalog of `--items` items and runs `--steps` training
steps on batches of `batch_size` histories of `max_len` items (the longest a batch gets),
then reports the process's peak resident memory, the objective and the seconds per step
(after the first, which traces). The full softmax at that size would need a
`[positions, items]` logit matrix of about 25,600 × 1,000,000 floats (100 GB) per step.
Writes `benchmarks/results/memory_1m.json`.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import sair_keras  # noqa: F401  (Keras 2: before TensorFlow is imported)
from pipeline import console  # noqa: E402

# Before the libraries that warn on import: their noise is not for the console.
console.quiet_environment(verbose=False)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from speed_common import environment, write_results  # noqa: E402

BUDGET_MB = 8192


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--results", default=str(ROOT / "benchmarks" / "results" / "memory_1m.json"))
    args = p.parse_args()

    import numpy as np
    import tensorflow as tf

    from sair_keras import features
    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig, TrainConfig
    from sair_keras.model import build_model
    from sair_keras.train import compile_model

    before = peak_rss_mb()
    catalog = Catalog.synthetic(args.items, 20)
    model_config, train_config = ModelConfig(), TrainConfig()
    model = build_model(catalog, model_config)
    compile_model(model, train_config)
    rng = np.random.default_rng(0)
    shape = (train_config.batch_size, model_config.max_len)
    step = tf.function(model.train_step)
    seconds = []
    for _ in range(args.steps):
        batch = rng.integers(features.FIRST_ITEM_INDEX, catalog.num_items, size=shape)
        start = time.perf_counter()
        logs = step({features.ITEM_SEQ: tf.constant(batch)})
        seconds.append(time.perf_counter() - start)
    peak = peak_rss_mb()
    result = {
        "items": args.items,
        "objective": model.model_config.training_loss,
        "num_negatives": model.model_config.num_negatives,
        "batch": list(shape),
        "parameters": int(model.count_params()),
        "peak_rss_mb": round(peak, 1),
        "peak_rss_before_model_mb": round(before, 1),
        "within_8_gb": peak < BUDGET_MB,
        "seconds_per_step": round(float(np.median(seconds[1:] or seconds)), 3),
        "first_step_seconds": round(seconds[0], 3),
        "final_loss": round(float(logs["loss"]), 4),
        "environment": environment(
            "the default ModelConfig/TrainConfig on a synthetic catalog; random full-length "
            "histories",
            command="python benchmarks/memory_1m.py",
        ),
    }
    print(result)
    write_results(args.results, result)
    return 0 if result["within_8_gb"] else 1


if __name__ == "__main__":
    sys.exit(main())
