"""Each ingestion transform in a TestPipeline, against expectations computed by hand."""

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from components.sequence_gen import sources, transforms
from components.sequence_gen.config import SourceConfig
from components.sequence_gen.transforms import EvalSequence, HeldOut, UserChunk, UserHistory
from components.sequence_gen.vocabulary import Vocabulary
from sair_keras import features


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(path)


def _source(path, **kw):
    kw.setdefault("rating_column", "rating")
    return SourceConfig(paths=(path,), format="csv", id_type="int", **kw)


def test_read_interactions_filters_and_counts_every_row(tmp_path):
    path = _write(
        tmp_path,
        "log.csv",
        b"user_id,item_id,timestamp,rating\n"
        b"1,10,100,4\n"  # kept
        b"1,11,90,-1\n"  # rating below 0
        b"2,10,50,\n"  # missing (NaN) rating
        b"2,10,50,nan\n"  # NaN rating
        b"x,10,50,3\n"  # non-numeric id
        b"2,12,yesterday,3\n"  # non-numeric time
        b"2,12\n"  # wrong field count
        b"2,\xe9,50,3\n"  # not UTF-8
        b"2,13,60,0\n",  # kept: 0 is a valid (non-negative) rating
    )
    source = _source(path)
    columns = sources.preflight(source)
    with TestPipeline() as p:
        out = (
            p
            | beam.Create([sources.Shard(0)])
            | transforms.ReadInteractions(source, columns, 0.0, 4)
        )
        kept = out.interactions | beam.FlatMap(
            lambda kv: [(kv[0], i, t) for i, t in zip(kv[1].items, kv[1].times, strict=True)]
        )
        assert_that(kept, equal_to([("1", "10", 100.0), ("2", "13", 60.0)]), label="kept")
        reasons = out[transforms.REJECTED] | beam.Map(lambda r: (r.reason, r.location))
        assert_that(
            reasons,
            equal_to(
                [
                    (sources.RATING_BELOW_MIN, f"{path}:3"),
                    (sources.NAN_RATING, f"{path}:4"),
                    (sources.NAN_RATING, f"{path}:5"),
                    (sources.NON_NUMERIC_ID, f"{path}:6"),
                    (sources.NON_NUMERIC_TIME, f"{path}:7"),
                    (sources.WRONG_FIELD_COUNT, f"{path}:8"),
                    (sources.INVALID_ENCODING, f"{path}:9"),
                ]
            ),
            label="rejected",
        )
        total = out[transforms.ROWS_READ] | beam.CombineGlobally(sum)
        assert_that(total, equal_to([9]), label="read")


def test_histories_order_by_time_then_input_order_and_drop_duplicates():
    chunks = [
        # Two chunks of the same user: times 5, 1, 5 (tie), 3, and an exact duplicate.
        ("u", UserChunk([5.0, 1.0], [10, 11], ["a", "b"])),
        ("u", UserChunk([5.0, 3.0, 1.0], [12, 13, 14], ["c", "d", "b"])),
        ("v", UserChunk([2.0], [20], ["a"])),
    ]
    with TestPipeline() as p:
        out = (
            p | beam.Create(chunks) | transforms.BuildUserHistories(sources.RowLocator(("f.csv",)))
        )
        assert_that(
            out.histories | beam.Map(tuple),
            equal_to([("u", ["b", "d", "a", "c"], [1.0, 3.0, 5.0, 5.0]), ("v", ["a"], [2.0])]),
            label="histories",
        )
        assert_that(
            out[transforms.REJECTED] | beam.Map(lambda r: (r.reason, r.row_id, r.location)),
            equal_to([(sources.DUPLICATE, 14, "f.csv:14")]),
            label="duplicates",
        )


def test_vocabulary_orders_by_count_and_keeps_every_category():
    histories = [UserHistory("u", ["a", "b", "b"]), UserHistory("v", ["c", "b", "a"])]
    cats = [("a", ("Drama", "Comedy")), ("b", ("Drama",)), ("a", ("Comedy", "War"))]
    with TestPipeline() as p:
        vocab = (
            p
            | "H" >> beam.Create(histories)
            | transforms.BuildVocabulary(p | "C" >> beam.Create(cats))
        )
        expected = Vocabulary(
            items=("b", "a", "c"),
            item_counts=(3, 2, 1),
            categories=("Comedy", "Drama", "War"),
            # Comedy=2, Drama=3, War=4; c has none → [UNK].
            item_categories=((3,), (3, 2, 4), (features.UNK_INDEX,)),
        )
        assert_that(vocab, equal_to([expected]))


def test_vocabulary_adds_catalog_items_without_interactions_last():
    histories = [UserHistory("u", ["a", "b", "b"])]
    cats = [("a", ("Drama",)), ("z", ("War",)), ("y", ("Drama",))]
    with TestPipeline() as p:
        vocab = (
            p
            | "H" >> beam.Create(histories)
            | transforms.BuildVocabulary(
                p | "C" >> beam.Create(cats), p | "Catalog" >> beam.Create(["z", "a", "y", "z"])
            )
        )
        expected = Vocabulary(
            items=("b", "a", "y", "z"),  # by count, then id; catalog-only items count 0
            item_counts=(2, 1, 0, 0),
            categories=("Drama", "War"),
            item_categories=((features.UNK_INDEX,), (2,), (2,), (3,)),
        )
        assert_that(vocab, equal_to([expected]))


@pytest.mark.parametrize(
    "items, max_len, expected",
    [
        ([2, 3, 4, 5, 6], 10, ([2, 3, 4], ([2, 3, 4], 5), ([2, 3, 4, 5], 6))),
        ([2, 3, 4, 5, 6], 2, ([3, 4], ([3, 4], 5), ([4, 5], 6))),
        ([2, 3, 4], 10, ([2], ([2], 3), ([2, 3], 4))),
        ([2, 3], 10, ([2, 3], None, None)),
        ([2, 3], 1, ([3], None, None)),
    ],
)
def test_leave_one_out(items, max_len, expected):
    assert transforms.leave_one_out(items, max_len, 3) == expected


def test_split_leave_one_out_in_a_pipeline():
    vocab = Vocabulary(("a", "b", "c", "d", "e"), (1,) * 5, (), ((1,),) * 5)
    histories = [UserHistory("u", ["e", "a", "c", "b"]), UserHistory("v", ["d", "a"])]
    with TestPipeline() as p:
        v = p | "V" >> beam.Create([vocab])
        out = p | "H" >> beam.Create(histories) | transforms.SplitHistories(v, 2, 3)
        # Indices: a=2, b=3, c=4, d=5, e=6.
        assert_that(
            out[features.SPLIT_TRAIN] | "T" >> beam.Map(tuple),
            equal_to([("u", [6, 2]), ("v", [5, 2])]),
            label="train",
        )
        # The seen items are the whole history before the target, not the max_len window:
        # the test window [a, c] leaves out e, which the full-catalog ranking must exclude.
        assert_that(
            out[features.SPLIT_EVAL] | "E" >> beam.Map(tuple),
            equal_to([("u", [6, 2], 4, [2, 3, 4, 6], 2, [2, 6])]),
            label="eval",
        )
        assert_that(
            out[features.SPLIT_TEST] | "S" >> beam.Map(tuple),
            equal_to([("u", [2, 4], 3, [2, 3, 4, 6], 3, [2, 4, 6])]),
            label="test",
        )
        assert_that(
            out[transforms.TRAIN_ONLY], equal_to(["fewer_than_min_interactions"]), label="only"
        )
        # The popularity baseline counts the training part only (no held-out item).
        assert_that(
            out[transforms.TRAIN_ITEMS] | transforms.CountTrainItems(),
            equal_to([{6: 1, 2: 2, 5: 1}]),
            label="counts",
        )


@pytest.mark.parametrize(
    "train, max_len, windows, expected",
    [
        ([1, 2, 3, 4, 5, 6], 3, "all", [[4, 5, 6], [2, 3, 4], [1, 2]]),
        ([1, 2, 3, 4, 5], 3, "all", [[3, 4, 5], [1, 2, 3]]),
        ([1, 2, 3, 4, 5, 6], 3, "last", [[4, 5, 6]]),
        ([1, 2], 3, "all", [[1, 2]]),
        ([], 3, "all", []),
    ],
)
def test_training_windows(train, max_len, windows, expected):
    out = transforms.training_windows(train, max_len, windows)
    assert out == expected
    if windows == "all":  # every item but the first is a target (not a window's first) once
        targets = sorted(i for w in out for i in w[1:])
        assert targets == train[1:]


def test_every_training_item_is_a_target_with_training_windows_all():
    vocab = Vocabulary(("a", "b", "c", "d", "e"), (1,) * 5, (), ((1,),) * 5)
    # Indices: a=2, b=3, c=4, d=5, e=6; training part e a c b d (then a: eval, c: test).
    histories = [UserHistory("u", ["e", "a", "c", "b", "d", "a", "c"]), UserHistory("v", ["d"])]
    with TestPipeline() as p:
        v = p | "V" >> beam.Create([vocab])
        out = (
            p
            | "H" >> beam.Create(histories)
            | transforms.SplitHistories(v, 3, 3, training_windows="all")
        )
        assert_that(
            out[features.SPLIT_TRAIN] | "T" >> beam.Map(tuple),
            equal_to([("u", [4, 3, 5]), ("u", [6, 2, 4]), ("v", [5])]),
            label="train",
        )
        # Held-out histories keep the most recent max_len items, as with "last".
        assert_that(
            out[features.SPLIT_TEST] | "S" >> beam.Map(lambda t: (t.user, t.item_seq)),
            equal_to([("u", [3, 5, 2])]),
            label="test",
        )


@pytest.mark.parametrize("windows", ["last", "all"])
def test_a_training_sequence_holding_every_item_is_refused_for_training_with_a_reason(windows):
    vocab = Vocabulary(("a", "b", "c"), (1,) * 3, (), ((1,),) * 3)
    # Under "all", the nine training items of user "all" are windows of 3, each holding every
    # item: the user is counted once.
    history = ["a", "b", "c"] * 3 + ["a", "b"] if windows == "all" else ["a", "b", "c", "a", "b"]
    histories = [UserHistory("all", history), UserHistory("u", ["a", "b", "a"])]
    max_len = 3 if windows == "all" else 5
    with TestPipeline() as p:
        v = p | "V" >> beam.Create([vocab])
        out = (
            p
            | "H" >> beam.Create(histories)
            | transforms.SplitHistories(v, max_len, 3, training_windows=windows)
        )
        assert_that(
            out[features.SPLIT_TRAIN] | "T" >> beam.Map(lambda t: t.user),
            equal_to(["u"]),
            label="train",
        )
        assert_that(
            out[features.SPLIT_TEST] | "S" >> beam.Map(lambda t: t.user),
            equal_to(["all", "u"]),
            label="test",
        )
        assert_that(out[transforms.REFUSED], equal_to(["training_sequence_holds_every_item"]))


@pytest.mark.parametrize(
    "n_train, n_test, expected",
    [
        # items 2..7; the first three before the validation cutoff, five before the test one.
        (3, 5, ([2, 3, 4], ([2, 3, 4], 5), ([2, 3, 4, 5, 6], 7))),
        (0, 5, ([], None, ([2, 3, 4, 5, 6], 7))),  # no history before the validation target
        (3, 3, ([2, 3, 4], None, ([2, 3, 4], 5))),  # nothing in the validation period
        (3, 6, ([2, 3, 4], ([2, 3, 4], 5), None)),  # nothing in the test period
    ],
)
def test_temporal_split_targets_are_the_first_items_of_each_period(n_train, n_test, expected):
    assert transforms.temporal_split([2, 3, 4, 5, 6, 7], n_train, n_test, 10) == expected


def test_temporal_split_truncates_every_history_to_max_len():
    assert transforms.temporal_split([2, 3, 4, 5, 6, 7], 3, 5, 2) == (
        [3, 4],
        ([3, 4], 5),
        ([5, 6], 7),
    )


def test_split_in_time_in_a_pipeline_trains_only_before_the_validation_cutoff():
    vocab = Vocabulary(("a", "b", "c", "d", "e"), (1,) * 5, (), ((1,),) * 5)
    histories = [
        UserHistory("u", ["e", "a", "c", "b", "d"], [1.0, 2.0, 10.0, 11.0, 20.0]),
        UserHistory("late", ["d", "a"], [15.0, 21.0]),  # first seen in the validation period
        UserHistory("early", ["b", "c"], [3.0, 4.0]),  # nothing after the cutoffs
    ]
    with TestPipeline() as p:
        v = p | "V" >> beam.Create([vocab])
        cutoffs = beam.pvalue.AsSingleton(p | "C" >> beam.Create([(10.0, 20.0)]))
        out = p | "H" >> beam.Create(histories) | transforms.SplitHistories(v, 10, 3, cutoffs)
        # Indices: a=2, b=3, c=4, d=5, e=6.
        assert_that(
            out[features.SPLIT_TRAIN] | "T" >> beam.Map(tuple),
            equal_to([("u", [6, 2]), ("early", [3, 4])]),
            label="train",
        )
        assert_that(
            out[features.SPLIT_EVAL] | "E" >> beam.Map(lambda c: (c.user, c.item_seq, c.target)),
            equal_to([("u", [6, 2], 4)]),
            label="eval",
        )
        assert_that(
            out[features.SPLIT_TEST] | "S" >> beam.Map(lambda c: (c.user, c.item_seq, c.target)),
            equal_to([("u", [6, 2, 4, 3], 5), ("late", [5], 2)]),
            label="test",
        )
        assert_that(
            out[transforms.NOT_HELD_OUT],
            equal_to(
                [
                    "eval_no_history_before_target",  # late
                    "eval_no_interaction_in_period",  # early
                    "test_no_interaction_in_period",  # early
                ]
            ),
            label="reasons",
        )
        assert_that(
            out[transforms.TRAIN_ITEMS] | transforms.CountTrainItems(),
            equal_to([{6: 1, 2: 1, 3: 1, 4: 1}]),
            label="counts",
        )


def test_temporal_cutoffs_are_the_times_before_which_the_fractions_fall():
    histories = [
        UserHistory(str(u), ["x"] * 10, [float(10 * u + t) for t in range(10)]) for u in range(10)
    ]
    with TestPipeline() as p:
        cutoffs = p | beam.Create(histories) | transforms.TemporalCutoffs((0.8, 0.9))
        # Times 0..99: the 0.8- and 0.9-quantiles (ranks 0.8 and 0.9 of the way from the
        # first interaction to the last).
        assert_that(cutoffs, equal_to([(79.0, 89.0)]))


def test_one_k_core_round_removes_rare_items_then_short_users():
    counts = {"a": 3, "b": 1, "c": 2}
    history = UserHistory("u", ["a", "b", "c"], [1.0, 2.0, 3.0])
    out = list(transforms.k_core_round(history, counts, 2, 2))
    assert out[-1] == UserHistory("u", ["a", "c"], [1.0, 3.0])
    assert out[0].tag == transforms.K_CORE_REMOVED
    assert out[0].value == (sources.ITEM_BELOW_MIN, 1)
    short = list(transforms.k_core_round(history, counts, 3, 2))
    assert [o.value for o in short] == [(sources.ITEM_BELOW_MIN, 1), (sources.USER_BELOW_MIN, 2)]


def _k_core_by_hand(histories, min_user, min_item):
    kept = {h.user: list(h.items) for h in histories}
    while True:
        counts = {}
        for items in kept.values():
            for i in items:
                counts[i] = counts.get(i, 0) + 1
        new = {u: [i for i in items if counts[i] >= min_item] for u, items in kept.items()}
        new = {u: items for u, items in new.items() if len(items) >= min_user}
        if new == kept:
            return kept
        kept = new


def test_k_core_filter_reaches_the_fixed_point_and_counts_every_removed_row():
    rng = np.random.default_rng(3)
    histories = [
        UserHistory(f"u{u}", [f"i{x}" for x in rng.zipf(1.6, size=rng.integers(1, 9)) % 60], [])
        for u in range(80)
    ]
    expected = _k_core_by_hand(histories, 4, 3)
    assert 0 < sum(map(len, expected.values())) < sum(len(h.items) for h in histories)
    total = sum(len(h.items) for h in histories)
    with TestPipeline() as p:
        kept, removed, stable = (
            p | beam.Create(histories) | transforms.KCoreFilter(4, 3, max_rounds=8)
        )
        assert_that(
            kept | "Kept" >> beam.Map(lambda h: (h.user, h.items)),
            equal_to(list(expected.items())),
            label="kept",
        )
        assert_that(
            removed | "Total" >> beam.Map(lambda r: r[1]) | beam.CombineGlobally(sum),
            equal_to([total - sum(map(len, expected.values()))]),
            label="removed",
        )
        assert_that(stable, equal_to([True]), label="stable")


def test_k_core_filter_says_when_its_rounds_did_not_reach_the_fixed_point():
    # A chain: removing one user makes the next item rare, one link per round.
    histories = [UserHistory(f"u{k}", [f"i{k}", f"i{k + 1}"], []) for k in range(6)]
    with TestPipeline() as p:
        _, _, stable = p | beam.Create(histories) | transforms.KCoreFilter(2, 2, max_rounds=1)
        assert_that(stable, equal_to([False]))


def test_train_counts_text_has_a_row_per_index():
    assert transforms.train_counts_text({2: 5, 4: 1}, 3) == "0\t0\n1\t0\n2\t5\n3\t0\n4\t1\n"


def test_sample_negatives_avoids_history_and_is_seeded():
    seen = [2, 5, 7, 8, 9]
    a = transforms.sample_negatives(seen, 20, 10, np.random.default_rng(1))
    b = transforms.sample_negatives(seen, 20, 10, np.random.default_rng(1))
    c = transforms.sample_negatives(seen, 20, 10, np.random.default_rng(2))
    assert a == b
    assert a != c
    assert len(set(a)) == 10
    assert not set(a) & set(seen)
    assert all(features.FIRST_ITEM_INDEX <= x < features.FIRST_ITEM_INDEX + 20 for x in a)
    # Exactly as many unseen items as negatives: all of them, never a seen one.
    every = transforms.sample_negatives(seen, 15, 10, np.random.default_rng(3))
    assert sorted(every) == sorted(set(range(2, 17)) - set(seen))
    with pytest.raises(ValueError, match="only 10 unseen"):
        transforms.sample_negatives(seen, 15, 11, np.random.default_rng(3))


def test_sample_eval_negatives_transform_draws_per_user_seeded_negatives():
    vocab = Vocabulary(tuple("abcdefghij"), (1,) * 10, (), ((1,),) * 10)
    cases = [HeldOut("u", [2, 3], 4, [2, 3, 4]), HeldOut("v", [5], 6, [5, 6, 7])]

    def expected(seed):
        return [
            EvalSequence(
                c.user,
                c.item_seq,
                c.target,
                transforms.sample_negatives(
                    c.seen,
                    10,
                    4,
                    np.random.default_rng(transforms.stable_seed(seed, "test", c.user)),
                ),
            )
            for c in cases
        ]

    assert expected(7) != expected(8)
    for case, result in zip(cases, expected(7), strict=True):
        assert len(set(result.negatives)) == 4
        assert not set(result.negatives) & set(case.seen)
    with TestPipeline() as p:
        v = p | "V" >> beam.Create([vocab])
        out = p | "C" >> beam.Create(cases) | transforms.SampleEvalNegatives(v, 4, 7, "test")
        assert_that(out, equal_to(expected(7)))


def test_a_user_with_too_few_unseen_items_gets_no_negatives_but_stays_evaluated():
    vocab = Vocabulary(tuple("abcde"), (1,) * 5, (), ((1,),) * 5)
    case = HeldOut("u", [2, 3], 4, [2, 3, 4], 2, [2, 3])  # 2 unseen items (5, 6)
    with TestPipeline() as p:
        v = p | "V" >> beam.Create([vocab])
        out = p | "C" >> beam.Create([case]) | transforms.SampleEvalNegatives(v, 3, 7, "test")
        assert_that(out, equal_to([EvalSequence("u", [2, 3], 4, [], 2, [2, 3])]))


def test_stable_seed_does_not_depend_on_hash_seed():
    # A fixed value: Python's hash() would change between processes.
    assert transforms.stable_seed(42, "test", "u1") == transforms.stable_seed(42, "test", "u1")
    assert transforms.stable_seed(42, "test", "u1") != transforms.stable_seed(42, "eval", "u1")
    assert transforms.stable_seed(0, "x") == 9511765210964949906


def test_to_tf_example_uses_the_contract_feature_names():
    import tensorflow as tf

    ex = tf.train.Example.FromString(
        transforms.to_tf_example(EvalSequence("u7", [2, 3], 4, [5, 6], 12, [2, 3, 9]))
    )
    f = ex.features.feature
    assert list(f[features.SEEN_ITEMS].int64_list.value) == [2, 3, 9]
    assert f[features.USER_ID].bytes_list.value == [b"u7"]
    assert list(f[features.ITEM_SEQ].int64_list.value) == [2, 3]
    assert list(f[features.TARGET].int64_list.value) == [4]
    assert list(f[features.NEGATIVES].int64_list.value) == [5, 6]
    assert f[features.HISTORY_BUCKET].bytes_list.value == [b"10-49"]
    assert features.TARGET_ID not in f  # raw ids only with the vocabulary's items
    items = tuple("abcdefgh")  # index 2 is "a"
    f = tf.train.Example.FromString(
        transforms.to_tf_example(EvalSequence("u7", [2, 3], 4, [5, 6], 12, [2, 3, 9]), items)
    ).features.feature
    assert f[features.ITEM_SEQ_IDS].bytes_list.value == [b"a", b"b"]
    assert f[features.TARGET_ID].bytes_list.value == [b"c"]
    assert f[features.NEGATIVE_IDS].bytes_list.value == [b"d", b"e"]
    assert f[features.SEEN_ITEM_IDS].bytes_list.value == [b"a", b"b", b"h"]
    train = tf.train.Example.FromString(
        transforms.to_tf_example(transforms.TrainSequence("u", [2]))
    )
    assert set(train.features.feature) == {features.USER_ID, features.ITEM_SEQ}


def test_auto_max_len_is_a_percentile_of_the_training_lengths_capped():
    from components.sequence_gen.transforms import auto_max_len

    # 99 users with 10 items (8 to train), one with 502 (500 to train).
    counts = {10: 99, 502: 1}
    assert auto_max_len(counts, 3, 99, 200) == 8
    assert auto_max_len(counts, 3, 100, 200) == 200  # capped
    assert auto_max_len({2: 5}, 3, 99, 200) == 2  # train-only users keep every item
    assert auto_max_len({}, 3, 99, 200) == 1
