"""The whole ingestion on small inputs: nothing lost, outputs readable, bad input explained."""

import collections
import gzip
import json

import apache_beam as beam
import pytest
import tensorflow as tf

from components.sequence_gen import ingest, report, sources, synthetic
from components.sequence_gen.config import ConfigError, DataConfig, ItemTable, SourceConfig
from components.sequence_gen.vocabulary import Vocabulary
from sair_keras import features
from sair_keras.catalog import Catalog

GOOD_ROWS = [
    # user, item, time, rating
    (1, 10, 1, 5),
    (1, 11, 2, 4),
    (1, 12, 3, 3),
    (1, 13, 4, 5),
    (2, 11, 7, 2),
    (2, 10, 5, 1),  # out of order: goes first
    (2, 14, 6, 0),
    (3, 10, 9, 4),  # 2 interactions: training only
    (3, 15, 8, 4),
    (4, 12, 1, 4),
    (4, 16, 1, 5),  # tie with the row above: input order kept
    (4, 17, 2, 5),
    (4, 18, 3, 5),
]
BAD_ROWS = [
    "1,10,1,5",  # exact duplicate of the first row
    "2,19,8,-1",  # rating below 0
    "2,19,8,",  # NaN rating
    "abc,19,8,3",  # non-numeric id
    "2,19,soon,3",  # non-numeric time
    "2;19;8;3",  # wrong delimiter in one row
]


def _beam():
    return beam.Pipeline(options=beam.options.pipeline_options.PipelineOptions([]))


def _write_log(path, rows, bad=()):
    lines = ["user_id,item_id,timestamp,rating"] + [",".join(map(str, r)) for r in rows]
    lines[3:3] = list(bad)
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _read_split(examples_dir, split):
    files = tf.io.gfile.glob(f"{examples_dir}/Split-{split}/*.gz")
    out = {}
    for rec in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        ex = tf.train.Example.FromString(rec.numpy())
        f = ex.features.feature
        user = f[features.USER_ID].bytes_list.value[0].decode()
        out[user] = {
            "item_seq": list(f[features.ITEM_SEQ].int64_list.value),
            "target": list(f[features.TARGET].int64_list.value),
            "negatives": list(f[features.NEGATIVES].int64_list.value),
            "seen_items": list(f[features.SEEN_ITEMS].int64_list.value),
        }
    return out


def _run(tmp_path, source, config):
    outputs = ingest.IngestOutputs.under(str(tmp_path / "out"))
    result = ingest.run_ingestion(source, config, outputs, _beam, chunk_rows=3)
    return result, outputs


def test_nothing_is_lost_on_input_with_planted_bad_rows(tmp_path):
    items = tmp_path / "items.csv"
    items.write_text("item_id,categories\n10,Drama|Comedy\n11,Drama\n12,\n99,War\n")
    source = SourceConfig(
        paths=(_write_log(tmp_path / "log.csv", GOOD_ROWS, BAD_ROWS),),
        rating_column="rating",
        id_type="int",
        items=ItemTable(path=str(items)),
    )
    config = DataConfig(num_eval_negatives=2, max_rejected_fraction=0.5)
    result, outputs = _run(tmp_path, source, config)

    assert result["rows_read"] == len(GOOD_ROWS) + len(BAD_ROWS)
    assert result["rows_kept"] == len(GOOD_ROWS)
    assert result["rows_read"] == result["rows_kept"] + sum(result["rows_rejected"].values())
    assert {k: v for k, v in result["rows_rejected"].items() if v} == {
        sources.DUPLICATE: 1,
        sources.RATING_BELOW_MIN: 1,
        sources.NAN_RATING: 1,
        sources.NON_NUMERIC_ID: 1,
        sources.NON_NUMERIC_TIME: 1,
        sources.WRONG_FIELD_COUNT: 1,
    }
    assert (result["users"], result["items"], result["actions"]) == (4, 9, 13)
    assert result["categories"] == 2  # Drama, Comedy: War's item 99 never occurs
    assert result["users_train_only"] == {"fewer_than_min_interactions": 1}
    assert result["examples"] == {"train": 4, "eval": 3, "test": 3}
    assert result["items_without_category"] == 7  # 12 has an empty cell; 13-18 are absent
    assert json.loads((tmp_path / "out" / report.REPORT_FILE).read_text()) == result

    vocab = Vocabulary.read(outputs.vocabulary_dir)
    raw = dict(enumerate(vocab.items, start=features.FIRST_ITEM_INDEX))
    train = _read_split(outputs.examples_dir, "train")
    val = _read_split(outputs.examples_dir, "eval")
    test = _read_split(outputs.examples_dir, "test")

    # Every kept interaction is in exactly one user's sequence, in time order.
    expected = {
        "1": ["10", "11", "12", "13"],
        "2": ["10", "14", "11"],
        "3": ["15", "10"],
        "4": ["12", "16", "17", "18"],
    }
    rebuilt = {}
    for user, ex in train.items():
        rebuilt[user] = [raw[i] for i in ex["item_seq"]]
        if user in val:
            rebuilt[user] += [raw[val[user]["target"][0]], raw[test[user]["target"][0]]]
            assert val[user]["item_seq"] == ex["item_seq"]
            assert test[user]["item_seq"] == ex["item_seq"] + val[user]["target"]
    assert rebuilt == expected
    for split in (val, test):
        for user, ex in split.items():
            assert len(ex["negatives"]) == 2
            assert not {raw[i] for i in ex["negatives"]} & set(expected[user])

    # The negatives are a function of the seed: a second run gives the same candidates.
    _, again = _run(tmp_path / "again", source, config)
    assert _read_split(again.examples_dir, "test") == test


def test_truncation_keeps_the_most_recent_items(tmp_path):
    # User 2 brings items user 1 never saw, so user 1 has negatives to draw from.
    rows = [(1, item, item, 5) for item in range(10, 20)] + [(2, 30, 1, 5), (2, 31, 2, 5)]
    source = SourceConfig(paths=(_write_log(tmp_path / "log.csv", rows),), id_type="int")
    config = DataConfig(max_len=3, training_windows="last", num_eval_negatives=1)
    result, outputs = _run(tmp_path, source, config)
    vocab = Vocabulary.read(outputs.vocabulary_dir)
    raw = dict(enumerate(vocab.items, start=features.FIRST_ITEM_INDEX))
    test = _read_split(outputs.examples_dir, "test")["1"]
    assert [raw[i] for i in test["item_seq"]] == ["16", "17", "18"]
    assert [raw[i] for i in test["target"]] == ["19"]
    train = _read_split(outputs.examples_dir, "train")["1"]
    assert [raw[i] for i in train["item_seq"]] == ["15", "16", "17"]
    assert result["sequences_truncated"] == 1
    # The full-catalog ranking excludes the whole history, not only the window.
    assert sorted(raw[i] for i in test["seen_items"]) == [str(i) for i in range(10, 19)]
    val = _read_split(outputs.examples_dir, "eval")["1"]
    assert sorted(raw[i] for i in val["seen_items"]) == [str(i) for i in range(10, 18)]
    # The popularity baseline counts the training split, without the held-out items.
    lines = tf.io.gfile.GFile(f"{outputs.vocabulary_dir}/{features.TRAIN_COUNTS_FILE}").read()
    counts = {raw.get(int(i)): int(n) for i, n in (r.split("\t") for r in lines.splitlines())}
    assert counts["10"] == 1 and counts["18"] == 0 and counts["19"] == 0
    assert counts["30"] == counts["31"] == 1  # user 2 is train-only: all of it counts
    assert len(lines.splitlines()) == result["items"] + features.FIRST_ITEM_INDEX


def test_an_empty_test_split_fails_before_training_saying_why(tmp_path):
    rows = [(1, 10, 1, 5), (1, 11, 2, 5), (2, 10, 1, 5)]
    source = SourceConfig(paths=(_write_log(tmp_path / "log.csv", rows),), id_type="int")
    with pytest.raises(report.IngestionError, match="the test split is empty: none of the 2"):
        _run(tmp_path, source, DataConfig(num_eval_negatives=1))


def test_gzip_and_latin1_inputs_are_read(tmp_path):
    log = tmp_path / "log.tsv.gz"
    with gzip.open(log, "wt") as f:
        f.write("7\t1\t5\t100\n7\t2\t4\t101\n7\t3\t4\t102\n")
    items = tmp_path / "items.dat"
    items.write_bytes("1::Amélie (2001)::Comedy|Romance\n2::Café::Drama\n".encode("latin-1"))
    source = SourceConfig(
        paths=(str(log),),
        format="tsv",
        has_header=False,
        user_column=0,
        item_column=1,
        rating_column=2,
        time_column=3,
        items=ItemTable(
            path=str(items),
            format="delimited",
            delimiter="::",
            has_header=False,
            quoted=False,
            encoding="latin-1",
            item_column=0,
            category_column=2,
        ),
    )
    result, _ = _run(tmp_path, source, DataConfig(num_eval_negatives=0 + 1, max_len=5))
    assert (result["users"], result["actions"], result["categories"]) == (1, 3, 3)
    assert result["items_without_category"] == 1


def test_too_many_rejected_rows_fail_with_the_first_bad_rows(tmp_path):
    path = _write_log(tmp_path / "log.csv", GOOD_ROWS[:3], ["1,x,1,1", "1,y,2,1"])
    source = SourceConfig(paths=(path,), id_type="int")
    with pytest.raises(report.IngestionError) as err:
        _run(tmp_path, source, DataConfig(max_rejected_fraction=0.2, num_eval_negatives=1))
    message = str(err.value)
    assert "2 of 5 rows rejected" in message
    assert f"{path}:4: non_numeric_id: '1,x,1,1'" in message


@pytest.mark.parametrize(
    "content, match",
    [
        (None, "input file not found"),
        ("", "empty input"),
        ("user_id,item_id,timestamp\n", "has no data rows"),
        ("user_id;item_id;timestamp\n1;2;3\n", "column 'user_id' is not in the header"),
        ("user,item_id,timestamp\n1,2,3\n", "column 'user_id' is not in the header"),
        ("user_id,item_id,timestamp\n1;2;3\n", "wrong delimiter or columns"),
    ],
)
def test_bad_input_is_explained_before_beam_runs(tmp_path, content, match):
    path = tmp_path / "log.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(sources.InputError, match=match):
        _run(tmp_path, SourceConfig(paths=(str(path),)), DataConfig())


def test_headerless_wrong_delimiter_is_explained(tmp_path):
    path = tmp_path / "u.data"
    path.write_text("1,2,3,4\n")
    source = SourceConfig(
        paths=(str(path),),
        format="tsv",
        has_header=False,
        user_column=0,
        item_column=1,
        time_column=3,
    )
    with pytest.raises(sources.InputError, match=r"1 field\(s\) split on '\\t'"):
        _run(tmp_path, source, DataConfig())


def test_parquet_input(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "user": ["a", "a", "a", "b", "b", "a"],
            "item": ["x", "y", "z", "x", None, "w"],
            "ts": [3, 1, 2, 5, 6, 4],
            "score": [1.0, 2.0, float("nan"), 4.0, 5.0, 3.0],
        }
    )
    path = tmp_path / "log.parquet"
    pq.write_table(table, path)
    source = SourceConfig(
        paths=(str(path),),
        format="parquet",
        user_column="user",
        item_column="item",
        time_column="ts",
        rating_column="score",
    )
    result, _ = _run(tmp_path, source, DataConfig(num_eval_negatives=1, max_rejected_fraction=0.5))
    assert result["rows_read"] == 6
    assert result["rows_kept"] == 4
    assert {k: v for k, v in result["rows_rejected"].items() if v} == {
        sources.NAN_RATING: 1,
        sources.MISSING_ID: 1,
    }
    assert result["first_rejected_rows"][0]["location"] == f"{path}:row 3"


def _catalog_source(tmp_path):
    # 13 is rated by user 2 only; 98 and 99 are in the item file and nobody rated them.
    rows = [(1, 10, 1, 5), (1, 11, 2, 5), (1, 12, 3, 5), (2, 13, 1, 5), (2, 10, 2, 5)]
    rows.append((2, 11, 3, 5))
    items = tmp_path / "items.csv"
    items.write_text(
        "item_id,categories\n10,Drama\n11,Drama\n12,Comedy\n13,Drama\n98,War\n99,Western\n"
    )
    return SourceConfig(
        paths=(_write_log(tmp_path / "log.csv", rows),),
        rating_column="rating",
        id_type="int",
        items=ItemTable(path=str(items)),
    )


def test_item_table_catalog_adds_unrated_items_and_draws_negatives_from_them(tmp_path):
    source = _catalog_source(tmp_path)
    # Rated items only: each user has one unseen item, too few for 3 negatives; both are
    # still evaluated (on the full catalog) and counted.
    result, outputs = _run(tmp_path / "rated", source, DataConfig(num_eval_negatives=3))
    assert result["examples"]["test"] == 2
    assert result["users_train_only"] == {}
    assert result["users_without_sampled_negatives"] == {"eval": 2, "test": 2}
    assert result["exclude_seen"] is True
    assert "seen items excluded" in report.format_table(result)
    assert all(not ex["negatives"] for ex in _read_split(outputs.examples_dir, "test").values())
    table = report.format_table(result)
    assert (
        "test users without sampled negatives   2" in " ".join(table.split("  ")).replace("  ", " ")
        or "test users without sampled negatives" in table
    )

    config = DataConfig(num_eval_negatives=3, item_catalog="item_table")
    result, outputs = _run(tmp_path / "table", source, config)
    vocab = Vocabulary.read(outputs.vocabulary_dir)
    assert vocab.items == ("10", "11", "12", "13", "98", "99")  # by count, the unrated last
    assert vocab.item_counts == (2, 2, 1, 1, 0, 0)
    assert set(vocab.categories) == {"Drama", "Comedy", "War", "Western"}
    assert (result["items"], result["items_without_interactions"]) == (6, 2)
    table = report.format_table(result).splitlines()
    assert [r.split()[-1] for r in table if r.startswith("items without interactions")] == ["2"]
    assert result["actions"] == 6
    raw = dict(enumerate(vocab.items, start=features.FIRST_ITEM_INDEX))
    for split in ("eval", "test"):
        got = {
            u: {raw[i] for i in ex["negatives"]}
            for u, ex in _read_split(outputs.examples_dir, split).items()
        }
        # Every unseen item is a negative, the unrated ones included.
        assert got == {"1": {"13", "98", "99"}, "2": {"12", "98", "99"}}


def test_item_table_catalog_needs_an_item_table(tmp_path):
    source = SourceConfig(paths=(_write_log(tmp_path / "log.csv", GOOD_ROWS),), id_type="int")
    with pytest.raises(sources.InputError, match='item_catalog "item_table" needs an item table'):
        _run(tmp_path, source, DataConfig(item_catalog="item_table"))


def test_unknown_item_catalog_is_refused_naming_it():
    with pytest.raises(ConfigError, match="item_catalog must be one of .* got 'all'"):
        DataConfig(item_catalog="all")


def test_a_utf8_byte_order_mark_is_accepted_in_the_log_and_the_item_file(tmp_path):
    # Spreadsheet programs start every CSV with one.
    log = tmp_path / "log.csv"
    log.write_bytes(
        b"\xef\xbb\xbf" + open(_write_log(tmp_path / "plain.csv", GOOD_ROWS), "rb").read()
    )
    items = tmp_path / "items.csv"
    items.write_bytes(b"\xef\xbb\xbfitem_id,categories\n10,Drama\n11,Comedy\n")
    source = SourceConfig(
        paths=(str(log),), rating_column="rating", id_type="int", items=ItemTable(path=str(items))
    )
    result, _ = _run(tmp_path, source, DataConfig(num_eval_negatives=2))
    assert result["rows_read"] == result["rows_kept"] == len(GOOD_ROWS)
    assert result["categories"] == 2
    unsplit = SourceConfig(paths=(str(log),), rating_column="rating", id_type="int")
    [shard] = sources.plan_shards(unsplit)
    cols = sources.preflight(unsplit)[0]
    rows = list(sources.iter_interactions(unsplit, sources.Shard(0, 0, 10**6), cols, 0.0))
    assert shard.file_index == 0 and all(r.rejection is None for r in rows)


def test_max_len_auto_is_the_99th_percentile_of_training_lengths_on_a_shop_shaped_log(tmp_path):
    # Short sequences (mean 8) over a catalog of 12,000 items, as a shop's log.
    shop = synthetic.SyntheticConfig(
        num_users=1500, num_items=12000, num_categories=30, mean_length=8, seed=7
    )
    source = synthetic.source_config(synthetic.generate(shop, tmp_path / "shop"))
    result, outputs = _run(tmp_path, source, DataConfig(max_len="auto", num_eval_negatives=5))
    chosen = result["max_len"]
    assert result["max_len_setting"] == "auto"
    assert 1 <= chosen <= 50
    assert "max_len (auto: 99th percentile)" in report.format_table(result)
    longest = max(len(ex["item_seq"]) for ex in _read_split(outputs.examples_dir, "train").values())
    assert longest <= chosen
    catalog = Catalog.load(outputs.vocabulary_dir)
    assert catalog.max_len == chosen  # what the Trainer builds the model for
    truncated = result["sequences_truncated"]
    assert 0 < truncated <= 0.02 * result["users"] + 1  # about 1% of the users are longer


def _log_by_user(source_dir, time_column="timestamp"):
    """{user: [(time, item)] in time order} of a generated log, read without the pipeline."""
    import csv

    by_user = {}
    with open(source_dir / synthetic.INTERACTIONS_FILE, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_user.setdefault(row["user_id"], []).append((float(row[time_column]), row["item_id"]))
    return {u: sorted(rows, key=lambda r: r[0]) for u, rows in by_user.items()}


def test_temporal_split_trains_only_on_interactions_before_the_validation_cutoff(tmp_path):
    log = synthetic.SyntheticConfig(num_users=400, num_items=300, mean_length=20, seed=11)
    directory = synthetic.generate(log, tmp_path / "log")
    config = DataConfig(
        split="temporal", val_cutoff=0.7, test_cutoff=0.85, max_len=500, num_eval_negatives=20
    )
    result, outputs = _run(tmp_path, synthetic.source_config(directory), config)
    split = result["split"]
    assert split["protocol"] == "temporal"
    t_val, t_test = split["val_cutoff_time"], split["test_cutoff_time"]
    assert t_val < t_test
    by_user = _log_by_user(directory)
    times = sorted(t for rows in by_user.values() for t, _ in rows)
    assert abs(sum(t < t_val for t in times) / len(times) - 0.7) < 0.01

    items = Catalog.load(outputs.vocabulary_dir).item_ids  # index → raw id
    train = _read_split(outputs.examples_dir, "train")
    assert train
    for user, ex in train.items():
        before = [i for t, i in by_user[user] if t < t_val]
        # Every training interaction comes before the cutoff, and all of them are there.
        assert [items[i] for i in ex["item_seq"]] == before
    assert not any(all(t >= t_val for t, _ in rows) and u in train for u, rows in by_user.items())

    for split_name, start, end in (("eval", t_val, t_test), ("test", t_test, float("inf"))):
        cases = _read_split(outputs.examples_dir, split_name)
        assert cases, split_name
        for user, ex in cases.items():
            position = next(k for k, (t, _) in enumerate(by_user[user]) if start <= t < end)
            first_time, first_item = by_user[user][position]
            assert items[ex["target"][0]] == first_item
            assert [items[i] for i in ex["item_seq"]] == [i for _, i in by_user[user][:position]]
    assert "split" in report.format_table(result) and "temporal" in report.format_table(result)
    assert sum(result["users_not_held_out"].values()) > 0


def test_temporal_split_with_times_as_cutoffs(tmp_path):
    _write_log(tmp_path / "log.csv", GOOD_ROWS)
    source = SourceConfig(paths=(str(tmp_path / "log.csv"),), rating_column="rating")
    config = DataConfig(
        split="temporal", val_cutoff=2, test_cutoff=4, cutoff_unit="time", num_eval_negatives=1
    )
    result, outputs = _run(tmp_path, source, config)
    assert (result["split"]["val_cutoff_time"], result["split"]["test_cutoff_time"]) == (2, 4)
    items = Catalog.load(outputs.vocabulary_dir).item_ids
    test = {
        u: (items[c["target"][0]]) for u, c in _read_split(outputs.examples_dir, "test").items()
    }
    evals = {u: items[c["target"][0]] for u, c in _read_split(outputs.examples_dir, "eval").items()}
    # Times [2, 4) validate, from 4 on test; a target needs a history before it. User 1:
    # 10@1 11@2 12@3 13@4; users 2 (10@5 14@6 11@7) and 3 (15@8 10@9) start after the test
    # cutoff: no history; user 4 (12@1 16@1 17@2 18@3) ends before it.
    assert evals == {"1": "11", "4": "17"}
    assert test == {"1": "13"}
    assert result["users_not_held_out"] == {
        "eval_no_interaction_in_period": 2,
        "test_no_history_before_target": 2,
        "test_no_interaction_in_period": 1,
    }


def test_an_order_only_log_is_refused_for_the_temporal_split(tmp_path):
    log = synthetic.SyntheticConfig(num_users=50, num_items=40, mean_length=6, order_only=True)
    source = synthetic.source_config(synthetic.generate(log, tmp_path / "log"), order_only=True)
    config = DataConfig(split="temporal", val_cutoff=0.8, test_cutoff=0.9)
    with pytest.raises(sources.InputError, match="order-only log") as raised:
        _run(tmp_path, source, config)
    assert "position" in str(raised.value)


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(split="temporal"), "needs val_cutoff and test_cutoff"),
        (dict(split="temporal", val_cutoff=0.9, test_cutoff=0.8), "before test_cutoff"),
        (dict(split="temporal", val_cutoff=0.5, test_cutoff=1.5), r"in \(0, 1\)"),
        (
            dict(
                split="temporal",
                val_cutoff="2001-01-01",
                test_cutoff="2000-01-01",
                cutoff_unit="time",
            ),
            "before",
        ),
        (dict(split="random"), "split must be one of"),
        (dict(training_windows="random"), "training_windows must be one of"),
        (dict(min_item_interactions=0), "min_item_interactions must be >= 1"),
    ],
)
def test_invalid_split_and_k_core_settings_are_refused(bad, match):
    with pytest.raises(ConfigError, match=match):
        DataConfig(**bad)


def test_k_core_filtering_accounts_for_every_removed_row(tmp_path):
    log = synthetic.SyntheticConfig(num_users=300, num_items=900, mean_length=6, seed=2)
    directory = synthetic.generate(log, tmp_path / "log")
    config = DataConfig(min_user_interactions=5, min_item_interactions=5, num_eval_negatives=5)
    result, outputs = _run(tmp_path, synthetic.source_config(directory), config)
    rejected = result["rows_rejected"]
    assert rejected[sources.ITEM_BELOW_MIN] > 0 and rejected[sources.USER_BELOW_MIN] > 0
    assert result["rows_read"] == result["rows_kept"] + sum(rejected.values())
    assert result["k_core"]["stable"]
    # The same fixed point as filtering by hand, to the row.
    by_user = {u: [i for _, i in rows] for u, rows in _log_by_user(directory).items()}
    while True:
        counts = collections.Counter(i for items in by_user.values() for i in items)
        kept = {u: [i for i in items if counts[i] >= 5] for u, items in by_user.items()}
        kept = {u: items for u, items in kept.items() if len(items) >= 5}
        if kept == by_user:
            break
        by_user = kept
    assert result["rows_kept"] == sum(map(len, by_user.values()))
    assert result["users"] == len(by_user)
    assert min(Vocabulary.read(outputs.vocabulary_dir).item_counts) >= 5
    assert "k-core (users, items)" in report.format_table(result)


def test_a_shop_shaped_order_only_log_runs_the_generic_path(tmp_path):
    # Short sequences over 10^4+ items, numeric attribute ids as categories, a tenth of the
    # items without any, and positions instead of times.
    shop = synthetic.SyntheticConfig(
        num_users=4000,
        num_items=14000,
        num_categories=40,
        mean_length=7,
        popularity_exponent=0.5,
        numeric_categories=True,
        uncategorized_fraction=0.1,
        order_only=True,
        seed=9,
    )
    directory = synthetic.generate(shop, tmp_path / "shop")
    source = synthetic.source_config(directory, order_only=True)
    result, outputs = _run(tmp_path, source, DataConfig(max_len="auto", num_eval_negatives=100))
    assert result["avg_length"] < 10
    assert result["items"] >= 10_000
    assert (
        result["rows_read"]
        == result["rows_kept"]
        == sum(map(len, _log_by_user(directory, "position").values()))
    )
    assert result["items_without_category"] > 0.05 * result["items"]
    catalog = Catalog.load(outputs.vocabulary_dir)
    assert all(name.isdigit() for name in catalog.category_names[2:])
    # Positions order each user's interactions: the test target is the user's last item.
    by_user = _log_by_user(directory, "position")
    items = catalog.item_ids
    test = _read_split(outputs.examples_dir, "test")
    assert len(test) == result["examples"]["test"] > 0.75 * result["users"]
    assert all(items[ex["target"][0]] == by_user[u][-1][1] for u, ex in test.items())


def _training_sequences(examples_dir):
    files = tf.io.gfile.glob(f"{examples_dir}/Split-{features.SPLIT_TRAIN}/*.gz")
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    feature = features.ITEM_SEQ
    return [
        list(tf.train.Example.FromString(r.numpy()).features.feature[feature].int64_list.value)
        for r in records
    ]


def test_training_windows_all_makes_every_training_item_a_target(tmp_path):
    log = synthetic.SyntheticConfig(num_users=60, num_items=80, mean_length=30, seed=4)
    directory = synthetic.generate(log, tmp_path / "log")
    source = synthetic.source_config(directory)
    runs = {}
    for windows in ("last", "all"):
        config = DataConfig(max_len=8, num_eval_negatives=5, training_windows=windows)
        result, outputs = _run(tmp_path / windows, source, config)
        runs[windows] = (result, _training_sequences(outputs.examples_dir))
    (last, last_train), (every, every_train) = runs["last"], runs["all"]
    users = last["users"]
    assert len(last_train) == last["examples"]["train"] == users
    assert len(every_train) == every["examples"]["train"] > users
    assert all(len(seq) <= 8 for seq in every_train)
    # Targets: every training item but each user's first (the held-out items apart).
    held_out = last["examples"]["eval"] + last["examples"]["test"]
    targets = sum(len(seq) - 1 for seq in every_train)
    assert targets == last["actions"] - held_out - users
    assert sum(len(seq) - 1 for seq in last_train) < targets
    assert every["training_windows"] == "all" and every["sequences_truncated"] > 0
    assert "trained in windows" in report.format_table(every)
    assert "older items not trained" in report.format_table(last)
    # The held-out cases are the same either way.
    assert every["examples"]["eval"] == last["examples"]["eval"]
    assert every["examples"]["test"] == last["examples"]["test"]
