"""Row parsing, shard planning and byte-range reading."""

import gzip
import math

import pytest

from components.sequence_gen import sources
from components.sequence_gen.config import SourceConfig


@pytest.mark.parametrize(
    "value, id_type, expected",
    [(" 42 ", "int", "42"), ("007", "int", "7"), ("sku-1", "string", "sku-1"), (3, "int", "3")],
)
def test_parse_id(value, id_type, expected):
    assert sources.parse_id(value, id_type) == expected


@pytest.mark.parametrize(
    "value, id_type, reason",
    [
        ("", "int", sources.MISSING_ID),
        (None, "string", sources.MISSING_ID),
        ("4x", "int", sources.NON_NUMERIC_ID),
        ("1.5", "int", sources.NON_NUMERIC_ID),
    ],
)
def test_parse_id_rejections(value, id_type, reason):
    with pytest.raises(sources.RowError) as e:
        sources.parse_id(value, id_type)
    assert e.value.reason == reason


def test_parse_time_and_rating():
    assert sources.parse_time("978300760", "numeric") == 978300760.0
    assert sources.parse_time("1970-01-01T00:01:00Z", "iso8601") == 60.0
    assert sources.parse_time("1970-01-01 00:01:00", "iso8601") == 60.0
    for bad, kind in (("inf", "numeric"), ("nan", "numeric"), ("tomorrow", "iso8601")):
        with pytest.raises(sources.RowError, match=sources.NON_NUMERIC_TIME):
            sources.parse_time(bad, kind)
    assert sources.parse_rating("0", 0.0) == 0.0
    cases = [
        ("NaN", sources.NAN_RATING),
        ("", sources.NAN_RATING),
        ("good", sources.NON_NUMERIC_RATING),
        ("-0.5", sources.RATING_BELOW_MIN),
    ]
    for bad, reason in cases:
        with pytest.raises(sources.RowError, match=reason):
            sources.parse_rating(bad, 0.0)
    assert math.isclose(sources.parse_rating("3.5", 3.5), 3.5)


def _log(tmp_path, n_rows):
    path = tmp_path / "log.csv"
    path.write_text(
        "user_id,item_id,timestamp\n" + "".join(f"{r % 7},{r},{r}\n" for r in range(n_rows))
    )
    return SourceConfig(paths=(str(path),), id_type="int")


def _read_all(source, shards):
    cols = sources.preflight(source)
    rows = []
    for shard in shards:
        rows.extend(sources.iter_interactions(source, shard, cols[shard.file_index], 0.0))
    return rows


def test_byte_ranges_read_every_line_exactly_once(tmp_path):
    source = _log(tmp_path, 500)
    whole = _read_all(source, [sources.Shard(0)])
    for shard_bytes in (1, 7, 64, 1000, 10**6):
        shards = sources.plan_shards(source, shard_bytes=shard_bytes)
        got = _read_all(source, shards)
        assert [r.interaction.item for r in got] == [r.interaction.item for r in whole]
        row_ids = [r.interaction.row_id for r in got]
        assert row_ids == sorted(row_ids)  # byte offsets keep the input order
    assert len(whole) == 500
    assert len(sources.plan_shards(source, shard_bytes=1000)) > 1


def test_compressed_and_quoted_files_are_not_split(tmp_path):
    path = tmp_path / "log.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("user_id,item_id,timestamp\n" + "1,2,3\n" * 1000)
    assert sources.plan_shards(SourceConfig(paths=(str(path),)), shard_bytes=10) == [
        sources.Shard(0)
    ]
    plain = tmp_path / "log.csv"
    plain.write_text("user_id,item_id,timestamp\n" + "1,2,3\n" * 1000)
    quoted = SourceConfig(paths=(str(plain),), quoted=True)
    assert sources.plan_shards(quoted, shard_bytes=10) == [sources.Shard(0)]


def test_rejections_locate_their_row(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user_id,item_id,timestamp\n1,2,3\n1,2,x\n")
    source = SourceConfig(paths=(str(path),))
    [bad] = [r.rejection for r in _read_all(source, [sources.Shard(0)]) if r.rejection]
    assert (bad.reason, bad.location, bad.text) == (sources.NON_NUMERIC_TIME, f"{path}:3", "1,2,x")
    [bad] = [r.rejection for r in _read_all(source, sources.plan_shards(source, 5)) if r.rejection]
    assert bad.location == f"{path} (byte 32)"
