#!/usr/bin/env python3
"""Command line of the SAIR pipeline.

  run         the TFX pipeline: ingestion → validation → training → evaluation gate → push
  ingest      read interactions, build the leave-one-out sequence examples, print the data report
  download    fetch a MovieLens archive into the cache (checksum-verified)
  synthesize  write a seeded synthetic interaction log (the demo's and the tests' data)
  recommend   top-N for every user from a saved (pushed) model, as TFRecord and CSV (Beam)
  heatmap     a PNG of one history's interest distributions before/after the interaction layer

Arguments after a lone `--` go to Apache Beam, e.g. `-- --runner=DataflowRunner --project=P
--region=R --temp_location=gs://B/tmp`, or `-- --direct_running_mode=in_memory`. Without
them the local DirectRunner uses one worker process per core.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # before anything imports TensorFlow

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

from components.sequence_gen.config import ITEM_CATALOGS  # noqa: E402  (no TensorFlow)
from sair_keras.config import RECIPES, TRAINING_LOSSES, VARIANTS  # noqa: E402  (no TensorFlow)

warnings.filterwarnings("ignore", category=FutureWarning)

DATASETS = ("synthetic", "ml-100k", "ml-1m", "ml-20m", "csv")
DEFAULT_BEAM_ARGS = ("--direct_running_mode=multi_processing", "--direct_num_workers=0")
ITEM_CATALOG_HELP = (
    "items the model knows and the evaluation draws negatives from: those some interaction "
    "mentions (interactions), or every item of the item table too, unrated ones included "
    "(item_table: RecBole's catalog)"
)


def _column(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def _add_data_config_args(p: argparse.ArgumentParser) -> None:
    from components.sequence_gen.config import DataConfig

    d = DataConfig()
    g = p.add_argument_group("data rules (SAIR_SPEC §7)")
    g.add_argument(
        "--min-rating",
        type=float,
        default=d.min_rating,
        help="interactions with a rating >= this are valid (default %(default)s)",
    )
    g.add_argument(
        "--max-len",
        type=int,
        default=d.max_len,
        help="keep the most recent N items of each sequence (default %(default)s)",
    )
    g.add_argument(
        "--num-eval-negatives",
        type=int,
        default=d.num_eval_negatives,
        help="negatives per validation/test user (default %(default)s)",
    )
    g.add_argument(
        "--seed",
        type=int,
        default=d.seed,
        help="seed of the evaluation negatives (default %(default)s)",
    )
    g.add_argument(
        "--max-rejected-fraction",
        type=float,
        default=d.max_rejected_fraction,
        help="fail when more of the rows read are rejected (default %(default)s)",
    )
    g.add_argument(
        "--item-catalog",
        choices=ITEM_CATALOGS,
        default=d.item_catalog,
        help=ITEM_CATALOG_HELP + " (default %(default)s)",
    )


def _add_source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default="synthetic",
        help="input format shortcut (default %(default)s)",
    )
    p.add_argument(
        "--data-dir",
        help="folder holding the dataset's files; MovieLens without it is "
        "downloaded to the cache; synthetic without it is generated",
    )
    p.add_argument("--cache-dir", help="download cache (default ~/.cache/sair/movielens)")
    g = p.add_argument_group("generic input (--dataset csv)")
    g.add_argument(
        "--data-path",
        action="append",
        help="interaction file (CSV/TSV/delimited text, optionally .gz, or Parquet); "
        "repeat for several",
    )
    g.add_argument(
        "--source-config",
        help="a YAML/JSON file holding every SourceConfig field (overrides flags)",
    )
    g.add_argument("--format", default="csv", help="csv, tsv, delimited or parquet")
    g.add_argument("--delimiter", help="field delimiter (may be several characters, e.g. ::)")
    g.add_argument(
        "--no-header",
        action="store_true",
        help="the files have no header row: give columns as 0-based indices",
    )
    g.add_argument("--quoted", action="store_true", help="fields may be quoted (CSV quoting)")
    g.add_argument("--encoding", default="utf-8")
    g.add_argument("--user-column", type=_column, default="user_id")
    g.add_argument("--item-column", type=_column, default="item_id")
    g.add_argument(
        "--time-column",
        type=_column,
        default="timestamp",
        help="timestamp or position column (ties keep the input order)",
    )
    g.add_argument("--time-type", default="numeric", help="numeric or iso8601")
    g.add_argument("--rating-column", type=_column)
    g.add_argument("--category-column", type=_column, help="categories inside the interaction rows")
    g.add_argument("--category-separator", default="|")
    g.add_argument(
        "--id-type",
        default="string",
        help="'int' rejects ids that are not integers; 'string' takes any",
    )
    g.add_argument("--items-path", help="optional item file with categories (CSV with header)")
    g.add_argument("--items-item-column", type=_column, default="item_id")
    g.add_argument("--items-category-column", type=_column, default="categories")


def _source_from_args(args: argparse.Namespace, work_dir: Path):
    from components.sequence_gen import movielens, synthetic
    from components.sequence_gen.config import ConfigError, ItemTable, SourceConfig

    if args.dataset == "synthetic":
        directory = Path(args.data_dir) if args.data_dir else work_dir / "synthetic_input"
        if not (directory / synthetic.INTERACTIONS_FILE).exists():
            _log(f"generating the synthetic log in {directory}")
            synthetic.generate(synthetic.SyntheticConfig(), directory)
        return synthetic.source_config(directory)
    if args.dataset in movielens.DATASETS:
        directory = args.data_dir
        if directory is None:
            _log(f"downloading {args.dataset} (cached)")
            directory = movielens.download(args.dataset, args.cache_dir)
        return movielens.source_config(args.dataset, directory)
    if args.source_config:
        return SourceConfig.from_json(json.dumps(_load_config_file(args.source_config)))
    if not args.data_path:
        raise ConfigError("--dataset csv needs --data-path FILE (or --source-config FILE)")
    items = None
    if args.items_path:
        items = ItemTable(
            path=args.items_path,
            item_column=args.items_item_column,
            category_column=args.items_category_column,
        )
    return SourceConfig(
        paths=tuple(args.data_path),
        format=args.format,
        delimiter=args.delimiter,
        has_header=not args.no_header,
        quoted=args.quoted,
        encoding=args.encoding,
        user_column=args.user_column,
        item_column=args.item_column,
        time_column=args.time_column,
        rating_column=args.rating_column,
        category_column=args.category_column,
        category_separator=args.category_separator,
        id_type=args.id_type,
        time_type=args.time_type,
        items=items,
        name="csv",
    )


def _load_config_file(path: str) -> dict:
    import yaml

    from components.sequence_gen.config import ConfigError

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping, got {type(data).__name__}")
    return data


_TERMINAL = []  # the terminal stream of a run whose standard error goes to its log file


def _log(msg: str) -> None:
    stream = _TERMINAL[-1] if _TERMINAL else sys.stderr
    print(f"[sair {time.strftime('%H:%M:%S')}] {msg}", file=stream, flush=True)


@contextlib.contextmanager
def _quiet(output_root: str, verbose: bool):
    """Standard error (and the third-party logs) to `<output_root>/logs/`, the run's own
    lines to the terminal (`pipeline.console`)."""
    from pipeline import console

    with console.to_log_file(output_root, verbose) as (terminal, log_file):
        _TERMINAL.append(terminal)
        try:
            if log_file and not verbose:
                _log(f"logs of TFX, Beam and TensorFlow: {log_file}")
            yield terminal
        finally:
            _TERMINAL.pop()


def cmd_ingest(args: argparse.Namespace, beam_args: list[str]) -> int:
    from components.sequence_gen import report

    out = Path(args.output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with _quiet(str(out), args.verbose):
        result = _ingest(args, beam_args, out)
    print(report.format_table(result))
    print(f"data report: {out / report.REPORT_FILE}")
    return 0


def _ingest(args: argparse.Namespace, beam_args: list[str], out: Path) -> dict:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from components.sequence_gen import ingest
    from components.sequence_gen.config import DataConfig

    source = _source_from_args(args, out)
    config = DataConfig(
        min_rating=args.min_rating,
        max_len=args.max_len,
        num_eval_negatives=args.num_eval_negatives,
        seed=args.seed,
        max_rejected_fraction=args.max_rejected_fraction,
        item_catalog=args.item_catalog,
    )
    options = PipelineOptions(list(beam_args) or list(DEFAULT_BEAM_ARGS))
    _log(f"ingesting {source.name} from {', '.join(source.paths)}")
    start = time.monotonic()
    result = ingest.run_ingestion(
        source, config, ingest.IngestOutputs.under(str(out)), lambda: beam.Pipeline(options=options)
    )
    _log(f"ingestion done in {time.monotonic() - start:.1f} s; outputs in {out}")
    return result


# The built-in demo (synthetic data, sequences of ~40 items) trains in a few minutes.
DEMO = {"data": {"max_len": 50}, "model": {"max_len": 50}, "train": {"epochs": 30, "patience": 5}}

RUN_FLAGS = {  # flag dest → (section, field)
    "variant": ("model", "variant"),
    "hidden_dim": ("model", "hidden_dim"),
    "num_blocks": ("model", "num_blocks"),
    "num_heads": ("model", "num_heads"),
    "num_interests": ("model", "num_interests"),
    "top_k": ("model", "top_k"),
    "decov_weight": ("model", "decov_weight"),
    "dropout": ("model", "dropout"),
    "training_loss": ("model", "training_loss"),
    "epochs": ("train", "epochs"),
    "early_stopping_metric": ("train", "early_stopping_metric"),
    "patience": ("train", "patience"),
    "batch_size": ("train", "batch_size"),
    "learning_rate": ("train", "learning_rate"),
    "num_eval_negatives": ("data", "num_eval_negatives"),
    "seed": ("data", "seed"),
    "min_rating": ("data", "min_rating"),
    "max_rejected_fraction": ("data", "max_rejected_fraction"),
    "item_catalog": ("data", "item_catalog"),
    "gate_metric": ("evaluation", "gate_metric"),
    "gate_floor": ("evaluation", "gate_floor"),
    "regression_tolerance": ("evaluation", "regression_tolerance"),
    "image": ("kubeflow", "image"),
    "project": ("kubeflow", "project"),
    "region": ("kubeflow", "region"),
    "service_account": ("kubeflow", "service_account"),
    "runner": (None, "runner"),
    "output_root": (None, "output_root"),
    "model_name": (None, "model_name"),
    "top_n": (None, "top_n"),
    "name": (None, "name"),
}


def build_run_config(args: argparse.Namespace, beam_args: list[str]):
    """Defaults (+ the demo's when the data is synthetic) ← the model recipe (--recipe, or
    `recipe:` in the file) ← --config YAML ← flags."""
    from components.sequence_gen.config import ConfigError, DataConfig
    from pipeline.config import (
        EvaluationConfig,
        KubeflowConfig,
        PipelineConfig,
        PipelineConfigError,
    )
    from sair_keras.config import ModelConfig, TrainConfig

    layered: dict = {"data": {}, "model": {}, "train": {}, "evaluation": {}, "kubeflow": {}}
    file_cfg = _load_config_file(args.config) if args.config else {}
    unknown = (
        set(file_cfg)
        - set(layered)
        - {
            "runner",
            "output_root",
            "model_name",
            "top_n",
            "name",
            "enable_cache",
            "beam_args",
            "source",
            "metadata_sqlite",
            "batch_recommend_size",
            "recipe",
        }
    )
    if unknown:
        raise ConfigError(f"unknown keys in {args.config}: {sorted(unknown)}")
    if args.dataset == "synthetic" and "source" not in file_cfg:
        for section, values in DEMO.items():
            layered[section].update(values)
    file_recipe = file_cfg.pop("recipe", None)
    recipe = args.recipe or file_recipe
    if recipe is not None:
        if recipe not in RECIPES:
            raise ConfigError(f"unknown recipe {recipe!r}; expected one of {sorted(RECIPES)}")
        layered["model"].update(RECIPES[recipe])
    for key, value in file_cfg.items():
        if isinstance(layered.get(key), dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{args.config}: '{key}' must be a mapping")
            layered[key].update(value)
        else:
            layered[key] = value
    for dest, (section, field) in RUN_FLAGS.items():
        value = getattr(args, dest, None)
        if value is not None:
            (layered[section] if section else layered)[field] = value
    if args.max_len is not None:
        layered["data"]["max_len"] = layered["model"]["max_len"] = args.max_len
    if args.untrained:
        layered["train"]["epochs"] = 0
    if args.no_cache:
        layered["enable_cache"] = False
    output_root = str(layered.get("output_root", "sair_output"))
    if "://" not in output_root:  # keep gs:// and other filesystem URIs as they are
        output_root = str(Path(output_root).resolve())
    if "source" in layered:
        from components.sequence_gen.config import SourceConfig

        source = SourceConfig.from_json(json.dumps(layered.pop("source")))
    else:
        source = _source_from_args(args, Path(output_root))
    from sair_keras.config import ModelConfigError

    try:
        return PipelineConfig(
            source=source,
            name=layered.get("name", "sair"),
            output_root=output_root,
            data=DataConfig(**layered["data"]),
            model=ModelConfig.from_dict(layered["model"]),
            train=TrainConfig.from_dict(layered["train"]),
            evaluation=EvaluationConfig(**layered["evaluation"]),
            kubeflow=KubeflowConfig(**layered["kubeflow"]),
            runner=layered.get("runner", "local"),
            model_name=layered.get("model_name", "sair"),
            top_n=int(layered.get("top_n", 10)),
            batch_recommend_size=int(layered.get("batch_recommend_size", 256)),
            beam_args=tuple(
                beam_args
                or layered.get("beam_args")
                or ("--direct_running_mode=multi_processing", "--direct_num_workers=0")
            ),
            enable_cache=bool(layered.get("enable_cache", True)),
            metadata_sqlite=(
                str(Path(layered["metadata_sqlite"]).resolve())
                if layered.get("metadata_sqlite")
                else None
            ),
        )
    except (TypeError, ModelConfigError, PipelineConfigError) as e:
        raise ConfigError(str(e)) from e


def cmd_run(args: argparse.Namespace, beam_args: list[str]) -> int:
    from pipeline import run_report, runners

    config = build_run_config(args, beam_args)
    _log(
        f"pipeline '{config.name}' ({config.model.variant}) with the {config.runner} runner; "
        f"output in {config.output_root}"
    )
    if config.runner == "kubeflow_v2":
        path = runners.compile_kubeflow_v2(config)
        print(f"compiled {path}")
        return 0
    if "://" not in config.output_root:
        os.makedirs(config.output_root, exist_ok=True)
    from pipeline import blessed

    with _quiet(config.output_root, args.verbose) as terminal:
        baseline = blessed.baseline(config)
        if baseline.note:
            _log(baseline.note)
        progress = run_report.ComponentProgress(config, stream=terminal)
        progress.start()
        try:
            runners.RUNNERS[config.runner](config, compare_with_blessed=baseline.comparable)
        finally:
            progress.stop()
        report = run_report.build_report(config, progress.seconds, baseline)
    if report["data"]:
        from components.sequence_gen.report import format_table

        print(format_table(report["data"]))
    print(run_report.format_metrics(report))
    if args.report:
        run_report.write(report, args.report)
        print(f"run report: {args.report}")
    return 0


def cmd_download(args: argparse.Namespace, beam_args: list[str]) -> int:
    from components.sequence_gen import movielens

    path = movielens.download(args.dataset, args.cache_dir)
    print(path)
    return 0


def cmd_synthesize(args: argparse.Namespace, beam_args: list[str]) -> int:
    from components.sequence_gen import synthetic

    config = synthetic.SyntheticConfig(
        num_users=args.users,
        num_items=args.items,
        num_categories=args.categories,
        mean_length=args.mean_length,
        seed=args.seed,
    )
    start = time.monotonic()
    synthetic.generate(config, args.output)
    _log(f"wrote {args.output} in {time.monotonic() - start:.1f} s")
    return 0


def cmd_recommend(args: argparse.Namespace, beam_args: list[str]) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from components.batch_recommend import recommend

    options = PipelineOptions(list(beam_args) or list(DEFAULT_BEAM_ARGS))
    start = time.monotonic()
    users = recommend.run_batch_recommendation(
        args.examples,
        args.model,
        args.output,
        lambda: beam.Pipeline(options=options),
        args.batch_size,
    )
    _log(f"top-N for {users} users in {time.monotonic() - start:.1f} s")
    print(
        f"recommendations: {os.path.join(args.output, recommend.CSV_DIR)} (CSV), "
        f"{os.path.join(args.output, recommend.TFRECORD_DIR)} (TFRecord)"
    )
    return 0


def cmd_heatmap(args: argparse.Namespace, beam_args: list[str]) -> int:
    from sair_keras import heatmap

    if args.history:
        history = [i.strip() for i in args.history.split(",") if i.strip()]
        who = f"{len(history)} items"
    elif args.user and args.examples:
        from components.batch_recommend import recommend
        from sair_keras import features
        from sair_keras.catalog import Catalog

        catalog = Catalog.load(os.path.join(args.examples, features.VOCABULARY_SUBDIR))
        try:
            history = recommend.find_user_history(args.examples, args.user, catalog.item_ids)
        except KeyError as e:
            print(f"error: {e.args[0]}", file=sys.stderr)
            return 2
        who = f"user {args.user}"
    else:
        print("error: heatmap needs --history, or --user with --examples", file=sys.stderr)
        return 2
    try:
        out = heatmap.interests_of(args.model, history, args.positions)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    title = f"interest relevance along {who} (last {len(out['item_ids'])} positions)"
    heatmap.render(out["before"], out["after"], args.output, title)
    print(f"heat map: {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline_runner.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the TFX pipeline (default: the synthetic demo)")
    _add_source_args(p)
    p.add_argument(
        "--config",
        help="YAML file: name, output_root, runner, model_name, top_n, "
        "source{}, data{}, model{}, train{}, evaluation{}, kubeflow{}",
    )
    g = p.add_argument_group("model (sair_keras.config.ModelConfig)")
    g.add_argument("--variant", choices=VARIANTS)
    g.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        help="a named set of model settings (sair_keras.config.RECIPES; docs/BENCHMARKS.md "
        "says what each did), under the config file and the other flags",
    )
    for flag, typ in (
        ("--hidden-dim", int),
        ("--num-blocks", int),
        ("--num-heads", int),
        ("--num-interests", int),
        ("--top-k", int),
        ("--decov-weight", float),
        ("--dropout", float),
        ("--max-len", int),
    ):
        g.add_argument(flag, type=typ)
    g.add_argument(
        "--training-loss",
        choices=TRAINING_LOSSES,
        help="bce: one sampled negative per position (the paper, default); softmax: "
        "cross-entropy over the whole catalog (docs/MODEL.md)",
    )
    g = p.add_argument_group("training (sair_keras.config.TrainConfig)")
    for flag, typ in (
        ("--epochs", int),
        ("--patience", int),
        ("--batch-size", int),
        ("--learning-rate", float),
    ):
        g.add_argument(flag, type=typ)
    g.add_argument(
        "--early-stopping-metric",
        help="the validation metric early stopping follows (default full_ndcg_10; ndcg_10 "
        "for the paper's Table II)",
    )
    g.add_argument(
        "--untrained",
        action="store_true",
        help="skip training (an untrained model: the Evaluator's gate refuses it)",
    )
    g = p.add_argument_group("data rules")
    for flag, typ in (
        ("--num-eval-negatives", int),
        ("--seed", int),
        ("--min-rating", float),
        ("--max-rejected-fraction", float),
    ):
        g.add_argument(flag, type=typ)
    g.add_argument("--item-catalog", choices=ITEM_CATALOGS, help=ITEM_CATALOG_HELP)
    g = p.add_argument_group("evaluation gate and serving")
    g.add_argument(
        "--gate-metric",
        help="the test metric the gate reads (default full_ndcg_10; e.g. ndcg_10, the "
        "paper's sampled metric)",
    )
    g.add_argument("--gate-floor", type=float, help="bless only when the gate metric >= this")
    g.add_argument(
        "--regression-tolerance",
        type=float,
        help="bless only when the gate metric is not lower than the last blessed model's by "
        "more than this",
    )
    g.add_argument("--model-name", help="pushed to <output-root>/serving/<model-name>/<version>")
    g.add_argument("--top-n", type=int, help="items returned by the recommend signature")
    g = p.add_argument_group("runner")
    g.add_argument("--runner", choices=("local", "beam", "kubeflow_v2"))
    g.add_argument(
        "--output-root", help="pipeline root, ML Metadata and pushed models (default sair_output)"
    )
    g.add_argument("--name", help="pipeline name (default sair)")
    g.add_argument("--no-cache", action="store_true", help="rerun every component")
    g.add_argument("--image", help="kubeflow_v2: the pipeline image")
    g.add_argument("--project", help="kubeflow_v2 / Vertex AI project")
    g.add_argument("--region", help="kubeflow_v2 / Vertex AI region")
    g.add_argument("--service-account", help="kubeflow_v2 / Vertex AI service account")
    p.add_argument("--report", help="write the run report (JSON) here")
    p.add_argument(
        "--verbose",
        action="store_true",
        help="print the logs of TFX, Beam and TensorFlow too (otherwise in <output-root>/logs/)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("ingest", help="run the ingestion alone and print the data report")
    _add_source_args(p)
    _add_data_config_args(p)
    p.add_argument(
        "--output",
        required=True,
        help="output folder: examples/, vocabulary/, schema/, data_report.json, logs/",
    )
    p.add_argument("--verbose", action="store_true", help="print Beam's logs too")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("download", help="download a MovieLens archive (checksum-verified)")
    p.add_argument("--dataset", choices=("ml-100k", "ml-1m", "ml-20m"), required=True)
    p.add_argument("--cache-dir", help="default ~/.cache/sair/movielens or $SAIR_CACHE_DIR")
    p.set_defaults(func=cmd_download)

    from components.sequence_gen.synthetic import SyntheticConfig

    s = SyntheticConfig()
    p = sub.add_parser("synthesize", help="write a seeded synthetic interaction log")
    p.add_argument("--output", required=True, help="folder for interactions.csv and items.csv")
    p.add_argument("--users", type=int, default=s.num_users)
    p.add_argument("--items", type=int, default=s.num_items)
    p.add_argument("--categories", type=int, default=s.num_categories)
    p.add_argument("--mean-length", type=float, default=s.mean_length)
    p.add_argument("--seed", type=int, default=s.seed)
    p.set_defaults(func=cmd_synthesize)

    p = sub.add_parser(
        "recommend", help="top-N for every user from a saved model (TFRecord and CSV)"
    )
    p.add_argument(
        "--model", required=True, help="a pushed model: <output-root>/serving/<name>/<version>"
    )
    p.add_argument(
        "--examples", required=True, help="the examples folder of `ingest` (or SequenceExampleGen)"
    )
    p.add_argument("--output", required=True, help="folder for tfrecord/, csv/ and users.txt")
    p.add_argument("--batch-size", type=int, default=256, help="users per model call")
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser(
        "heatmap", help="PNG of a history's interests before/after the interaction layer"
    )
    p.add_argument("--model", required=True, help="a saved (pushed) sair model folder")
    p.add_argument("--history", help="raw item ids, oldest first, comma-separated")
    p.add_argument("--user", help="a user id to look up in --examples (their full history)")
    p.add_argument("--examples", help="the examples folder of `ingest` (or SequenceExampleGen)")
    p.add_argument("--positions", type=int, default=50, help="the last N positions shown")
    p.add_argument("--output", required=True, help="the PNG file to write")
    p.set_defaults(func=cmd_heatmap)
    return parser


def main(argv: list[str] | None = None) -> int:
    from components.sequence_gen.config import ConfigError
    from components.sequence_gen.movielens import DownloadError
    from components.sequence_gen.report import IngestionError
    from components.sequence_gen.sources import InputError
    from pipeline.config import PipelineConfigError

    argv = list(sys.argv[1:] if argv is None else argv)
    beam_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, beam_args = argv[:cut], argv[cut + 1 :]
    args = build_parser().parse_args(argv)
    from pipeline import console
    from pipeline.config import check_beam_runner

    console.quiet_environment(getattr(args, "verbose", False))
    try:
        check_beam_runner(beam_args)
        return args.func(args, beam_args)
    except (ConfigError, InputError, IngestionError, DownloadError, PipelineConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
