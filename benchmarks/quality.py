"""Quality benchmark: train and evaluate SAIR variants and a popularity baseline.

  python benchmarks/quality.py --dataset ml-100k --variants popularity sasrec sair --seeds 0 1 2
  python benchmarks/quality.py --dataset ml-1m --variants popularity --results OUT.json

Ingests `../shared/data/<dataset>` with the project's ingestion (never copied), trains each
variant per seed with early stopping on a validation metric (`--early-stopping-metric`,
default full-catalog NDCG@10; best weights restored), and scores the **test** split: sampled
HR/NDCG@5/10/20 (target among its 100 fixed negatives) and full-catalog HR/NDCG@10/20
(target among every item the user did not interact with before it). The `popularity`
variant trains nothing: it ranks items by their interactions in the training split.
Writes `benchmarks/results/<dataset>.json`: every run under `runs`, each with the settings
it ran with; `configurations` (every configuration run, with its validation scores);
`chosen` (the configuration chosen by validation, `quality_summary.choose`) and `summary`
(`summary.<variant>.test.<metric>.{mean,std}`, std with ddof=1, for the chosen
configuration and popularity).

Settings other than the protocol's make another protocol, whose runs go to a file of their
own (by default `<dataset>-batch<N>.json`, `<dataset>-item_table.json`, `<dataset>-e<N>.json`,
`<dataset>-p<N>.json`, or several suffixes) and never mix with the protocol's runs:
`--batch-size N` other than 256 (without the flag, each configuration trains at its own
batch size: `train.batch_size` of its file, else TrainConfig's), `--item-catalog item_table`
(the item file's unrated items in the catalog and among the negatives, as in RecBole), and a
training budget other than the product's (TrainConfig's `epochs` and `patience`, the
`--max-epochs` and `--patience` defaults; the paper's Table II ran at `--max-epochs 200
--patience 20`: `<dataset>-e200-p20.json`). `--resume` refuses a results file that
holds runs of other settings (e.g. a `--results` given by hand), which writing would
otherwise drop. `--configuration KEY` trains as the recorded runs of a configuration did
(`recorded`), whatever the defaults are today.
"""

from __future__ import annotations

import sys

import sair_keras  # noqa: E402, F401  (Keras 2: before TensorFlow is imported)
from pipeline import console  # noqa: E402

# Before the libraries that warn on import: their noise is not for the console.
console.quiet_environment("--verbose" in sys.argv)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import fcntl  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import experiments  # noqa: E402
import numpy as np  # noqa: E402
import recorded  # noqa: E402
import tf_keras as keras  # noqa: E402
from quality_summary import (  # noqa: E402
    OUR_EPOCHS,
    OUR_PATIENCE,
    PAPER_BATCH,
    WHOLE_HISTORY,
    config_key,
    configurations,
    headline,
    to_json,
)
from speed_common import environment  # noqa: E402

from components.sequence_gen.config import ITEM_CATALOGS  # noqa: E402
from sair_keras.config import VARIANTS, ConfigError, TrainConfig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

DATASETS = ("ml-100k", "ml-1m")
DEFAULT_CATALOG = "interactions"  # DataConfig.item_catalog of our protocol


def ingest(
    dataset: str,
    shared_data: Path,
    out: Path,
    item_catalog: str = DEFAULT_CATALOG,
    max_len: int | None = None,
    data_settings: dict | None = None,
):
    """Ingests `dataset`; `data_settings`: a configuration's other DataConfig settings."""
    import apache_beam as beam

    from components.sequence_gen import ingest as ingest_lib
    from components.sequence_gen import movielens
    from components.sequence_gen.config import DataConfig

    outputs = ingest_lib.IngestOutputs.under(str(out))
    options = beam.options.pipeline_options.PipelineOptions(
        ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    )
    report = ingest_lib.run_ingestion(
        movielens.source_config(dataset, shared_data / dataset),
        DataConfig(
            item_catalog=item_catalog,
            **({"max_len": max_len} if max_len else {}),
            **(data_settings or {}),
        ),
        outputs,
        lambda: beam.Pipeline(options=options),
    )
    return outputs, report


def popularity(outputs) -> dict:
    """Ranks each test target by its item's interactions in the training split (the
    ingestion's count file; no held-out item counted), sampled and on the full catalog
    without the user's seen items, ties against the target."""
    import tensorflow as tf

    from sair_keras import data, features, ranking, train
    from sair_keras.catalog import Catalog
    from sair_keras.model import seen_before_target

    counts = tf.constant(Catalog.load(outputs.vocabulary_dir).train_counts, tf.float32)
    ranks = []
    test = data.eval_dataset(data.split_pattern(outputs.examples_dir, "test"), 1024, 150)
    for batch in test:
        scores = tf.broadcast_to(
            counts[None, :], [tf.shape(batch[features.TARGET])[0], counts.shape[0]]
        )
        seen = seen_before_target(batch)
        ranks.append(
            ranking.ranks(scores, batch[features.TARGET], batch[features.NEGATIVES], seen).numpy()
        )
    return train.ranks_to_metrics(np.concatenate(ranks))


class Progress:
    """A line every 10 epochs: the benchmark runs long without Keras' own output."""

    def __new__(cls, label: str):

        class _Progress(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if (epoch + 1) % 10 == 0:
                    shown = " ".join(
                        f"{k} {logs.get(k, float('nan')):.4f}"
                        for k in ("val_ndcg_10", "val_full_hr_10", "val_full_ndcg_10")
                    )
                    print(
                        f"  {label} epoch {epoch + 1}: ranking {logs['ranking_loss']:.4f} "
                        f"{shown} {logs['elapsed_seconds']:.0f} s",
                        flush=True,
                    )

        return _Progress()


def protocol_suffix(
    batch_size: int | None,
    item_catalog: str,
    epochs: int = OUR_EPOCHS,
    patience: int = OUR_PATIENCE,
) -> str:
    """'' for the benchmark's protocol; `-batch16`, `-item_table`, `-e200`, `-p20` or
    several for another. `batch_size` is `--batch-size`: None leaves each configuration its own."""
    return (
        ("" if batch_size in (None, PAPER_BATCH) else f"-batch{batch_size}")
        + ("" if item_catalog == DEFAULT_CATALOG else f"-{item_catalog}")
        + ("" if epochs == OUR_EPOCHS else f"-e{epochs}")
        + ("" if patience == OUR_PATIENCE else f"-p{patience}")
    )


def export_name(
    dataset: str,
    variant: str,
    seed: int,
    recipe: str,
    batch_size: int | None = None,
    item_catalog: str = DEFAULT_CATALOG,
    epochs: int = OUR_EPOCHS,
    patience: int = OUR_PATIENCE,
) -> str:
    """`ml-1m-sair-seed0`; a recipe other than the default is named: `ml-1m-sair-paper-seed0`,
    and another protocol too: `ml-1m-sair-batch16-seed0`, `ml-1m-sair-paper-e200-p20-seed0`."""
    named = "" if recipe == "default" else f"-{recipe}"
    suffix = protocol_suffix(batch_size, item_catalog, epochs, patience)
    return f"{dataset}-{variant}{named}{suffix}-seed{seed}"


def results_path_for(
    dataset: str,
    batch_size: int | None,
    item_catalog: str,
    epochs: int = OUR_EPOCHS,
    patience: int = OUR_PATIENCE,
) -> Path:
    """The default results file of a protocol: `ml-1m.json`, `ml-1m-item_table.json`,
    `ml-1m-e200-p20.json`, …"""
    name = f"{dataset}{protocol_suffix(batch_size, item_catalog, epochs, patience)}.json"
    return ROOT / "benchmarks" / "results" / name


def run_data_config(recipe: experiments.Source) -> dict:
    """The DataConfig settings a run records: `training_windows`, DataConfig's unless the
    configuration names it, and the configuration's other data settings but `max_len`
    (which the model's settings carry)."""
    from components.sequence_gen.config import DataConfig

    data = experiments.data_settings(recipe)
    return {"training_windows": DataConfig(**data).training_windows, **data}


def run_batch_size(recipe: experiments.Source, batch_size: int | None) -> int:
    """The batch size a run uses: `--batch-size` when given, else the configuration's
    (`train.batch_size` of its file, else TrainConfig's)."""
    from sair_keras.config import TrainConfig

    if batch_size is not None:
        return batch_size
    return experiments.train_settings(recipe).get("batch_size", TrainConfig().batch_size)


def model_config_for(variant: str, recipe: experiments.Source, dropout: float | None):
    """The model of named configuration `recipe` (`experiments`), `--dropout` over it (its
    ablation switches apart: `experiments.ablations`)."""
    from sair_keras.config import ModelConfig

    settings = {**experiments.model_settings(recipe), "variant": variant}
    max_len = experiments.max_len(recipe)
    if max_len is not None:
        settings["max_len"] = max_len
    if dropout is not None:
        settings["dropout"] = dropout
    return ModelConfig(**settings)


def _source(args) -> experiments.Source:
    """Where a run's settings come from: the layer of `--configuration` (`recorded.layer`),
    else the named configuration `--recipe`."""
    return getattr(args, "recorded", None) or args.recipe


def run_configs(dataset: str, variant: str, seed: int, args):
    """(ModelConfig, TrainConfig) of one run, its `training_loss` resolved for the
    dataset's catalog (`args.num_items`, set once the data is ingested)."""
    from sair_keras.config import TrainConfig, resolve_training_loss

    model_config = resolve_training_loss(
        model_config_for(variant, _source(args), args.dropout), args.num_items
    )
    optimisation = {  # the configuration's, `--batch-size` over it; the protocol: the flags
        **experiments.train_settings(_source(args)),
        "batch_size": run_batch_size(_source(args), args.batch_size),
    }
    train_config = TrainConfig(
        **optimisation,
        epochs=args.max_epochs,
        patience=args.patience,
        seed=seed,
        early_stopping_metric=args.early_stopping_metric,
    )
    return model_config, train_config


def planned_run(dataset: str, variant: str, seed: int, args) -> dict:
    """What identifies a run before it trains: variant, seed, recipe name and every
    setting (its configuration, `quality_summary.config_key`): the model's, with the
    ablation switches that differ from the product's model."""
    model_config, train_config = run_configs(dataset, variant, seed, args)
    return {
        "variant": variant,
        "seed": seed,
        "recipe": args.recipe,
        "item_catalog": args.item_catalog,
        # How the ingestion builds the examples (e.g. training_windows).
        "data_config": run_data_config(_source(args)),
        "model_config": {
            **model_config.to_dict(),
            **experiments.ablations(_source(args)).changed(),
        },
        "train_config": train_config.to_dict(),
    }


def run_variant(outputs, dataset: str, variant: str, seed: int, args) -> dict:
    import ablations
    import diagnostics
    import tensorflow as tf

    from sair_keras import data, train
    from sair_keras.catalog import Catalog

    tf.keras.utils.set_random_seed(seed)
    model_config, train_config = run_configs(dataset, variant, seed, args)
    catalog = Catalog.load(outputs.vocabulary_dir)
    switches = experiments.ablations(_source(args))
    model = ablations.build_model(catalog, model_config, switches)
    # The head's diagnostics read its one fused vector, which the output mixture lacks.
    head_diagnostics = variant != "sasrec" and not switches.output_mixture
    split = lambda name: data.split_pattern(outputs.examples_dir, name)  # noqa: E731
    max_len = model_config.max_len
    train_ds = data.train_dataset(split("train"), train_config.batch_size, max_len, seed=seed)
    val_ds = data.eval_dataset(split("eval"), data.EVAL_BATCH_SIZE, max_len)
    test_ds = data.eval_dataset(split("test"), data.EVAL_BATCH_SIZE, max_len)
    planned = planned_run(dataset, variant, seed, args)
    checkpoint_dir = Path(args.checkpoint_dir) / (
        f"{dataset}-{variant}-{args.recipe}-seed{seed}-{config_key(planned)}"
    )
    if not args.resume:  # a fresh benchmark starts its runs from scratch
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    history = train.fit(
        model,
        train_ds,
        val_ds,
        train_config,
        verbose=0,
        callbacks=[Progress(f"{variant} seed {seed}")],
        checkpoint_dir=str(checkpoint_dir),
    )
    h = history.history
    wall = h["elapsed_seconds"][-1]  # over every process the run took
    if args.export_dir:  # the serving SavedModel, e.g. for `pipeline_runner.py heatmap`
        from sair_keras import export

        export_path = os.path.join(
            args.export_dir,
            export_name(
                dataset,
                variant,
                seed,
                args.recipe,
                args.batch_size,
                args.item_catalog,
                args.max_epochs,
                args.patience,
            ),
        )
        export.export_serving_model(model, catalog, export_path)
    best = int(np.argmax(h["val_" + train_config.early_stopping_metric]))
    reached = [t for t, hr in zip(h["elapsed_seconds"], h["val_hr_10"], strict=True) if hr >= 0.82]
    return {
        **planned,
        "full_catalog_excludes": WHOLE_HISTORY,
        "epochs_run": len(h["loss"]),
        "best_epoch": best + 1,
        # Validation at the best epoch (chosen by the early-stopping metric).
        "best_val_ndcg_10": float(h["val_ndcg_10"][best]),
        "best_val_full_ndcg_10": float(h["val_full_ndcg_10"][best]),
        "train_wall_s": round(wall, 1),
        "seconds_to_val_hr10_0.82": round(reached[0], 1) if reached else None,
        "val_hr_10": [round(float(v), 4) for v in h["val_hr_10"]],
        "val_ndcg_10": [round(float(v), 4) for v in h["val_ndcg_10"]],
        "val_full_ndcg_10": [round(float(v), 4) for v in h["val_full_ndcg_10"]],
        "epoch_seconds": [round(float(v), 2) for v in h["epoch_seconds"]],
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "tf_threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "final_decov_loss": float(h["decov_loss"][-1]),
        "final_balance_loss": float(h["balance_loss"][-1]) if "balance_loss" in h else None,
        "test": train.evaluate(model, test_ds),
        # How the selection of interests varies on the test histories (None for sasrec).
        "interest_usage": None
        if variant == "sasrec"
        else diagnostics.model_interest_usage(model, test_ds),
        # What the interest head adds to the encoder's output (None for sasrec).
        "head_share": diagnostics.model_head_share(model, test_ds) if head_diagnostics else None,
        # Test metrics with the head changed at inference: do the interests matter?
        "head_ablation": diagnostics.head_ablation(model, test_ds) if head_diagnostics else None,
        # The command that ran it (the file's `environment.command` is only the last one).
        "command": " ".join(["python", *portable_argv(sys.argv)]),
        "_checkpoint_dir": str(checkpoint_dir),
    }


def _same_protocol(run: dict, args) -> bool:
    """Runs of one results file share epochs, patience and item catalog (another catalog goes
    to its own file), and the dropout and batch size of `--dropout` and `--batch-size` when
    given; without them each run has its own configuration's (its key tells them apart).
    Runs stored before a setting was recorded had the paper's value."""
    return (
        run["train_config"]["epochs"] == args.max_epochs
        and run["train_config"]["patience"] == args.patience
        and args.batch_size in (None, run["train_config"].get("batch_size", PAPER_BATCH))
        and run.get("item_catalog", DEFAULT_CATALOG) == args.item_catalog
        and args.dropout in (None, run["model_config"]["dropout"])
    )


def _key(run: dict) -> tuple:
    """Runs are keyed by variant, seed and configuration: runs of other settings never
    replace each other, whatever their recipe's name."""
    if run["variant"] == "popularity":
        return ("popularity",)
    return (run["variant"], run["seed"], config_key(run))


def _kept(run: dict) -> bool:
    """Runs a results file keeps: trained runs, and the popularity baseline when it was
    measured with the whole history excluded (an older one is measured again)."""
    if run["variant"] == "popularity":
        return run.get("full_catalog_excludes") == WHOLE_HISTORY
    return "train_config" in run


def check_protocol(on_disk: list[dict], args, path: Path) -> None:
    """Raise ValueError if `path` holds a trained run of other settings than `args`: writing
    this protocol's runs there would drop it (one results file holds one protocol)."""
    other = [r for r in on_disk if "train_config" in r and not _same_protocol(r, args)]
    if other:
        r = other[0]
        raise ValueError(
            f"{path} holds {len(other)} run(s) made with other settings, e.g. "
            f"{r['variant']} seed {r['seed']} ({r.get('recipe', 'default')}): "
            f"epochs {r['train_config']['epochs']}, patience {r['train_config']['patience']}, "
            f"batch {r['train_config'].get('batch_size', PAPER_BATCH)}, "
            f"dropout {r['model_config']['dropout']}, "
            f"catalog {r.get('item_catalog', DEFAULT_CATALOG)}; resume with those settings, "
            "or give this protocol a results file of its own with --results"
        )


def merge_runs(on_disk: list[dict], mine: list[dict], args, path: Path) -> list[dict]:
    """`mine` plus the runs another process wrote meanwhile (parallel benchmark processes
    share one results file); a run in both is taken from `mine`. Runs of another protocol
    on disk raise ValueError (see `check_protocol`) rather than being dropped."""
    check_protocol(on_disk, args, path)
    have = {_key(r) for r in mine}
    theirs = [r for r in on_disk if _kept(r) and _key(r) not in have]
    return mine + theirs


@contextlib.contextmanager
def locked(path: Path):
    """An exclusive lock beside `path`, held while a process reads-merges-writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(path.suffix + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def portable_argv(argv: list[str]) -> list[str]:
    """The command line with paths inside the repository made relative to it and other
    absolute paths replaced by a placeholder: a results file names no machine's folders."""
    out = []
    for arg in argv:
        flag, eq, value = (
            arg.partition("=") if arg.startswith("--") and "=" in arg else ("", "", arg)
        )
        if value.startswith("/"):
            path = Path(value)
            value = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else f"<{path.name}>"
        out.append(f"{flag}{eq}{value}" if eq else value)
    return out


def check_variants(variants: list[str], recipe: str) -> None:
    """Refuse `sasrec` under a recipe that changes only the interest head: that `sasrec` is
    the same model as the one of the configuration it shares
    (`experiments.sasrec_configuration`), so the run would
    only repeat it, and the results page compares with that one."""
    shared = experiments.sasrec_configuration(recipe)
    if "sasrec" in variants and shared != recipe:
        raise ValueError(
            f"recipe {recipe!r} changes only the interest head, so its sasrec is recipe "
            f"{shared!r}'s; run sasrec with --recipe {shared} (or drop it from --variants)"
        )


# Flags a recorded configuration sets (`--configuration`): giving one as well is refused.
RECORDED_FLAGS = (
    "recipe",
    "dropout",
    "batch_size",
    "item_catalog",
    "max_epochs",
    "patience",
    "early_stopping_metric",
)


def use_recorded(args, parser: argparse.ArgumentParser) -> None:
    """Sets `args` to train as the recorded configuration `args.configuration`: its layer
    (`args.recorded`), recipe name, protocol and results file (unless `--results`).
    ConfigError when a flag it sets is given too, or when a planned run would not have
    its key (a setting the benchmark can no longer set)."""
    given = [f for f in RECORDED_FLAGS if getattr(args, f) != parser.get_default(f)]
    if given:
        flags = ", ".join("--" + f.replace("_", "-") for f in given)
        raise ConfigError(f"--configuration sets {flags}: give one or the other")
    settings, args.recipe, path = recorded.find(
        recorded.RESULTS_DIR, args.dataset, args.configuration
    )
    args.recorded = recorded.layer(settings)
    protocol = recorded.protocol(settings)
    args.max_epochs, args.patience = protocol["epochs"], protocol["patience"]
    args.early_stopping_metric = protocol["early_stopping_metric"]
    args.item_catalog = protocol["item_catalog"]
    args.results = args.results or str(path)
    args.num_items = None  # planning needs no catalog: a recorded objective is resolved
    for variant in (v for v in args.variants if v != "popularity"):
        key = config_key(planned_run(args.dataset, variant, 0, args))
        if key != args.configuration:
            raise ConfigError(
                f"configuration {args.configuration} cannot be trained again here: "
                f"{variant} would train as {key}"
            )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dataset", choices=DATASETS, default="ml-100k")
    p.add_argument(
        "--variants",
        nargs="+",
        choices=("popularity", *VARIANTS),
        default=["popularity", "sasrec", "sair"],
        help="popularity trains nothing (items by their training-split counts)",
    )
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--max-epochs", type=int, default=OUR_EPOCHS)
    p.add_argument("--patience", type=int, default=OUR_PATIENCE)
    p.add_argument(
        "--early-stopping-metric",
        default=TrainConfig().early_stopping_metric,
        help="validation metric early stopping follows (default %(default)s; ndcg_10 for "
        "the paper's sampled protocol)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        help="histories per optimizer step for every run (default: each configuration's "
        "train.batch_size, else the paper's 256); a value other than 256 is another "
        "protocol, with its own default results file (<dataset>-batch<N>.json)",
    )
    p.add_argument(
        "--item-catalog",
        choices=ITEM_CATALOGS,
        default=DEFAULT_CATALOG,
        help="DataConfig.item_catalog; item_table (the item file's unrated items in the "
        "catalog, as in RecBole) is another protocol, with its own default results file "
        "(<dataset>-item_table.json)",
    )
    p.add_argument(
        "--dropout",
        type=float,
        help="default: the configuration's",
    )
    p.add_argument(
        "--recipe",
        choices=experiments.names(),
        default="default",
        help="a named configuration's model settings (benchmarks/configs/, configs/); "
        "'paper' is eq. 10 as written",
    )
    p.add_argument(
        "--configuration",
        metavar="KEY",
        help="train as the recorded runs of configuration KEY did (a results file's "
        "`configurations` key, e.g. from docs/RESULTS.md): their settings and protocol, "
        "whatever today's defaults, written to the file that holds them (`recorded`)",
    )
    p.add_argument("--shared-data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument(
        "--results",
        help="default benchmarks/results/<dataset>.json, or the protocol's own file when "
        "--batch-size, --item-catalog, --max-epochs or --patience is not the default",
    )
    p.add_argument("--export-dir", help="export each trained model here (SavedModel)")
    p.add_argument(
        "--checkpoint-dir",
        default=str(ROOT / ".benchmark-checkpoints"),
        help="each unfinished run saves every epoch here; a rerun continues it (a stopped "
        "run is not lost), and the directory goes once the run is recorded",
    )
    p.add_argument(
        "--threads",
        type=int,
        help="TensorFlow intra-op threads (default: TF's choice); e.g. 1 when two benchmark "
        "processes share a 2-core machine",
    )
    p.add_argument(
        "--log-root",
        default=str(ROOT / ".benchmark-logs"),
        help="third-party output (Beam, TensorFlow, library warnings) goes to "
        "<log-root>/logs/run-<time>.log; the console gets progress and results",
    )
    p.add_argument("--verbose", action="store_true", help="everything to the console")
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs already in the results file and skip the (variant, seed, "
        "configuration) they cover: a stopped benchmark continues where it stopped; refused "
        "if the file holds runs of other settings",
    )
    return p


def main() -> int:
    p = build_parser()
    args = p.parse_args()
    try:
        if args.configuration:
            use_recorded(args, p)
        else:
            check_variants(args.variants, args.recipe)
    except (ValueError, ConfigError) as e:
        p.error(str(e))
    if args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    results_path = Path(
        args.results
        or results_path_for(
            args.dataset, args.batch_size, args.item_catalog, args.max_epochs, args.patience
        )
    )

    def write(runs, report):
        with locked(results_path):
            if args.resume and results_path.exists():
                on_disk = json.loads(results_path.read_text())["runs"]
                runs = merge_runs(on_disk, runs, args, results_path)
            _write(runs, report)

    def _write(runs, report):
        result = {
            "dataset": args.dataset,
            "protocol": "leave-one-out; test split; sampled: target among 100 fixed negatives "
            "(pessimistic ties); full: target among every item the user did not interact "
            "with before it (pessimistic ties); a configuration is chosen on validation",
            "item_catalog": args.item_catalog,
            "data": {
                k: report[k]
                for k in ("users", "items", "actions", "categories", "items_without_interactions")
            },
            **headline(runs),
            "configurations": configurations(runs),
            "runs": runs,
            "environment": environment(command=" ".join(["python", *portable_argv(sys.argv)])),
        }
        tmp = results_path.with_suffix(".json.tmp")
        tmp.write_text(to_json(result))
        tmp.replace(results_path)

    kept = []
    if args.resume and results_path.exists():
        kept = [r for r in json.loads(results_path.read_text())["runs"] if _kept(r)]
        try:  # before any work: refuse rather than drop another protocol's runs
            check_protocol(kept, args, results_path)
        except ValueError as e:
            p.error(str(e))
    trained = [v for v in args.variants if v != "popularity"]
    with (
        console.to_log_file(args.log_root, args.verbose) as (_, log_file),
        tempfile.TemporaryDirectory() as tmp,
    ):
        if log_file:
            print(f"third-party output: {log_file}", flush=True)
        outputs, report = ingest(
            args.dataset,
            Path(args.shared_data),
            Path(tmp),
            args.item_catalog,
            experiments.max_len(_source(args)),
            run_data_config(_source(args)),  # the settings each run records
        )
        from sair_keras.catalog import Catalog

        args.num_items = Catalog.load(outputs.vocabulary_dir).num_items
        runs = list(kept)
        if "popularity" in args.variants:
            base = {"variant": "popularity", "seed": None, "full_catalog_excludes": WHOLE_HISTORY}
            runs = [r for r in runs if r["variant"] != "popularity"]
            runs.insert(0, {**base, "test": popularity(outputs)})
            print(f"popularity: {json.dumps(runs[0]['test'])}", flush=True)
            write(runs, report)
        done = {_key(r) for r in runs}
        for seed in args.seeds:  # seed by seed: each finished seed compares every variant
            for variant in trained:
                if _key(planned_run(args.dataset, variant, seed, args)) in done:
                    print(f"{variant} seed {seed} ({args.recipe}): already done", flush=True)
                    continue
                run = run_variant(outputs, args.dataset, variant, seed, args)
                checkpoint_dir = run.pop("_checkpoint_dir")
                runs.append(run)
                print(
                    f"{variant} seed {seed}: best epoch {run['best_epoch']}, "
                    f"{run['train_wall_s']} s, test {json.dumps(run['test'])}",
                    flush=True,
                )
                write(runs, report)  # after every run: a long benchmark keeps what it did
                shutil.rmtree(checkpoint_dir, ignore_errors=True)
        write(runs, report)
    print(f"wrote {results_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
