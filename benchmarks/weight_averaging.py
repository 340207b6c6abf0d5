"""Does averaging the weights over epochs help? One training run, scored with and without.

  python benchmarks/weight_averaging.py [--variants sair] [--decays 0.5 0.8]
      [--debiased-decays 0.9 0.95] [--threads 2]

Ingests `../shared/data/ml-1m` (never copied) and trains each variant once at the product's
defaults over the whole epoch budget (early stopping never ends it). After every epoch's
validation the trainable weights are folded into an exponential moving average per decay
β, w̄ ← β·w̄ + (1 − β)·w (the first epoch's weights start it, as in the product), and,
per `--debiased-decays` β, into a bias-corrected one (Adam's correction of an average
started at zero: the first epoch's weights weigh as any other's), and each average is
scored on the validation split; the weights are then put back, so training runs on its own
weights exactly as without averaging. The comparison is paired: one trajectory, scored raw
and averaged. Each curve is then early-stopped as the product's training would stop it
(TrainConfig's `patience`), which gives its best epoch and its best validation
`full_ndcg_10`. Validation only: nothing here is scored on test.

`--checkpoint-dir` keeps every epoch (the training's and the averages'), so a stopped run
continues with `--resume`. Writes `benchmarks/results/weight_averaging.json`.
"""

from __future__ import annotations

import sair_keras  # noqa: E402, F401  (Keras 2: before TensorFlow is imported)
from pipeline import console  # noqa: E402

# Before the libraries that warn on import: their noise is not for the console.
console.quiet_environment(verbose=False)

import dataclasses  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402

from sair_keras import checkpoint, train  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from speed_common import (  # noqa: E402
    describe_defaults,
    environment,
    ingested_ml1m,
    ml1m_parser,
    write_results,
)

METRIC = "full_ndcg_10"
STATE = "averages.json"
AVERAGES = "averages.npz"


def early_stopped(curve: Sequence[float], patience: int) -> dict:
    """Keras' `EarlyStopping` (mode max) on a validation `curve`, epoch 1 first: training
    stops once `patience` epochs pass without a better value. Its `best_epoch` (from 1),
    `best` value and the epoch it `stopped_at` (the curve's end if it never stops). Epochs
    not scored (None) neither count nor wait."""
    best, best_epoch, wait = -np.inf, 0, 0
    for epoch, value in enumerate(curve, start=1):
        if value is None:
            continue
        if value > best:
            best, best_epoch, wait = float(value), epoch, 0
            continue
        wait += 1
        if wait >= patience:
            return {"best_epoch": best_epoch, "best": best, "stopped_at": epoch}
    return {"best_epoch": best_epoch, "best": best, "stopped_at": len(curve)}


def debiased_decay(decay: float, folds: int) -> float:
    """The decay β_t that makes the `folds`-th (t-th, from 1) `train.fold_weights` give the
    bias-corrected moving average: with m_t = β·m_{t−1} + (1 − β)·w_t from m_0 = 0,
    w̄_t = m_t / (1 − β^t) = β_t·w̄_{t−1} + (1 − β_t)·w_t, β_t = β·(1 − β^{t−1}) / (1 − β^t).
    β_1 = 0 (the first epoch's weights themselves), β_2 = β / (1 + β), and β_t → β."""
    if folds < 1:
        raise ValueError(f"folds count from 1, got {folds}")
    return decay * (1 - decay ** (folds - 1)) / (1 - decay**folds)


def average_name(decay: float, debiased: bool = False) -> str:
    """An average's key in the curves and the results: `0.9`, `0.9 debiased`."""
    return f"{decay:g}" + (" debiased" if debiased else "")


class EpochAverages(keras.callbacks.Callback):
    """Per decay β, the exponential moving average of the trainable weights at the ends of
    epochs, scored on `validation` after each epoch's own validation (`on_test_end`), the
    weights put back before training goes on; per β of `debiased`, the bias-corrected
    average (`debiased_decay`) too. `scores[name]` is an average's curve of `metric`, by
    `average_name`.

    With `directory`, the averages and curves are saved there after every epoch and a new
    fit with the same directory continues them (an epoch already folded is not folded
    twice). Needs validation every epoch. Epochs before `score_from` (from 1) are folded
    but not scored (None in `scores`): the early epochs are far from any best.
    """

    def __init__(
        self,
        validation,
        decays: Sequence[float],
        directory: str | None = None,
        score_from: int = 1,
        debiased: Sequence[float] = (),
    ):
        super().__init__()
        for decay in [*decays, *debiased]:
            if not 0 < decay < 1:
                raise ValueError(f"a decay must lie in (0, 1), got {decay}")
        self.validation = validation
        self.kinds = {average_name(d): (float(d), False) for d in decays}
        self.kinds |= {average_name(d, True): (float(d), True) for d in debiased}
        self.directory = Path(directory) if directory else None
        self.score_from = score_from
        self.epochs_done = 0
        self.averages: dict[str, list[np.ndarray]] = {}
        self.scores: dict[str, list[float | None]] = {name: [] for name in self.kinds}

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        self._ranks = tf.function(self.model.eval_ranks, reduce_retracing=True)
        if self.directory is None or not (self.directory / STATE).exists():
            return
        state = json.loads((self.directory / STATE).read_text())
        self.epochs_done = state["epochs_done"]
        self.scores = {name: list(state["scores"][name]) for name in self.kinds}
        n = len(self.model.trainable_weights)
        saved = checkpoint.load_arrays(self.directory / AVERAGES)
        self.averages = {name: saved[i * n : (i + 1) * n] for i, name in enumerate(self.kinds)}

    def _score(self) -> float:
        ranks = np.concatenate([self._ranks(batch).numpy() for batch in self.validation])
        return train.ranks_to_metrics(ranks)[METRIC]

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_test_end(self, logs=None):
        epoch = self._epoch
        if epoch < self.epochs_done:  # folded before the process stopped: not twice
            return
        variables = self.model.trainable_weights
        weights = [v.numpy() for v in variables]
        for name, (decay, debiased) in self.kinds.items():
            if debiased:
                decay = debiased_decay(decay, epoch + 1)
            average = train.fold_weights(self.averages.get(name), weights, decay)
            self.averages[name] = average
            if epoch + 1 < self.score_from:
                self.scores[name].append(None)
                continue
            for v, a in zip(variables, average, strict=True):
                v.assign(a)
            self.scores[name].append(self._score())
        for v, w in zip(variables, weights, strict=True):
            v.assign(w)
        self.epochs_done = epoch + 1
        self._save()

    def _save(self) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        arrays = [a for name in self.kinds for a in self.averages[name]]
        checkpoint.save_arrays(self.directory / AVERAGES, arrays)
        state = {"epochs_done": self.epochs_done, "scores": self.scores}
        checkpoint.write_text(self.directory / STATE, json.dumps(state))


def measure(
    outputs,
    variant: str,
    decays: Sequence[float],
    seed: int = 0,
    epochs: int | None = None,
    checkpoint_dir: str | None = None,
    score_from: int = 1,
    debiased: Sequence[float] = (),
) -> dict:
    """One training of `variant` at the product's defaults over `epochs` (default: the
    product's budget), its raw validation curve and each average's (per decay, and per
    `debiased` decay bias-corrected), each early-stopped at the product's patience."""
    import tensorflow as tf

    from sair_keras import data
    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig, TrainConfig
    from sair_keras.model import build_model

    tf.keras.utils.set_random_seed(seed)
    product = TrainConfig()
    budget = epochs or product.epochs
    # The learning-rate schedule runs over the budget; early stopping is simulated per curve;
    # validation sees the weights themselves (the raw curve): the averages are scored here.
    config = dataclasses.replace(
        product, epochs=budget, patience=budget, seed=seed, weight_averaging=0.0
    )
    model = build_model(Catalog.load(outputs.vocabulary_dir), ModelConfig(variant=variant))
    split = lambda name: data.split_pattern(outputs.examples_dir, name)  # noqa: E731
    max_len = model.model_config.max_len
    training = data.train_dataset(split("train"), config.batch_size, max_len, seed=seed)
    validation = data.eval_dataset(split("eval"), data.EVAL_BATCH_SIZE, max_len)
    run_dir = Path(checkpoint_dir) / f"{variant}-seed{seed}" if checkpoint_dir else None
    averages = EpochAverages(
        validation, decays, str(run_dir / "averages") if run_dir else None, score_from, debiased
    )

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            shown = " ".join(
                f"{name}: {s[-1]:.4f}"
                for name, s in averages.scores.items()
                if s and s[-1] is not None
            )
            print(
                f"  {variant} epoch {epoch + 1}: raw {logs['val_' + METRIC]:.4f} {shown} "
                f"({logs['elapsed_seconds']:.0f} s)",
                flush=True,
            )

    history = train.fit(
        model,
        training,
        validation,
        config,
        callbacks=[averages, Progress()],
        verbose=0,
        checkpoint_dir=str(run_dir / "training") if run_dir else None,
    ).history
    curves = {"0": history["val_" + METRIC], **averages.scores}
    return {
        "seed": seed,
        "epochs_run": len(history["loss"]),
        "median_epoch_seconds": round(float(np.median(history["epoch_seconds"])), 1),
        "patience": product.patience,
        "averages_scored_from_epoch": score_from,
        "decays": {
            decay: {
                **early_stopped(curve, product.patience),
                "val_" + METRIC: [None if v is None else round(float(v), 4) for v in curve],
            }
            for decay, curve in curves.items()
        },
    }


def main() -> int:
    p = ml1m_parser(__doc__, "weight_averaging.json")
    p.set_defaults(variants=["sair"])
    p.add_argument("--decays", nargs="+", type=float, default=[0.5, 0.8])
    p.add_argument(
        "--debiased-decays",
        nargs="+",
        type=float,
        default=[],
        help="decays whose bias-corrected average is scored too",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--score-from",
        type=int,
        default=1,
        help="score the averages from this epoch on (every epoch is folded into them)",
    )
    p.add_argument("--threads", type=int, help="TensorFlow intra- and inter-op threads")
    p.add_argument(
        "--checkpoint-dir",
        default=str(ROOT / ".benchmark-checkpoints" / "weight_averaging"),
        help="every epoch is kept here until the run is recorded",
    )
    p.add_argument("--resume", action="store_true", help="continue a stopped run")
    args = p.parse_args()
    if args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    if not args.resume:
        shutil.rmtree(args.checkpoint_dir, ignore_errors=True)
    results = {}
    with ingested_ml1m(args.shared_data) as outputs:
        for variant in args.variants:
            results[variant] = measure(
                outputs,
                variant,
                args.decays,
                args.seed,
                checkpoint_dir=args.checkpoint_dir,
                score_from=args.score_from,
                debiased=args.debiased_decays,
            )
            summary = {d: r["best"] for d, r in results[variant]["decays"].items()}
            print(f"{variant}: best validation {METRIC} by decay {json.dumps(summary)}")
    results["environment"] = environment(
        f"ML-1M, the product's defaults ({describe_defaults()}) but trained and validated on "
        "the weights themselves (decay 0), each decay's average scored beside, validation "
        "every epoch, one process",
        command=" ".join(["python benchmarks/weight_averaging.py", *sys.argv[1:]]),
    )
    write_results(args.results, results)
    shutil.rmtree(args.checkpoint_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
