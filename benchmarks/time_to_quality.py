"""Time to quality on ML-1M: wall seconds from the start of training until validation
reaches a level, per variant, at the product's default configuration.

  python benchmarks/time_to_quality.py [--variants sasrec sair] [--max-epochs N]

Ingests `../shared/data/ml-1m` (never copied), then trains each variant in turn, one
process, validating every epoch as training does. Records, per variant, the wall seconds
(and epochs) until validation `full_ndcg_10` first reaches 0.16 and sampled `hr_10` first
reaches 0.82 (the level SASRec.pytorch reports on ML-1M), and the median seconds per epoch
with validation. A variant stops when both levels are reached or after `--max-epochs`
(default: the product's epoch budget, over which its learning-rate schedule runs).
Run it with nothing else on the machine. Writes `benchmarks/results/time_to_quality.json`.
"""

from __future__ import annotations

import sair_keras  # noqa: E402, F401  (Keras 2: before TensorFlow is imported)
from pipeline import console  # noqa: E402

# Before the libraries that warn on import: their noise is not for the console.
console.quiet_environment(verbose=False)

import dataclasses  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
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

LEVELS = {"val_full_ndcg_10": 0.16, "val_hr_10": 0.82}


def _key(metric: str, level: float) -> str:
    return f"seconds_to_{metric}_{level}"


def measure(outputs, variant: str, max_epochs: int) -> dict:
    import numpy as np
    import tensorflow as tf
    import tf_keras as keras

    from sair_keras import data
    from sair_keras import train as training
    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig, TrainConfig
    from sair_keras.model import build_model

    class Reached(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.monotonic()
            self.epoch_seconds: list[float] = []
            self.reached: dict[str, tuple[float, int]] = {}

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            now = time.monotonic()
            self.epoch_seconds.append(now - self.epoch_start)
            for metric, level in LEVELS.items():
                if metric not in self.reached and (logs or {}).get(metric, 0.0) >= level:
                    self.reached[metric] = (now - self.start, epoch + 1)
            shown = {m: round(float((logs or {}).get(m, 0.0)), 4) for m in LEVELS}
            print(f"  {variant} epoch {epoch + 1}: {shown} ({now - self.start:.0f} s)", flush=True)
            if len(self.reached) == len(LEVELS) or epoch + 1 >= max_epochs:
                self.model.stop_training = True

    tf.keras.utils.set_random_seed(0)
    model_config = ModelConfig(variant=variant)
    # The product's training, its learning-rate schedule over the product's epoch budget
    # included; `Reached` stops it once both levels are reached or after `max_epochs`,
    # early stopping never does.
    budget = max(max_epochs, TrainConfig().epochs)
    train_config = dataclasses.replace(TrainConfig(), epochs=budget, patience=budget)
    model = build_model(Catalog.load(outputs.vocabulary_dir), model_config)
    split = lambda name: data.split_pattern(outputs.examples_dir, name)  # noqa: E731
    max_len = model.model_config.max_len
    train = data.train_dataset(split("train"), train_config.batch_size, max_len, seed=0)
    validation = data.eval_dataset(split("eval"), data.EVAL_BATCH_SIZE, max_len)
    reached = Reached()
    training.fit(model, train, validation, train_config, callbacks=[reached], verbose=0)
    timed = reached.epoch_seconds[1:] or reached.epoch_seconds  # the first epoch traces
    out = {
        "configuration": "default",
        "training_loss": model.model_config.training_loss,
        "seconds_per_epoch_with_validation": round(float(np.median(timed)), 2),
        "epochs_run": len(reached.epoch_seconds),
    }
    for metric, level in LEVELS.items():
        seconds, epoch = reached.reached.get(metric, (None, None))
        out[_key(metric, level)] = None if seconds is None else round(seconds, 1)
        out[f"epochs_to_{metric}_{level}"] = epoch
    return out


def main() -> int:
    from sair_keras.config import TrainConfig

    p = ml1m_parser(__doc__, "time_to_quality.json")
    p.add_argument(
        "--max-epochs",
        type=int,
        default=TrainConfig().epochs,
        help="stop a variant after this many epochs (default: the product's budget)",
    )
    args = p.parse_args()
    results = {}
    with ingested_ml1m(args.shared_data) as outputs:
        for variant in args.variants:
            results[variant] = measure(outputs, variant, args.max_epochs)
            print(f"{variant}: {json.dumps(results[variant])}", flush=True)
    results["environment"] = environment(
        f"ML-1M, the product's defaults ({describe_defaults()}), validation every epoch, "
        "one process",
        command=" ".join(["python benchmarks/time_to_quality.py", *sys.argv[1:]]),
    )
    write_results(args.results, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
