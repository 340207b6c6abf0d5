#!/usr/bin/env python3
"""Command line of the SAIR pipeline.

  ingest      read interactions, build the leave-one-out sequence examples, print the data report
  download    fetch a MovieLens archive into the cache (checksum-verified)
  synthesize  write a seeded synthetic interaction log (the demo's and the tests' data)

Arguments after a lone `--` go to Apache Beam, e.g. `-- --runner=DataflowRunner --project=P
--region=R --temp_location=gs://B/tmp`, or `-- --direct_running_mode=in_memory`. Without
them the local DirectRunner uses one worker process per core.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # before anything imports TensorFlow

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)

DATASETS = ("synthetic", "ml-100k", "ml-1m", "ml-20m", "csv")
DEFAULT_BEAM_ARGS = ("--direct_running_mode=multi_processing", "--direct_num_workers=0")


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


def _log(msg: str) -> None:
    print(f"[sair {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cmd_ingest(args: argparse.Namespace, beam_args: list[str]) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from components.sequence_gen import ingest, report
    from components.sequence_gen.config import DataConfig

    out = Path(args.output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    source = _source_from_args(args, out)
    config = DataConfig(
        min_rating=args.min_rating,
        max_len=args.max_len,
        num_eval_negatives=args.num_eval_negatives,
        seed=args.seed,
        max_rejected_fraction=args.max_rejected_fraction,
    )
    options = PipelineOptions(list(beam_args) or list(DEFAULT_BEAM_ARGS))
    _log(f"ingesting {source.name} from {', '.join(source.paths)}")
    start = time.monotonic()
    result = ingest.run_ingestion(
        source, config, ingest.IngestOutputs.under(str(out)), lambda: beam.Pipeline(options=options)
    )
    _log(f"ingestion done in {time.monotonic() - start:.1f} s; outputs in {out}")
    print(report.format_table(result))
    print(f"data report: {out / report.REPORT_FILE}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline_runner.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="run the ingestion alone and print the data report")
    _add_source_args(p)
    _add_data_config_args(p)
    p.add_argument(
        "--output",
        required=True,
        help="output folder: examples/, vocabulary/, schema/, data_report.json",
    )
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
    return parser


def main(argv: list[str] | None = None) -> int:
    from components.sequence_gen.config import ConfigError
    from components.sequence_gen.movielens import DownloadError
    from components.sequence_gen.report import IngestionError
    from components.sequence_gen.sources import InputError

    argv = list(sys.argv[1:] if argv is None else argv)
    beam_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, beam_args = argv[:cut], argv[cut + 1 :]
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, beam_args)
    except (ConfigError, InputError, IngestionError, DownloadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
