"""The ingestion as one Beam pipeline, shared by the TFX executor and `pipeline_runner.py ingest`.

Outputs (directories may be any Beam filesystem path):
  examples_dir/Split-{train,eval,test}/data_tfrecord-*.gz   tf.train.Example
  schema_dir/schema.pbtxt                                   tensorflow_metadata Schema
  vocabulary_dir/{items,categories}.tsv                     see vocabulary.py
  vocabulary_dir/train_counts.tsv                           item index \t training-split count
  examples_dir/vocabulary/                                  the same three, for the Trainer
  report_dir/data_report.json                               see report.py
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable
from typing import Any

import apache_beam as beam

from components.sequence_gen import fileio, sources, transforms
from components.sequence_gen import report as report_lib
from components.sequence_gen.config import (
    AUTO,
    AUTO_MAX_LEN_CAP,
    AUTO_MAX_LEN_PERCENTILE,
    DataConfig,
    SourceConfig,
)
from sair_keras import features

SCHEMA_FILE = "schema.pbtxt"


@dataclasses.dataclass(frozen=True)
class IngestOutputs:
    examples_dir: str
    schema_dir: str
    vocabulary_dir: str
    report_dir: str

    @classmethod
    def under(cls, root: str) -> IngestOutputs:
        return cls(*(posixpath.join(root, d) for d in ("examples", "schema", "vocabulary", "")))

    @property
    def report_path(self) -> str:
        return posixpath.join(self.report_dir, report_lib.REPORT_FILE)


def _count_per_element(pcoll: beam.PCollection, label: str) -> beam.pvalue.AsList:
    return beam.pvalue.AsList(pcoll | label >> beam.combiners.Count.PerElement())


def build_pipeline(
    p: beam.Pipeline,
    source: SourceConfig,
    config: DataConfig,
    columns: list[sources.Columns],
    outputs: IngestOutputs,
    chunk_rows: int = 100_000,
) -> None:
    """Adds the whole ingestion to `p`."""
    if config.item_catalog == "item_table" and source.items is None:
        raise sources.InputError(
            'item_catalog "item_table" needs an item table: the source has none (set its items)'
        )
    shards = sources.plan_shards(source)
    read = (
        p
        | "Shards" >> beam.Create(shards)
        | "Read" >> transforms.ReadInteractions(source, columns, config.min_rating, chunk_rows)
    )
    built = read.interactions | "Histories" >> transforms.BuildUserHistories(
        sources.locator(source, shards)
    )
    histories = built.histories
    k_core_side: dict[str, Any] = {}
    if config.k_core:
        histories, k_core_removed, k_core_stable = histories | "KCore" >> transforms.KCoreFilter(
            config.min_user_interactions, config.min_item_interactions
        )
        k_core_side = {
            "k_core_removed": beam.pvalue.AsList(k_core_removed),
            "k_core_stable": beam.pvalue.AsSingleton(k_core_stable),
        }

    item_categories = [read[transforms.ITEM_CATEGORIES]]
    item_rejections = p | "NoItemFile" >> beam.Create([])
    if source.items is not None:
        table = source.items
        item_rows = (
            p
            | "ItemFile" >> beam.Create([table])
            | "ReadItemFile" >> beam.FlatMap(sources.iter_item_table, source.id_type)
        )
        item_categories.append(
            item_rows
            | "ItemCategories"
            >> beam.Filter(lambda r: isinstance(r, tuple) and not isinstance(r, sources.Rejection))
        )
        item_rejections = item_rows | "ItemRejections" >> beam.Filter(
            lambda r: isinstance(r, sources.Rejection)
        )
    all_categories = item_categories | "MergeCategorySources" >> beam.Flatten()
    catalog_items = None
    if config.item_catalog == "item_table":
        catalog_items = item_categories[-1] | "CatalogItems" >> beam.Map(lambda r: r[0])
    vocab = histories | "Vocabulary" >> transforms.BuildVocabulary(all_categories, catalog_items)

    lengths = histories | "HistoryLengths" >> transforms.HistoryLengths()
    cutoffs = None
    if config.split == "temporal":
        if config.cutoff_unit == "fraction":
            cutoff_times = histories | "TemporalCutoffs" >> transforms.TemporalCutoffs(
                config.cutoffs()
            )
        else:
            cutoff_times = p | "CutoffTimes" >> beam.Create([config.cutoffs()])
        cutoffs = beam.pvalue.AsSingleton(cutoff_times)
    max_len: int | beam.pvalue.AsSingleton = config.max_len
    if config.max_len == AUTO:
        max_len = beam.pvalue.AsSingleton(
            lengths
            | "AutoMaxLen"
            >> beam.Map(
                transforms.auto_max_len,
                # The temporal split's training sequences are shorter than whole histories,
                # by an amount the lengths do not tell: whole histories are measured.
                config.min_eval_interactions if cutoffs is None else 2**31,
                AUTO_MAX_LEN_PERCENTILE,
                AUTO_MAX_LEN_CAP,
            )
        )
    split = histories | "Split" >> transforms.SplitHistories(
        vocab, max_len, config.min_eval_interactions, cutoffs, config.training_windows
    )
    split_counts = {}
    without_negatives = {}
    for name in features.SPLITS:
        records = split[name]
        if name != features.SPLIT_TRAIN:
            records = records | f"Negatives{name}" >> transforms.SampleEvalNegatives(
                vocab, config.num_eval_negatives, config.seed, name
            )
            without_negatives[name] = beam.pvalue.AsSingleton(
                records
                | f"WithoutNegatives{name}" >> beam.Filter(lambda r: not r.negatives)
                | f"CountWithoutNegatives{name}" >> beam.combiners.Count.Globally()
            )
        item_ids = {}
        if name != features.SPLIT_TRAIN:
            item_ids["item_ids"] = beam.pvalue.AsSingleton(
                vocab | f"ItemIds{name}" >> beam.Map(lambda v: v.items)
            )
        _ = (
            records
            | f"ToExample{name}" >> beam.Map(transforms.to_tf_example, **item_ids)
            | f"Write{name}"
            >> beam.io.WriteToTFRecord(
                posixpath.join(outputs.examples_dir, f"Split-{name}", "data_tfrecord"),
                file_name_suffix=".gz",
            )
        )
        split_counts[name] = beam.pvalue.AsSingleton(
            records | f"Count{name}" >> beam.combiners.Count.Globally()
        )

    vocabulary_dirs = (
        outputs.vocabulary_dir,
        # A copy beside the splits: TFX's Trainer takes no custom input artifact, so the
        # examples artifact carries the vocabulary its indices refer to.
        posixpath.join(outputs.examples_dir, features.VOCABULARY_SUBDIR),
    )
    train_counts = split[transforms.TRAIN_ITEMS] | "TrainCounts" >> transforms.CountTrainItems()

    def write_vocabulary(v, counts, length):
        for directory in vocabulary_dirs:
            v.write(directory)
            fileio.write_text(
                posixpath.join(directory, features.TRAIN_COUNTS_FILE),
                transforms.train_counts_text(counts, v.num_items),
            )
            fileio.write_text(posixpath.join(directory, features.MAX_LEN_FILE), f"{length}\n")

    _ = vocab | "WriteVocabulary" >> beam.Map(
        write_vocabulary, counts=beam.pvalue.AsSingleton(train_counts), length=max_len
    )

    rejected = (read[transforms.REJECTED], built[transforms.REJECTED]) | (
        "AllRejections" >> beam.Flatten()
    )

    def make_report(_, **side: Any) -> dict[str, Any]:
        if config.k_core:
            side["k_core"] = {
                "min_user_interactions": config.min_user_interactions,
                "min_item_interactions": config.min_item_interactions,
                "rounds": transforms.K_CORE_MAX_ROUNDS,
                "stable": side.pop("k_core_stable"),
            }
        if cutoffs is not None:
            val_time, test_time = side.pop("cutoff_times")
            side["split"] = {
                "protocol": "temporal",
                "val_cutoff": config.val_cutoff,
                "test_cutoff": config.test_cutoff,
                "cutoff_unit": config.cutoff_unit,
                "val_cutoff_time": val_time,
                "test_cutoff_time": test_time,
            }
        return report_lib.build_report(
            source_name=source.name,
            split_counts={name: side[f"n_{name}"] for name in features.SPLITS},
            users_without_sampled_negatives={name: side[f"w_{name}"] for name in without_negatives},
            exclude_seen=config.exclude_seen,
            max_len_setting=config.max_len,
            training_windows=config.training_windows,
            num_eval_negatives=config.num_eval_negatives,
            **{k: v for k, v in side.items() if not k.startswith(("n_", "w_"))},
        )

    _ = (
        p
        | "ReportSeed" >> beam.Create([None])
        | "Report"
        >> beam.Map(
            make_report,
            rows_read=beam.pvalue.AsSingleton(
                read[transforms.ROWS_READ] | "RowsRead" >> beam.CombineGlobally(sum)
            ),
            rejected=_count_per_element(
                rejected | "Reasons" >> beam.Map(lambda r: r.reason), "CountReasons"
            ),
            first_rejected=beam.pvalue.AsSingleton(
                rejected | "FirstRejected" >> beam.combiners.Top.Smallest(5, key=lambda r: r.row_id)
            ),
            length_counts=beam.pvalue.AsSingleton(lengths),
            max_len=max_len,
            vocab=beam.pvalue.AsSingleton(vocab),
            train_only=_count_per_element(split[transforms.TRAIN_ONLY], "CountTrainOnly"),
            refused=_count_per_element(split[transforms.REFUSED], "CountRefused"),
            not_held_out=_count_per_element(split[transforms.NOT_HELD_OUT], "CountNotHeldOut"),
            **k_core_side,
            **({"cutoff_times": cutoffs} if cutoffs is not None else {}),
            item_rows_rejected=_count_per_element(
                item_rejections | "ItemReasons" >> beam.Map(lambda r: r.reason), "CountItemRej"
            ),
            **{f"n_{name}": count for name, count in split_counts.items()},
            **{f"w_{name}": count for name, count in without_negatives.items()},
        )
        | "WriteReport" >> beam.Map(report_lib.write_report, outputs.report_path)
    )


def schema_text(num_eval_negatives: int) -> str:
    """The Examples' schema (tensorflow_metadata text format)."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = schema_pb2.Schema()

    def add(name, ftype, min_fraction, min_count=None, max_count=None):
        f = schema.feature.add(name=name, type=ftype)
        f.presence.min_fraction = min_fraction
        if min_count is not None:
            f.value_count.min = min_count
            f.value_count.max = max_count if max_count is not None else 0
        return f

    add(features.USER_ID, schema_pb2.BYTES, 1.0, 1, 1)
    add(features.ITEM_SEQ, schema_pb2.INT, 1.0, 1)
    # Only the eval and test splits carry a target, seen items and negatives; a user with
    # fewer unseen items than num_eval_negatives has none.
    add(features.TARGET, schema_pb2.INT, 0.0, 1, 1)
    add(features.SEEN_ITEMS, schema_pb2.INT, 0.0, 1)
    add(features.NEGATIVES, schema_pb2.INT, 0.0, 0, num_eval_negatives)
    add(features.HISTORY_BUCKET, schema_pb2.BYTES, 0.0, 1, 1)
    add(features.ITEM_SEQ_IDS, schema_pb2.BYTES, 0.0, 1)
    add(features.TARGET_ID, schema_pb2.BYTES, 0.0, 1, 1)
    add(features.NEGATIVE_IDS, schema_pb2.BYTES, 0.0, 0, num_eval_negatives)
    add(features.SEEN_ITEM_IDS, schema_pb2.BYTES, 0.0, 1)
    return text_format.MessageToString(schema)


def run_ingestion(
    source: SourceConfig,
    config: DataConfig,
    outputs: IngestOutputs,
    make_pipeline: Callable[[], beam.Pipeline],
    chunk_rows: int = 100_000,
) -> dict[str, Any]:
    """Checks the input, runs the Beam pipeline, writes the schema; returns the data report.

    Raises `sources.InputError` (before any Beam work) or `report.IngestionError` (after).
    """
    if config.split == "temporal" and source.time_type == "position":
        raise sources.InputError(
            f'split "temporal" needs times, but {source.name}\'s time column '
            f'({source.time_column!r}) holds positions (time_type "position"): an '
            "order-only log can only be split leave-one-out"
        )
    columns = sources.preflight(source)
    if source.items is not None:
        sources.preflight_item_table(source.items, source.id_type)
    with make_pipeline() as p:
        build_pipeline(p, source, config, columns, outputs, chunk_rows)
    fileio.ensure_dir(outputs.schema_dir)
    fileio.write_text(
        posixpath.join(outputs.schema_dir, SCHEMA_FILE), schema_text(config.num_eval_negatives)
    )
    report = report_lib.read_report(outputs.report_path)
    report_lib.check_report(report, config.max_rejected_fraction)
    return report
