"""tf.data input from the ingestion's TFRecords (the contract of `features.py`).

Sequences are left-padded (or cut to their most recent items) to `max_len`, so the most
recent item sits at the last slot in training and evaluation alike. Files are streamed:
nothing holds the whole dataset in memory.

No work on padding: training batches are formed from histories of similar length (every
`length_pool` batches' worth of shuffled histories are sorted by length, cut into batches,
and those batches shuffled again), and every batch drops the leading columns that are
padding in all its rows (`trim_padding`). The model reads positions from the right (the
most recent item is always at position `max_len - 1`), so a trimmed batch computes exactly
what the full-width one does at its real positions.
"""

from __future__ import annotations

import tensorflow as tf

from sair_keras import features

# Histories per evaluation batch: no gradients are kept, so larger than a training batch.
EVAL_BATCH_SIZE = 512


def left_pad(seq: tf.Tensor, max_len: int) -> tf.Tensor:
    """1-D int64 sequence → `[max_len]`: its last `max_len` items, zeros in front."""
    seq = seq[-max_len:]
    return tf.pad(seq, [[max_len - tf.shape(seq)[0], 0]])


def _files(file_pattern: str | list[str]) -> list[str]:
    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
    if not files:
        raise FileNotFoundError(f"no TFRecord files match {file_pattern}")
    return files


def _parser(max_len: int, evaluation: bool):
    spec = {
        features.USER_ID: tf.io.FixedLenFeature([], tf.string),
        features.ITEM_SEQ: tf.io.VarLenFeature(tf.int64),
    }
    if evaluation:
        spec[features.TARGET] = tf.io.FixedLenFeature([1], tf.int64)
        # Variable length: a user with too few unseen items has no negatives, and the seen
        # items are the whole history (examples written before they existed have none: the
        # ranking then excludes the `item_seq` window only).
        spec[features.NEGATIVES] = tf.io.VarLenFeature(tf.int64)
        spec[features.SEEN_ITEMS] = tf.io.VarLenFeature(tf.int64)

    def parse(record):
        ex = tf.io.parse_single_example(record, spec)
        ex[features.ITEM_SEQ] = left_pad(tf.sparse.to_dense(ex[features.ITEM_SEQ]), max_len)
        if evaluation:
            for name in (features.NEGATIVES, features.SEEN_ITEMS):
                ex[name] = tf.sparse.to_dense(ex[name])
        return ex

    return parse


PAD_WIDTH_MULTIPLE = 8  # trimmed widths are multiples of this: few distinct shapes


def real_lengths(item_seq: tf.Tensor) -> tf.Tensor:
    """`[B, N]` left-padded → `[B]` int32: the real items of each row."""
    return tf.reduce_sum(tf.cast(item_seq != features.PAD_INDEX, tf.int32), axis=1)


def trim_padding(batch: dict, multiple: int = PAD_WIDTH_MULTIPLE) -> dict:
    """Drops the leading columns of `item_seq` `[B, N]` that are padding in every row,
    keeping a width that is a multiple of `multiple` (at most N)."""
    seq = batch[features.ITEM_SEQ]
    n = tf.shape(seq)[1]
    longest = tf.reduce_max(real_lengths(seq))
    width = tf.minimum(n, tf.maximum(1, -(-longest // multiple)) * multiple)
    return {**batch, features.ITEM_SEQ: seq[:, n - width :]}


def _sort_by_length(batch: dict) -> dict:
    order = tf.argsort(real_lengths(batch[features.ITEM_SEQ]), stable=True)
    return {name: tf.gather(value, order) for name, value in batch.items()}


def _length_sorted_batches(
    ds: tf.data.Dataset, batch_size: int, pool: int, equal_positions: bool = False
) -> tf.data.Dataset:
    """Batches cut from pools of `pool · batch_size` examples, each pool ordered by history
    length (0-padded like `padded_batch`): `batch_size` examples each, or with
    `equal_positions` as many batches as that makes, each holding about the same number of
    real items (more short histories in a batch, fewer long ones), so that every real
    position weighs the same in the per-batch mean loss, as in batches of random
    composition. The pools are sliced, not unbatched: unbatching a zero-width feature (a
    catalog without negatives) crashes."""

    def batches_of(examples: dict) -> tf.data.Dataset:
        size = tf.shape(examples[features.ITEM_SEQ], out_type=tf.int64)[0]
        count = (size + batch_size - 1) // batch_size
        if equal_positions:
            cumulative = tf.cumsum(tf.cast(real_lengths(examples[features.ITEM_SEQ]), tf.int64))
            targets = cumulative[-1] * tf.range(1, count, dtype=tf.int64) // count
            inner = tf.searchsorted(cumulative, targets, side="left", out_type=tf.int64) + 1
            ends = tf.concat([tf.minimum(inner, size), [size]], axis=0)
        else:
            ends = tf.minimum(tf.range(1, count + 1, dtype=tf.int64) * batch_size, size)
        starts = tf.concat([[0], ends[:-1]], axis=0)
        bounds = tf.data.Dataset.from_tensor_slices((starts, ends))
        return bounds.filter(lambda start, end: end > start).map(
            lambda start, end: {k: v[start:end] for k, v in examples.items()}
        )

    return ds.padded_batch(batch_size * pool).map(_sort_by_length).flat_map(batches_of)


def _records(file_pattern) -> tf.data.Dataset:
    records = tf.data.TFRecordDataset(
        _files(file_pattern), compression_type="GZIP", num_parallel_reads=tf.data.AUTOTUNE
    )
    # Across workers (tf.distribute), every worker reads the same seeded order and each
    # global batch is split between them, whatever the number of files.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return records.with_options(options)


def train_dataset(
    file_pattern: str | list[str],
    batch_size: int,
    max_len: int,
    seed: int = 0,
    shuffle_buffer: int = 10_000,
    length_pool: int = 8,
) -> tf.data.Dataset:
    """Batches of `{user_id, item_seq [B, ≤ max_len]}`, reshuffled every epoch; each
    history once per epoch. Histories of similar length share a batch: every `length_pool`
    batches' worth are sorted by length and cut into as many batches of about equal real
    items, `batch_size` histories on average (with `length_pool=1`, `batch_size` histories
    in plain shuffled order). The all-padding leading columns of a batch are dropped
    (`trim_padding`)."""
    if length_pool < 1:
        raise ValueError(f"length_pool must be >= 1, got {length_pool}")
    ds = (
        _records(file_pattern)
        .shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        .map(_parser(max_len, False), num_parallel_calls=tf.data.AUTOTUNE)
    )
    if length_pool > 1:
        ds = _length_sorted_batches(ds, batch_size, length_pool, equal_positions=True).shuffle(
            length_pool, seed=seed, reshuffle_each_iteration=True
        )
    else:
        ds = ds.batch(batch_size)
    return ds.map(trim_padding).prefetch(tf.data.AUTOTUNE)


def eval_dataset(
    file_pattern: str | list[str],
    batch_size: int,
    max_len: int,
    length_pool: int = 8,
) -> tf.data.Dataset:
    """Batches of `{user_id, item_seq, target [B, 1], negatives [B, M], seen_items [B, S]}`;
    `negatives` and `seen_items` 0-padded to the longest row of the batch (a user without
    negatives has a row of padding). Every example once, in file order with
    `length_pool=1`; otherwise every `length_pool` batches' worth are ordered by history
    length, and each batch drops its all-padding leading `item_seq` columns
    (`trim_padding`), as in training."""
    if length_pool < 1:
        raise ValueError(f"length_pool must be >= 1, got {length_pool}")
    ds = _records(file_pattern).map(_parser(max_len, True), num_parallel_calls=tf.data.AUTOTUNE)
    if length_pool > 1:
        ds = _length_sorted_batches(ds, batch_size, length_pool)
    else:
        ds = ds.padded_batch(batch_size)
    return ds.map(trim_padding).prefetch(tf.data.AUTOTUNE)


def split_pattern(examples_dir: str, split: str) -> str:
    return f"{examples_dir}/Split-{split}/*"
