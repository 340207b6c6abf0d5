"""The whole ingestion on small inputs: nothing lost, outputs readable, bad input explained."""

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
    result, outputs = _run(tmp_path, source, DataConfig(max_len=3, num_eval_negatives=1))
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
