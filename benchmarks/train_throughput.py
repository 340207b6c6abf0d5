"""Training throughput on ML-1M: seconds per epoch and sequences per second per variant.

  python benchmarks/train_throughput.py [--variants sasrec sair] [--epochs 6] [--jit]

Ingests `../shared/data/ml-1m` (never copied), then for each variant trains `--epochs`
epochs over the 6,040 training sequences at the product's default configuration (the
`default` configuration: ModelConfig's and TrainConfig's defaults),
each followed by the validation pass that training runs (every metric, sampled and
full-catalog, on the 6,040 validation users). The variants take turns epoch by epoch (a
slow spell of a shared machine hits them alike). `seconds_per_epoch` is the median
training part of every epoch after the first (which includes tracing);
`seconds_per_epoch_with_validation` the median of training plus validation.
`--jit` compiles the train step with XLA. Writes `benchmarks/results/train_throughput.json`
(one entry per variant; `--jit` results go under `xla`).
"""

from __future__ import annotations

import sair_keras  # noqa: E402, F401  (Keras 2: before TensorFlow is imported)
from pipeline import console  # noqa: E402

# Before the libraries that warn on import: their noise is not for the console.
console.quiet_environment(verbose=False)

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import experiments  # noqa: E402
from speed_common import (  # noqa: E402
    describe_defaults,
    environment,
    ingested_ml1m,
    ml1m_parser,
    write_results,
)

CONFIGURATION = "default"  # the product's default model (benchmarks/configs/default.yaml)


def build(outputs, variant: str, jit: bool):
    import tensorflow as tf

    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig, TrainConfig
    from sair_keras.model import build_model
    from sair_keras.train import compile_model

    tf.keras.utils.set_random_seed(0)
    model = build_model(
        Catalog.load(outputs.vocabulary_dir),
        ModelConfig(**experiments.model_settings(CONFIGURATION), variant=variant),
    )
    compile_model(model, TrainConfig(), jit_compile=jit)
    return model


def _timer():
    import time

    import tf_keras as keras

    class TrainAndValidationTimer(keras.callbacks.Callback):
        """Seconds of each epoch's training part and of the whole epoch with validation."""

        def __init__(self):
            super().__init__()
            self.train_seconds: list[float] = []
            self.epoch_seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.monotonic()

        def on_test_begin(self, logs=None):
            self.train_seconds.append(time.monotonic() - self._start)

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_seconds.append(time.monotonic() - self._start)

    return TrainAndValidationTimer()


def measure(outputs, variants: list[str], epochs: int, jit: bool) -> dict:
    """Trains every variant one epoch at a time, taking turns, so that a slow spell of the
    machine lands on all variants alike; the first epoch of each (tracing) is not timed."""
    from sair_keras import data
    from sair_keras.config import ModelConfig, TrainConfig

    max_len = ModelConfig(**experiments.model_settings(CONFIGURATION)).max_len
    split = lambda name: data.split_pattern(outputs.examples_dir, name)  # noqa: E731
    ds = data.train_dataset(split("train"), TrainConfig().batch_size, max_len)
    val = data.eval_dataset(split("eval"), data.EVAL_BATCH_SIZE, max_len)
    sequences = sum(int(b["item_seq"].shape[0]) for b in ds)
    models = {v: build(outputs, v, jit) for v in variants}
    train_s: dict[str, list[float]] = {v: [] for v in variants}
    epoch_s: dict[str, list[float]] = {v: [] for v in variants}
    for epoch in range(epochs):
        for variant, model in models.items():
            timer = _timer()
            model.fit(ds, validation_data=val, epochs=1, callbacks=[timer], verbose=0)
            train_s[variant] += timer.train_seconds
            epoch_s[variant] += timer.epoch_seconds
            print(
                f"  {variant} epoch {epoch + 1}: {train_s[variant][-1]:.2f} s training, "
                f"{epoch_s[variant][-1]:.2f} s with validation",
                flush=True,
            )
    out = {}
    for variant, model in models.items():
        first, *steady = train_s[variant]
        median = float(np.median(steady))
        out[variant] = {
            "configuration": CONFIGURATION,
            "training_loss": model.model_config.training_loss,
            "seconds_per_epoch": round(median, 2),
            "seconds_per_epoch_with_validation": round(float(np.median(epoch_s[variant][1:])), 2),
            "sequences_per_second": round(sequences / median, 1),
            "epoch_seconds": [round(t, 2) for t in steady],
            "epoch_seconds_with_validation": [round(t, 2) for t in epoch_s[variant][1:]],
            "first_epoch_seconds": round(first, 2),
            "epochs_timed": len(steady),
            "sequences_per_epoch": sequences,
            "parameters": model.count_params(),
        }
    return out


def main() -> int:
    p = ml1m_parser(__doc__, "train_throughput.json")
    p.add_argument("--epochs", type=int, default=6, help="per variant, the first untimed")
    p.add_argument("--jit", action="store_true", help="XLA-compile the train step")
    args = p.parse_args()
    path = Path(args.results)
    results = json.loads(path.read_text()) if path.exists() else {}
    target = results.setdefault("xla", {}) if args.jit else results
    with ingested_ml1m(args.shared_data) as outputs:
        measured = measure(outputs, args.variants, args.epochs, args.jit)
        for variant, result in measured.items():
            target[variant] = result
            print(f"{variant}{' (xla)' if args.jit else ''}: {json.dumps(result)}", flush=True)
    if "sasrec" in target and "sair" in target:
        target["sair_over_sasrec"] = round(
            target["sair"]["seconds_per_epoch"] / target["sasrec"]["seconds_per_epoch"], 3
        )
    results["environment"] = environment(
        f"ML-1M, the {CONFIGURATION!r} configuration ({describe_defaults()}; the "
        "objective each variant's `training_loss` names); validation on every metric",
        tf_threads="TensorFlow's default",
    )
    write_results(path, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
