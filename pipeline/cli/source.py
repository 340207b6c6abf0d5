"""The input flags of `run` and `ingest`: a dataset shortcut, or a generic file's columns."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.cli.common import log

DATASETS = ("synthetic", "ml-100k", "ml-1m", "ml-20m", "csv")


def _column(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def add_source_args(p: argparse.ArgumentParser) -> None:
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
    g.add_argument(
        "--time-type",
        default="numeric",
        help="numeric, iso8601, or position (an order-only log: the column numbers each "
        "user's interactions)",
    )
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


def source_from_args(args: argparse.Namespace, work_dir: Path):
    """The `SourceConfig` the flags name; the synthetic demo's log is generated under
    `work_dir` and MovieLens downloaded to the cache when no folder is given."""
    from components.sequence_gen import movielens, synthetic
    from components.sequence_gen.config import ItemTable, SourceConfig
    from pipeline import configurator
    from sair_keras.config import ConfigError

    if args.dataset == "synthetic":
        directory = Path(args.data_dir) if args.data_dir else work_dir / "synthetic_input"
        if not (directory / synthetic.INTERACTIONS_FILE).exists():
            log(f"generating the synthetic log in {directory}")
            synthetic.generate(synthetic.SyntheticConfig(), directory)
        return synthetic.source_config(directory)
    if args.dataset in movielens.DATASETS:
        directory = args.data_dir
        if directory is None:
            log(f"downloading {args.dataset} (cached)")
            directory = movielens.download(args.dataset, args.cache_dir)
        return movielens.source_config(args.dataset, directory)
    if args.source_config:
        return SourceConfig.from_json(json.dumps(configurator.read_mapping(args.source_config)))
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
