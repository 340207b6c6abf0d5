"""Batch recommendations: top-N for every user from a pushed SavedModel, as one Beam pipeline.

Shared by the BatchRecommender component and `pipeline_runner.py recommend`.

A user's history is rebuilt from the examples: the test example's `item_seq` window followed
by its `target`, after the items of its `seen_items` that the window does not hold (the
user's earlier items, whose order the examples do not keep), so that the model reads the
most recent items and every item the user ever interacted with is excluded; for users too
short to be held out, their training sequence. The SavedModel's `recommend` signature takes
raw ids, reads the last `max_len` of them and never returns an item of the history.

Outputs under `output_dir`:
  tfrecord/recommendations-*.tfrecord.gz   tf.train.Example: user_id (bytes),
                                           item_ids (bytes list, best first), scores (floats)
  csv/recommendations-*.csv                user_id,rank,item_id,score (rank 1 = best)
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

import apache_beam as beam

from sair_keras import features

CSV_HEADER = "user_id,rank,item_id,score"
TFRECORD_DIR = "tfrecord"
CSV_DIR = "csv"
RECOMMEND_SIGNATURE = "recommend"
USERS_FILE = "users.txt"  # the number of users recommended for


class UserHistory(NamedTuple):
    user_id: str
    item_ids: tuple[str, ...]  # raw ids, oldest first


class Recommendation(NamedTuple):
    user_id: str
    item_ids: tuple[str, ...]  # best first
    scores: tuple[float, ...]


class HeldOutHistory(NamedTuple):
    """A test example's history in item indices."""

    item_seq: tuple[int, ...]  # the most recent max_len items before the target
    target: int
    seen_items: tuple[int, ...] = ()  # every item before the target (any order)


def _parse(record: bytes) -> tuple[str, tuple[int, ...] | HeldOutHistory]:
    """(user, training sequence) or (user, HeldOutHistory) for a test example."""
    from tensorflow.core.example import example_pb2

    ex = example_pb2.Example.FromString(record)
    feats = ex.features.feature
    user = feats[features.USER_ID].bytes_list.value[0].decode()
    seq = tuple(feats[features.ITEM_SEQ].int64_list.value)
    if features.TARGET not in feats:
        return user, seq
    seen = (
        tuple(feats[features.SEEN_ITEMS].int64_list.value) if features.SEEN_ITEMS in feats else ()
    )
    return user, HeldOutHistory(seq, feats[features.TARGET].int64_list.value[0], seen)


class _HistoryFn(beam.DoFn):
    """(user, {"test": [...], "train": [...]}) → UserHistory with raw ids."""

    def __init__(self, item_ids: list[str]):
        self._item_ids = item_ids

    def process(self, element: tuple[str, dict[str, list]]) -> Iterator[UserHistory]:
        user, grouped = element
        test = grouped["test"][0] if grouped["test"] else None
        train = grouped["train"][0] if grouped["train"] else ()
        ids = full_history(test, train, self._item_ids)
        if ids:
            yield UserHistory(user, ids)


def full_history(
    test: HeldOutHistory | None, train: tuple[int, ...], item_ids: Sequence[str]
) -> tuple[str, ...]:
    """Raw ids of everything the user did, the most recent last: the seen items outside
    the test window, the window and its target; or (for users too short to be held out)
    the training sequence."""
    if test is None:
        indices = train
    else:
        window = set(test.item_seq)
        earlier = tuple(i for i in test.seen_items if i not in window)
        indices = (*earlier, *test.item_seq, test.target)
    return tuple(item_ids[i] for i in indices if i >= features.FIRST_ITEM_INDEX)


def find_user_history(examples_dir: str, user_id: str, item_ids: Sequence[str]) -> tuple[str, ...]:
    """One user's full history, read from the examples without Beam (e.g. for heat maps)."""
    import tensorflow as tf

    found: dict[str, tuple] = {}
    for split in (features.SPLIT_TEST, features.SPLIT_TRAIN):
        pattern = posixpath.join(examples_dir, f"Split-{split}", "*")
        files = tf.io.gfile.glob(pattern)
        for raw in tf.data.TFRecordDataset(files, compression_type="GZIP"):
            user, history = _parse(raw.numpy())
            if user == user_id:
                found[split] = history
                break
        if features.SPLIT_TEST in found:
            break
    if not found:
        raise KeyError(f"user {user_id!r} is not in {examples_dir}")
    return full_history(
        found.get(features.SPLIT_TEST), found.get(features.SPLIT_TRAIN, ()), item_ids
    )


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.pvalue.PBegin)
@beam.typehints.with_output_types(UserHistory)
def ReadUserHistories(  # noqa: N802 (Beam transform names are CamelCase)
    root: beam.pvalue.PBegin, examples_dir: str, item_ids: list[str]
) -> beam.PCollection[UserHistory]:
    """Every user's full history (raw ids, oldest first) from the examples' train and test
    splits; users whose history has no known item are dropped."""

    def read(split: str):
        pattern = posixpath.join(examples_dir, f"Split-{split}", "*")
        return (
            root
            | f"Read{split.title()}"
            >> beam.io.ReadFromTFRecord(pattern, coder=beam.coders.BytesCoder())
            | f"Parse{split.title()}" >> beam.Map(_parse)
        )

    test = read(features.SPLIT_TEST)
    train = read(features.SPLIT_TRAIN)
    return (
        {"test": test, "train": train}
        | "GroupByUser" >> beam.CoGroupByKey()
        | "ToHistory" >> beam.ParDo(_HistoryFn(item_ids))
    )


class _RecommendFn(beam.DoFn):
    """Loads the SavedModel once per worker; scores batches of users through `recommend`."""

    def __init__(self, model_dir: str):
        self._model_dir = model_dir

    def setup(self):
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        import tensorflow as tf

        self._tf = tf
        self._recommend = tf.saved_model.load(self._model_dir).signatures[RECOMMEND_SIGNATURE]

    def process(self, batch: list[UserHistory]) -> Iterator[Recommendation]:
        width = max(len(h.item_ids) for h in batch)
        padded = [("",) * (width - len(h.item_ids)) + h.item_ids for h in batch]
        out = self._recommend(history=self._tf.constant(padded, self._tf.string))
        ids = out["item_ids"].numpy()
        scores = out["scores"].numpy()
        for h, row_ids, row_scores in zip(batch, ids, scores, strict=True):
            # Slots beyond the user's unseen items come back empty: left out.
            kept = [(i.decode(), float(s)) for i, s in zip(row_ids, row_scores, strict=True) if i]
            yield Recommendation(
                h.user_id,
                tuple(i for i, _ in kept),
                tuple(round(s, 6) for _, s in kept),
            )


@beam.ptransform_fn
@beam.typehints.with_input_types(UserHistory)
@beam.typehints.with_output_types(Recommendation)
def RecommendTopN(  # noqa: N802
    histories: beam.PCollection[UserHistory], model_dir: str, batch_size: int = 256
) -> beam.PCollection[Recommendation]:
    """Top-N (N fixed at export) per user from the SavedModel at `model_dir`."""
    return (
        histories
        | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=batch_size)
        | "Recommend" >> beam.ParDo(_RecommendFn(model_dir))
    )


def to_tf_example(rec: Recommendation) -> bytes:
    from tensorflow.core.example import example_pb2

    ex = example_pb2.Example()
    f = ex.features.feature
    f[features.USER_ID].bytes_list.value.append(rec.user_id.encode())
    f["item_ids"].bytes_list.value.extend(i.encode() for i in rec.item_ids)
    f["scores"].float_list.value.extend(rec.scores)
    return ex.SerializeToString()


def _csv_field(value: str) -> str:
    if any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def to_csv_lines(rec: Recommendation) -> Iterable[str]:
    for rank, (item, score) in enumerate(zip(rec.item_ids, rec.scores, strict=True), start=1):
        yield f"{_csv_field(rec.user_id)},{rank},{_csv_field(item)},{score}"


@beam.ptransform_fn
@beam.typehints.with_input_types(Recommendation)
def WriteRecommendations(  # noqa: N802
    recs: beam.PCollection[Recommendation], output_dir: str
) -> beam.pvalue.PDone:
    """TFRecord (gzip) and CSV under `output_dir` (see the module docstring)."""
    _ = (
        recs
        | "ToExample" >> beam.Map(to_tf_example)
        | "WriteTFRecord"
        >> beam.io.WriteToTFRecord(
            posixpath.join(output_dir, TFRECORD_DIR, "recommendations"),
            file_name_suffix=".tfrecord.gz",
        )
    )
    return (
        recs
        | "ToCsv" >> beam.FlatMap(to_csv_lines)
        | "WriteCsv"
        >> beam.io.WriteToText(
            posixpath.join(output_dir, CSV_DIR, "recommendations"),
            file_name_suffix=".csv",
            header=CSV_HEADER,
        )
    )


class _Count(beam.DoFn):
    def process(self, n: int, path: str):
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.create(path) as f:
            f.write(str(n).encode())


def build_pipeline(
    pipeline: beam.Pipeline,
    examples_dir: str,
    model_dir: str,
    output_dir: str,
    item_ids: list[str],
    batch_size: int = 256,
) -> None:
    recs = (
        pipeline
        | "ReadUserHistories" >> ReadUserHistories(examples_dir, item_ids)
        | "RecommendTopN" >> RecommendTopN(model_dir, batch_size)
    )
    _ = recs | "Write" >> WriteRecommendations(output_dir)
    _ = (
        recs
        | "CountUsers" >> beam.combiners.Count.Globally()
        | "WriteCount" >> beam.ParDo(_Count(), posixpath.join(output_dir, USERS_FILE))
    )


def run_batch_recommendation(
    examples_dir: str,
    model_dir: str,
    output_dir: str,
    make_pipeline: Callable[[], beam.Pipeline],
    batch_size: int = 256,
) -> int:
    """Runs the pipeline; returns the number of users recommended for."""
    from apache_beam.io.filesystems import FileSystems

    from sair_keras.catalog import Catalog

    catalog = Catalog.load(posixpath.join(examples_dir, features.VOCABULARY_SUBDIR))
    with make_pipeline() as p:
        build_pipeline(p, examples_dir, model_dir, output_dir, list(catalog.item_ids), batch_size)
    with FileSystems.open(posixpath.join(output_dir, USERS_FILE)) as f:
        return int(f.read().decode())
