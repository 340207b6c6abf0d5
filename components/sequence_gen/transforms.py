"""The Beam transforms of the ingestion, one concept each (docs/MODEL.md, data).

read (validate & count) → user histories (stable time order, duplicates out) → vocabularies
→ leave-one-out with truncation → evaluation negatives → tf.Example; the training split's
item counts (the popularity baseline) beside them.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam import pvalue

from components.sequence_gen import sources
from components.sequence_gen.config import SourceConfig
from components.sequence_gen.sources import Columns, Rejection
from components.sequence_gen.vocabulary import Vocabulary
from sair_keras import features

# Tags of multi-output transforms.
REJECTED = "rejected"
ROWS_READ = "rows_read"
ITEM_CATEGORIES = "item_categories"
TRAIN_ONLY = "train_only"
TRAIN_ITEMS = "train_items"
REFUSED = "refused"


class UserChunk(NamedTuple):
    """One user's valid rows from one chunk of input, as columns."""

    times: list[float]
    row_ids: list[int]
    items: list[str]


class UserHistory(NamedTuple):
    """One user's kept interactions in stable time order (raw item ids)."""

    user: str
    items: list[str]


class TrainSequence(NamedTuple):
    user: str
    item_seq: list[int]


class HeldOut(NamedTuple):
    """A validation or test case before its negatives are drawn."""

    user: str
    item_seq: list[int]
    target: int
    seen: list[int]  # every item of the user's whole log: negatives are drawn outside it
    history_length: int = 0  # items before the target, before truncation
    seen_items: list[int] = []  # distinct items before the target (the whole history)


class EvalSequence(NamedTuple):
    user: str
    item_seq: list[int]
    target: int
    negatives: list[int]  # empty when the user has too few unseen items
    history_length: int = 0
    seen_items: list[int] = []


# --------------------------------------------------------------------------- reading


class _ReadFileFn(beam.DoFn):
    """Parses one input file; emits per-user chunks, rejections and row counts."""

    def __init__(
        self, source: SourceConfig, columns: list[Columns], min_rating: float, chunk_rows: int
    ):
        self._source = source
        self._columns = columns
        self._min_rating = min_rating
        self._chunk_rows = chunk_rows

    def process(self, shard: sources.Shard) -> Iterator:
        chunk: dict[str, UserChunk] = {}
        categories: dict[str, tuple[str, ...]] = {}
        read = 0
        rows = sources.iter_interactions(
            self._source, shard, self._columns[shard.file_index], self._min_rating
        )
        for row in rows:
            read += 1
            if row.rejection is not None:
                yield pvalue.TaggedOutput(REJECTED, row.rejection)
            else:
                it = row.interaction
                c = chunk.get(row.user)
                if c is None:
                    c = chunk[row.user] = UserChunk([], [], [])
                c.times.append(it.time)
                c.row_ids.append(it.row_id)
                c.items.append(it.item)
                if row.categories and it.item not in categories:
                    categories[it.item] = tuple(row.categories)
            if read % self._chunk_rows == 0:
                yield from _flush(chunk, categories, read)
                chunk, categories, read = {}, {}, 0
        yield from _flush(chunk, categories, read)


def _flush(chunk: dict, categories: dict, read: int) -> Iterator:
    yield from chunk.items()
    for item, cats in categories.items():
        yield pvalue.TaggedOutput(ITEM_CATEGORIES, (item, cats))
    if read:
        yield pvalue.TaggedOutput(ROWS_READ, read)


@beam.ptransform_fn
@beam.typehints.with_input_types(sources.Shard)
def ReadInteractions(  # noqa: N802 (Beam transform names are CamelCase)
    pcoll: beam.PCollection[sources.Shard],
    source: SourceConfig,
    columns: list[Columns],
    min_rating: float,
    chunk_rows: int = 100_000,
) -> pvalue.DoOutputsTuple:
    """Shards (see `sources.plan_shards`) → main: (user, UserChunk); `rejected`: Rejection;
    `rows_read`: int (one per chunk); `item_categories`: (item, categories) from the rows."""
    return (
        pcoll
        | "Spread" >> beam.Reshuffle()
        | "Parse"
        >> beam.ParDo(_ReadFileFn(source, columns, min_rating, chunk_rows)).with_outputs(
            REJECTED, ROWS_READ, ITEM_CATEGORIES, main="interactions"
        )
    )


# --------------------------------------------------------------------------- histories


class _BuildHistoryFn(beam.DoFn):
    def __init__(self, locate: sources.RowLocator):
        self._locate = locate

    def process(self, element: tuple[str, Iterable[UserChunk]]) -> Iterator:
        user, chunks = element
        rows = [
            (t, r, i)
            for chunk in chunks
            for t, r, i in zip(chunk.times, chunk.row_ids, chunk.items, strict=True)
        ]
        rows.sort(key=lambda row: (row[0], row[1]))  # time, then input order
        seen: set[tuple[str, float]] = set()
        items = []
        for t, r, i in rows:
            if (i, t) in seen:
                yield pvalue.TaggedOutput(
                    REJECTED,
                    Rejection(
                        sources.DUPLICATE,
                        r,
                        self._locate(r),
                        f"user={user} item={i} time={t:g}",
                    ),
                )
                continue
            seen.add((i, t))
            items.append(i)
        yield UserHistory(user, items)


@beam.ptransform_fn
def BuildUserHistories(  # noqa: N802
    pcoll: beam.PCollection, locate: sources.RowLocator
) -> pvalue.DoOutputsTuple:
    """(user, UserChunk) → main: UserHistory in stable time order (ties: input order);
    `rejected`: exact duplicates (same user, item and time), the first one kept."""
    return (
        pcoll
        | "GroupByUser" >> beam.GroupByKey()
        | "OrderAndDeduplicate"
        >> beam.ParDo(_BuildHistoryFn(locate)).with_outputs(REJECTED, main="histories")
    )


# --------------------------------------------------------------------------- vocabulary


class _CountsFn(beam.CombineFn):
    """Iterables of hashable values (item ids or indices) → {value: occurrences}."""

    def create_accumulator(self) -> Counter:
        return Counter()

    def add_input(self, acc: Counter, values: Iterable) -> Counter:
        acc.update(values)
        return acc

    def merge_accumulators(self, accs: Iterable[Counter]) -> Counter:
        out = Counter()
        for a in accs:
            out.update(a)
        return out

    def extract_output(self, acc: Counter) -> dict:
        return dict(acc)


def _union_categories(cats: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for group in cats for c in group))


@beam.ptransform_fn
def BuildVocabulary(  # noqa: N802
    histories: beam.PCollection[UserHistory],
    item_categories: beam.PCollection,
    catalog_items: beam.PCollection[str] | None = None,
) -> beam.PCollection[Vocabulary]:
    """UserHistory + (item, categories) → one Vocabulary (counts over kept interactions).

    With `catalog_items` (raw item ids, e.g. every row of the item table), those that no
    history mentions join the vocabulary with count 0."""
    counts = (
        histories
        | "HistoryItems" >> beam.Map(lambda h: h.items)
        | "CountItems" >> beam.CombineGlobally(_CountsFn())
    )
    cats = item_categories | "UnionCategories" >> beam.CombinePerKey(_union_categories)
    if catalog_items is None:
        catalog_items = histories.pipeline | "NoCatalogItems" >> beam.Create([])
    return counts | "Build" >> beam.Map(
        lambda c, cat_map, catalog: Vocabulary.build(c, cat_map, catalog),
        cat_map=beam.pvalue.AsDict(cats),
        catalog=beam.pvalue.AsList(catalog_items),
    )


# --------------------------------------------------------------------------- split


def auto_max_len(
    length_counts: Mapping[int, int], min_eval_interactions: int, percentile: int, cap: int
) -> int:
    """The `percentile`-th percentile of the training sequences' lengths (a held-out user's
    history without its validation and test items), at most `cap`, at least 1, from the
    number of users per history length."""
    train = {}
    for n, users in length_counts.items():
        length = n if n < min_eval_interactions else n - 2
        train[length] = train.get(length, 0) + users
    total = sum(train.values())
    if not total:
        return 1
    needed, seen = math.ceil(total * percentile / 100), 0
    for length in sorted(train):
        seen += train[length]
        if seen >= needed:
            return max(1, min(cap, length))
    return max(1, min(cap, max(train)))


@beam.ptransform_fn
def HistoryLengths(  # noqa: N802
    histories: beam.PCollection[UserHistory],
) -> beam.PCollection[dict[int, int]]:
    """One {history length: users} for the whole log (the data report's sequence
    statistics and `max_len="auto"` come from it)."""
    return (
        histories
        | "Length" >> beam.Map(lambda h: len(h.items))
        | "UsersPerLength" >> beam.combiners.Count.PerElement()
        | "ToDict" >> beam.combiners.ToDict()
    )


def leave_one_out(
    items: list[int], max_len: int, min_eval_interactions: int
) -> tuple[list[int], tuple[list[int], int] | None, tuple[list[int], int] | None]:
    """(train prefix, (eval history, eval target), (test history, test target)).

    The last item is the test target, the second to last the validation target, the rest
    train. Histories keep the most recent `max_len` items. A user with fewer than
    `min_eval_interactions` items has no validation or test case and trains on everything.
    """
    if len(items) < min_eval_interactions:
        return items[-max_len:], None, None
    train = items[:-2]
    return train[-max_len:], (train[-max_len:], items[-2]), (items[:-1][-max_len:], items[-1])


class _LeaveOneOutFn(beam.DoFn):
    def __init__(self, max_len: int | None, min_eval_interactions: int, num_eval_negatives: int):
        self._max_len = max_len
        self._min_eval = min_eval_interactions
        self._num_negatives = num_eval_negatives
        self._cache: tuple[int, dict[str, int]] | None = None

    def _index(self, vocab: Vocabulary) -> dict[str, int]:
        if self._cache is None or self._cache[0] != id(vocab):
            self._cache = (id(vocab), vocab.item_index())
        return self._cache[1]

    def process(
        self, history: UserHistory, vocab: Vocabulary, max_len: int | None = None
    ) -> Iterator:
        index = self._index(vocab)
        items = [index[i] for i in history.items]
        if len(items) < self._min_eval:
            yield pvalue.TaggedOutput(TRAIN_ONLY, "fewer_than_min_interactions")
        train, val, test = leave_one_out(items, max_len or self._max_len, self._min_eval)
        if len(set(train)) >= vocab.num_items:
            # No item outside the sequence to draw a training negative from.
            yield pvalue.TaggedOutput(REFUSED, "training_sequence_holds_every_item")
        else:
            yield pvalue.TaggedOutput(features.SPLIT_TRAIN, TrainSequence(history.user, train))
        if val is None:
            yield pvalue.TaggedOutput(TRAIN_ITEMS, items)
            return
        yield pvalue.TaggedOutput(TRAIN_ITEMS, items[:-2])
        seen = sorted(set(items))
        n = len(items)
        yield pvalue.TaggedOutput(
            features.SPLIT_EVAL,
            HeldOut(history.user, *val, seen, n - 2, sorted(set(items[:-2]))),
        )
        yield pvalue.TaggedOutput(
            features.SPLIT_TEST,
            HeldOut(history.user, *test, seen, n - 1, sorted(set(items[:-1]))),
        )


@beam.ptransform_fn
def SplitLeaveOneOut(  # noqa: N802
    histories: beam.PCollection[UserHistory],
    vocabulary: beam.PCollection[Vocabulary],
    max_len: int | beam.pvalue.AsSingleton,
    min_eval_interactions: int,
    num_eval_negatives: int,
) -> pvalue.DoOutputsTuple:
    """UserHistory → `train`: TrainSequence; `eval`, `test`: HeldOut; `train_only`: reason;
    `train_items`: the item indices of each user's training part, untruncated; `refused`:
    the reason a user has no training example (its sequence holds every item, so no
    negative can be drawn for it; the user is still evaluated). `max_len`: an integer, or
    a singleton side input (the one `max_len="auto"` chose)."""
    fixed = max_len if isinstance(max_len, int) else None
    side = {} if fixed is not None else {"max_len": max_len}
    return histories | "LeaveOneOut" >> beam.ParDo(
        _LeaveOneOutFn(fixed, min_eval_interactions, num_eval_negatives),
        vocab=beam.pvalue.AsSingleton(vocabulary),
        **side,
    ).with_outputs(
        features.SPLIT_TRAIN,
        features.SPLIT_EVAL,
        features.SPLIT_TEST,
        TRAIN_ONLY,
        TRAIN_ITEMS,
        REFUSED,
    )


@beam.ptransform_fn
def CountTrainItems(  # noqa: N802
    train_items: beam.PCollection[list[int]],
) -> beam.PCollection[dict[int, int]]:
    """The `train_items` of `SplitLeaveOneOut` → one {item index: interactions in the
    training split}: the popularity baseline, counted without the held-out items."""
    return train_items | "Count" >> beam.CombineGlobally(_CountsFn())


def train_counts_text(counts: dict[int, int], num_items: int) -> str:
    """`index \t count` for every index of the item vocabulary (padding and `[UNK]` 0)."""
    end = features.FIRST_ITEM_INDEX + num_items
    return "".join(
        f"{i}\t{counts.get(i, 0) if i >= features.FIRST_ITEM_INDEX else 0}\n" for i in range(end)
    )


# --------------------------------------------------------------------------- negatives


def stable_seed(seed: int, *keys: str) -> int:
    """A seed from `seed` and string keys that does not depend on PYTHONHASHSEED."""
    digest = hashlib.blake2b("\x1f".join((str(seed), *keys)).encode("utf-8"), digest_size=8)
    return int.from_bytes(digest.digest(), "little")


def sample_negatives(
    seen: Iterable[int], num_items: int, num_negatives: int, rng: np.random.Generator
) -> list[int]:
    """`num_negatives` distinct item indices drawn uniformly from the items not in `seen`."""
    seen = set(seen)
    first, end = features.FIRST_ITEM_INDEX, features.FIRST_ITEM_INDEX + num_items
    available = num_items - sum(1 for s in seen if first <= s < end)
    if available < num_negatives:
        raise ValueError(f"only {available} unseen items for {num_negatives} negatives")
    out: list[int] = []
    chosen: set[int] = set()
    while len(out) < num_negatives:
        for x in rng.integers(first, end, size=2 * (num_negatives - len(out)) + 8).tolist():
            if x not in seen and x not in chosen:
                chosen.add(x)
                out.append(x)
                if len(out) == num_negatives:
                    break
    return out


@beam.ptransform_fn
def SampleEvalNegatives(  # noqa: N802
    held_out: beam.PCollection[HeldOut],
    vocabulary: beam.PCollection[Vocabulary],
    num_negatives: int,
    seed: int,
    split: str,
) -> beam.PCollection[EvalSequence]:
    """HeldOut → EvalSequence with negatives seeded by (seed, split, user): the same input
    and seed give the same candidates whatever the runner or its parallelism. A user with
    fewer unseen items than `num_negatives` gets none (`without_negatives`): they are
    evaluated on the full catalog only."""

    def attach(case: HeldOut, vocab: Vocabulary) -> EvalSequence:
        negatives: list[int] = []
        if vocab.num_items - len(set(case.seen)) >= num_negatives:
            rng = np.random.default_rng(stable_seed(seed, split, case.user))
            negatives = sample_negatives(case.seen, vocab.num_items, num_negatives, rng)
        return EvalSequence(
            case.user,
            case.item_seq,
            case.target,
            negatives,
            case.history_length,
            case.seen_items,
        )

    return held_out | "Sample" >> beam.Map(attach, vocab=beam.pvalue.AsSingleton(vocabulary))


# --------------------------------------------------------------------------- examples


def to_tf_example(record: TrainSequence | EvalSequence) -> bytes:
    """A serialized tf.train.Example with the feature names of `sair_keras.features`."""
    from tensorflow.core.example import example_pb2

    ex = example_pb2.Example()
    feats = ex.features.feature
    feats[features.USER_ID].bytes_list.value.append(record.user.encode("utf-8"))
    feats[features.ITEM_SEQ].int64_list.value.extend(record.item_seq)
    if isinstance(record, EvalSequence):
        feats[features.TARGET].int64_list.value.append(record.target)
        feats[features.NEGATIVES].int64_list.value.extend(record.negatives)
        feats[features.SEEN_ITEMS].int64_list.value.extend(record.seen_items)
        feats[features.HISTORY_BUCKET].bytes_list.value.append(
            features.history_bucket(record.history_length).encode("utf-8")
        )
    return ex.SerializeToString()
