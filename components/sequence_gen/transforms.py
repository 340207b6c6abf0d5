"""The Beam transforms of the ingestion, one concept each (docs/MODEL.md, data).

read (validate & count) → user histories (stable time order, duplicates out) → vocabularies
→ leave-one-out with truncation → evaluation negatives → tf.Example; the training split's
item counts (the popularity baseline) beside them.
"""

from __future__ import annotations

import bisect
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
NOT_HELD_OUT = "not_held_out"
K_CORE_REMOVED = "k_core_removed"
K_CORE_MAX_ROUNDS = 12


class UserChunk(NamedTuple):
    """One user's valid rows from one chunk of input, as columns."""

    times: list[float]
    row_ids: list[int]
    items: list[str]


class UserHistory(NamedTuple):
    """One user's kept interactions in stable time order (raw item ids, their times)."""

    user: str
    items: list[str]
    times: list[float] = []


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
        items, times = [], []
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
            times.append(t)
        yield UserHistory(user, items, times)


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


# --------------------------------------------------------------------------- k-core


def k_core_round(
    history: UserHistory, item_counts: Mapping[str, int], min_user: int, min_item: int
) -> Iterator:
    """One round of k-core filtering of one user: their interactions with items of fewer
    than `min_item` interactions go, then the user if fewer than `min_user` remain. Main:
    the kept UserHistory; `k_core_removed`: (reason, rows removed)."""
    keep = [j for j, item in enumerate(history.items) if item_counts.get(item, 0) >= min_item]
    if len(keep) < len(history.items):
        yield pvalue.TaggedOutput(
            K_CORE_REMOVED, (sources.ITEM_BELOW_MIN, len(history.items) - len(keep))
        )
    if len(keep) < min_user:
        if keep:
            yield pvalue.TaggedOutput(K_CORE_REMOVED, (sources.USER_BELOW_MIN, len(keep)))
        return
    if len(keep) == len(history.items):
        yield history
    else:
        times = history.times
        yield UserHistory(
            history.user,
            [history.items[j] for j in keep],
            [times[j] for j in keep] if times else [],
        )


def k_core_violations(
    history: UserHistory, item_counts: Mapping[str, int], min_user: int, min_item: int
) -> int:
    """The rows of this user a k-core round would remove (0 at the fixed point)."""
    keep = sum(1 for item in history.items if item_counts.get(item, 0) >= min_item)
    return len(history.items) - keep + (keep if keep < min_user else 0)


@beam.ptransform_fn
def KCoreFilter(  # noqa: N802
    histories: beam.PCollection[UserHistory],
    min_user_interactions: int,
    min_item_interactions: int,
    max_rounds: int = K_CORE_MAX_ROUNDS,
) -> tuple[beam.PCollection, beam.PCollection, beam.PCollection]:
    """UserHistory → (kept UserHistory, removed rows per reason as (reason, count), one
    bool: whether the result is stable, i.e. every kept user and item has enough
    interactions). Rounds (item counts, then filtering) are repeated `max_rounds` times; a
    round after the fixed point removes nothing."""
    removed = []
    current = histories
    for r in range(max_rounds + 1):
        counts = beam.pvalue.AsSingleton(
            current
            | f"Items{r}" >> beam.Map(lambda h: h.items)
            | f"CountItems{r}" >> beam.CombineGlobally(_CountsFn())
        )
        if r == max_rounds:
            # One more count, only to check the fixed point: a round would remove nothing.
            stable = (
                current
                | "WouldRemove"
                >> beam.Map(
                    k_core_violations,
                    counts,
                    min_user_interactions,
                    min_item_interactions,
                )
                | "SumWouldRemove" >> beam.CombineGlobally(sum)
                | "Stable" >> beam.Map(lambda n: n == 0)
            )
            break
        out = current | f"Round{r}" >> beam.ParDo(
            _KCoreRoundFn(min_user_interactions, min_item_interactions), counts
        ).with_outputs(K_CORE_REMOVED, main="kept")
        removed.append(out[K_CORE_REMOVED])
        current = out.kept
    totals = (
        removed | "AllRemoved" >> beam.Flatten() | "RemovedPerReason" >> beam.CombinePerKey(sum)
    )
    return current, totals, stable


class _KCoreRoundFn(beam.DoFn):
    def __init__(self, min_user: int, min_item: int):
        self._min_user = min_user
        self._min_item = min_item

    def process(self, history: UserHistory, item_counts: Mapping[str, int]) -> Iterator:
        yield from k_core_round(history, item_counts, self._min_user, self._min_item)


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


def training_windows(train: list[int], max_len: int, windows: str = "last") -> list[list[int]]:
    """The training examples of one user's training items (`DataConfig.training_windows`):
    "last", its most recent `max_len`; "all", windows of `max_len` cut from the end, each
    older window ending with the first item of the newer one, so every item but the first is
    a target once; an older window of a single item (no target) is not made. A history of at
    most `max_len` items is one example either way. Most recent first.

      training_windows([1, 2, 3, 4, 5, 6], 3, "all")  # [[4, 5, 6], [2, 3, 4], [1, 2]]
    """
    if windows == "last" or len(train) <= max_len:
        return [train[-max_len:]] if train else []
    if max_len < 2:
        raise ValueError(f'training_windows "all" needs max_len >= 2, got {max_len}')
    out = []
    end = len(train)
    while end >= 2:
        out.append(train[max(0, end - max_len) : end])
        end -= max_len - 1
    return out


def temporal_split(
    items: list[int], n_train: int, n_test: int, max_len: int
) -> tuple[list[int], tuple[list[int], int] | None, tuple[list[int], int] | None]:
    """(train prefix, (eval history, eval target), (test history, test target)) of a split in
    time, from a user's items in time order: `n_train` of them come before the validation
    cutoff, `n_test` before the test cutoff. The validation target is the first item of the
    validation period, the test target the first of the test period; each history holds
    every item before its target, the most recent `max_len`. A target without any history
    before it, or a period without an item, gives no case."""
    train = items[:n_train]
    val = (train[-max_len:], items[n_train]) if 0 < n_train < n_test else None
    test = (items[:n_test][-max_len:], items[n_test]) if 0 < n_test < len(items) else None
    return train[-max_len:], val, test


def not_held_out_reasons(n: int, n_train: int, n_test: int) -> list[str]:
    """Why a user of the temporal split has no validation or no test case."""
    reasons = []
    if n_train == n_test:
        reasons.append(f"{features.SPLIT_EVAL}_no_interaction_in_period")
    elif n_train == 0:
        reasons.append(f"{features.SPLIT_EVAL}_no_history_before_target")
    if n_test == n:
        reasons.append(f"{features.SPLIT_TEST}_no_interaction_in_period")
    elif n_test == 0:
        reasons.append(f"{features.SPLIT_TEST}_no_history_before_target")
    return reasons


class _SplitFn(beam.DoFn):
    def __init__(
        self, max_len: int | None, min_eval_interactions: int, training_windows: str = "last"
    ):
        self._max_len = max_len
        self._min_eval = min_eval_interactions
        self._windows = training_windows
        self._cache: tuple[int, dict[str, int]] | None = None

    def _index(self, vocab: Vocabulary) -> dict[str, int]:
        if self._cache is None or self._cache[0] != id(vocab):
            self._cache = (id(vocab), vocab.item_index())
        return self._cache[1]

    def process(
        self,
        history: UserHistory,
        vocab: Vocabulary,
        max_len: int | None = None,
        cutoffs: tuple[float, float] | None = None,
    ) -> Iterator:
        index = self._index(vocab)
        items = [index[i] for i in history.items]
        max_len = max_len or self._max_len
        n = len(items)
        if cutoffs is None:  # leave-one-out
            train, val, test = leave_one_out(items, max_len, self._min_eval)
            if val is None:
                yield pvalue.TaggedOutput(TRAIN_ONLY, "fewer_than_min_interactions")
            n_train, n_test = (n - 2, n - 1) if val is not None else (n, n)
        else:
            n_train, n_test = (bisect.bisect_left(history.times, c) for c in cutoffs)
            train, val, test = temporal_split(items, n_train, n_test, max_len)
            for reason in not_held_out_reasons(n, n_train, n_test):
                yield pvalue.TaggedOutput(NOT_HELD_OUT, reason)
        if train and self._windows != "last":  # the whole training part, in windows
            train = items[:n_train]
        refused = False
        for window in training_windows(train, max_len, self._windows):
            if len(set(window)) >= vocab.num_items:
                refused = True  # no item outside the window to draw a training negative from
            else:
                yield pvalue.TaggedOutput(features.SPLIT_TRAIN, TrainSequence(history.user, window))
        if refused:  # once per user, however many of its windows
            yield pvalue.TaggedOutput(REFUSED, "training_sequence_holds_every_item")
        yield pvalue.TaggedOutput(TRAIN_ITEMS, items[:n_train])
        seen = sorted(set(items))
        for split, case, position in (
            (features.SPLIT_EVAL, val, n_train),
            (features.SPLIT_TEST, test, n_test),
        ):
            if case is not None:
                yield pvalue.TaggedOutput(
                    split,
                    HeldOut(history.user, *case, seen, position, sorted(set(items[:position]))),
                )


@beam.ptransform_fn
def SplitHistories(  # noqa: N802
    histories: beam.PCollection[UserHistory],
    vocabulary: beam.PCollection[Vocabulary],
    max_len: int | beam.pvalue.AsSingleton,
    min_eval_interactions: int,
    cutoffs: beam.pvalue.AsSingleton | None = None,
    training_windows: str = "last",
) -> pvalue.DoOutputsTuple:
    """UserHistory → `train`: TrainSequence; `eval`, `test`: HeldOut; `train_items`: the
    item indices of each user's training part, untruncated; `refused`: the reason a user
    has no training example (its sequence holds every item, so no negative can be drawn
    for it; the user is still evaluated).

    Without `cutoffs`: leave-one-out, `train_only` counts the users too short to hold out.
    With `cutoffs` (a singleton side input of two times, validation then test): the
    temporal split, `not_held_out` counts why users lack a validation or test case.
    `max_len`: an integer, or a singleton side input (the one `max_len="auto"` chose).
    `training_windows`: "last" (one example per user) or "all" (`training_windows`)."""
    fixed = max_len if isinstance(max_len, int) else None
    side = {} if fixed is not None else {"max_len": max_len}
    if cutoffs is not None:
        side["cutoffs"] = cutoffs
    return histories | "Split" >> beam.ParDo(
        _SplitFn(fixed, min_eval_interactions, training_windows),
        vocab=beam.pvalue.AsSingleton(vocabulary),
        **side,
    ).with_outputs(
        features.SPLIT_TRAIN,
        features.SPLIT_EVAL,
        features.SPLIT_TEST,
        TRAIN_ONLY,
        NOT_HELD_OUT,
        TRAIN_ITEMS,
        REFUSED,
    )


@beam.ptransform_fn
def TemporalCutoffs(  # noqa: N802
    histories: beam.PCollection[UserHistory], fractions: tuple[float, float]
) -> beam.PCollection[tuple[float, float]]:
    """The given quantiles of all interactions' times (the `fractions` of the interactions
    come before each, to within one interaction), to 0.1% from Beam's approximate quantiles
    (exact on logs of up to some ten thousand interactions)."""
    resolution = 1000

    def pick(quantiles: list[float]) -> tuple[float, float]:
        return tuple(quantiles[round(f * resolution)] for f in fractions)

    return (
        histories
        | "Times" >> beam.FlatMap(lambda h: h.times)
        | "Quantiles" >> beam.ApproximateQuantiles.Globally(resolution + 1)
        | "Pick" >> beam.Map(pick)
    )


@beam.ptransform_fn
def CountTrainItems(  # noqa: N802
    train_items: beam.PCollection[list[int]],
) -> beam.PCollection[dict[int, int]]:
    """The `train_items` of `SplitHistories` → one {item index: interactions in the
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


def to_tf_example(
    record: TrainSequence | EvalSequence, item_ids: tuple[str, ...] | None = None
) -> bytes:
    """A serialized tf.train.Example with the feature names of `sair_keras.features`.

    `item_ids` (the vocabulary's items, index `FIRST_ITEM_INDEX` first): an evaluation
    example also carries its items as raw ids, which any model maps to its own indices."""
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
        if item_ids is not None:

            def raw(indices):
                return [item_ids[i - features.FIRST_ITEM_INDEX].encode("utf-8") for i in indices]

            feats[features.ITEM_SEQ_IDS].bytes_list.value.extend(raw(record.item_seq))
            feats[features.TARGET_ID].bytes_list.value.extend(raw([record.target]))
            feats[features.NEGATIVE_IDS].bytes_list.value.extend(raw(record.negatives))
            feats[features.SEEN_ITEM_IDS].bytes_list.value.extend(raw(record.seen_items))
    return ex.SerializeToString()
