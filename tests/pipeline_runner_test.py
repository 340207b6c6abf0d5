"""`pipeline_runner.py ingest` as a user runs it: the report it writes and its error messages."""

import json

import pytest

import pipeline_runner

IN_MEMORY = ["--", "--direct_running_mode=in_memory"]
REPORT_KEYS = {
    "users",
    "items",
    "actions",
    "categories",
    "avg_length",
    "sparsity",
    "rows_read",
    "rows_kept",
    "rows_rejected",
}


def test_ingest_on_the_builtin_synthetic_data(tmp_path, capsys):
    out = tmp_path / "out"
    assert pipeline_runner.main(["ingest", "--output", str(out), *IN_MEMORY]) == 0
    report = json.loads((out / "data_report.json").read_text())
    assert REPORT_KEYS <= set(report)
    assert report["rows_read"] == report["rows_kept"] + sum(report["rows_rejected"].values())
    assert report["users"] == 2000
    printed = capsys.readouterr().out
    assert f"{report['actions']:,}" in printed
    assert "sparsity (%)" in printed
    for split in ("train", "eval", "test"):
        assert list((out / "examples" / f"Split-{split}").glob("data_tfrecord-*.gz"))


def test_ingest_generic_csv_with_flags(tmp_path):
    log = tmp_path / "events.tsv"
    rows = ["who\twhat\twhen\tgenres"]
    rows += [
        f"c{u}\tsku{(u * 7 + i) % 13}\t2024-01-0{i + 1}T10:00:00Z\tA|B"
        for u in range(5)
        for i in range(4)
    ]
    log.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    code = pipeline_runner.main(
        [
            "ingest",
            "--dataset",
            "csv",
            "--data-path",
            str(log),
            "--format",
            "tsv",
            "--user-column",
            "who",
            "--item-column",
            "what",
            "--time-column",
            "when",
            "--time-type",
            "iso8601",
            "--category-column",
            "genres",
            "--num-eval-negatives",
            "2",
            "--output",
            str(out),
            *IN_MEMORY,
        ]
    )
    assert code == 0
    report = json.loads((out / "data_report.json").read_text())
    assert (report["users"], report["actions"], report["categories"]) == (5, 20, 2)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "ml-1m", "--data-dir", "/nonexistent"], "movies.dat not found"),
        (["--dataset", "csv"], "--dataset csv needs --data-path"),
        (["--dataset", "csv", "--data-path", "/nonexistent.csv"], "input file not found"),
        (["--dataset", "csv", "--data-path", "x.csv", "--format", "xls"], "unknown format 'xls'"),
        (["--max-len", "0"], "max_len must be an integer >= 1 or 'auto', got 0"),
    ],
)
def test_bad_arguments_get_a_message_not_a_traceback(tmp_path, capsys, args, message):
    code = pipeline_runner.main(["ingest", *args, "--output", str(tmp_path), *IN_MEMORY])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_malformed_source_config_file(tmp_path, capsys):
    bad = tmp_path / "source.yaml"
    bad.write_text("paths: [a.csv\n")
    code = pipeline_runner.main(
        [
            "ingest",
            "--dataset",
            "csv",
            "--source-config",
            str(bad),
            "--output",
            str(tmp_path),
            *IN_MEMORY,
        ]
    )
    assert code == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_a_truncated_gzip_log_fails_naming_the_file_and_reads_no_rows(tmp_path, capsys):
    import gzip

    rows = ["user_id,item_id,timestamp"] + [f"u{i % 60},i{i % 40},{i}" for i in range(720)]
    whole = gzip.compress(("\n".join(rows) + "\n").encode())
    log = tmp_path / "events.csv.gz"
    log.write_bytes(whole[:300])  # cut mid-stream, as an interrupted copy leaves it
    out = tmp_path / "out"
    args = ["ingest", "--dataset", "csv", "--data-path", str(log), "--output", str(out)]
    assert pipeline_runner.main([*args, *IN_MEMORY]) == 2
    err = capsys.readouterr().err
    assert str(log) in err and "truncated or corrupt" in err
    assert "Traceback" not in err
    assert not (out / "data_report.json").exists()  # no rows reported as read


def test_a_log_without_a_final_newline_keeps_its_last_row(tmp_path):
    log = tmp_path / "events.csv"
    rows = ["user_id,item_id,timestamp"] + [f"u{i % 3},i{i},{i}" for i in range(12)]
    log.write_text("\n".join(rows))  # no newline after the last row
    out = tmp_path / "out"
    args = ["ingest", "--dataset", "csv", "--data-path", str(log), "--output", str(out)]
    assert pipeline_runner.main([*args, "--num-eval-negatives", "2", *IN_MEMORY]) == 0
    report = json.loads((out / "data_report.json").read_text())
    assert report["rows_read"] == report["rows_kept"] == 12


def test_a_corrupt_parquet_file_is_refused_naming_it(tmp_path, capsys):
    bad = tmp_path / "events.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    out = tmp_path / "out"
    args = ["ingest", "--dataset", "csv", "--format", "parquet", "--data-path", str(bad)]
    assert pipeline_runner.main([*args, "--output", str(out), *IN_MEMORY]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: not a readable Parquet file" in err


def test_an_item_file_without_the_given_column_fails_in_one_line_before_beam(tmp_path, capsys):
    log = tmp_path / "events.csv"
    log.write_text(
        "user_id,item_id,timestamp\n" + "".join(f"u{i % 4},i{i},{i}\n" for i in range(20))
    )
    items = tmp_path / "items.csv"
    items.write_text("sku,genres\ni1,Drama\n")
    out = tmp_path / "out"
    args = ["ingest", "--dataset", "csv", "--data-path", str(log), "--items-path", str(items)]
    args += ["--items-category-column", "genres", "--output", str(out)]
    assert pipeline_runner.main([*args, *IN_MEMORY]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "item column 'item_id' is not in the header" in errors[0]
    assert str(items) in errors[0] and "Traceback" not in err


def test_an_unknown_beam_runner_is_refused_in_one_line(tmp_path, capsys):
    args = ["ingest", "--output", str(tmp_path / "out"), "--", "--runner=DataflowRuner"]
    assert pipeline_runner.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown Beam runner 'DataflowRuner'" in err[0]
    assert "DataflowRunner" in err[0] and "DirectRunner" in err[0]


def test_known_beam_runners_pass_the_check_by_any_of_their_names():
    from pipeline.config import check_beam_runner

    for args in (["--runner=flink"], ["--runner", "DirectRunner"], ["--runner=x.y.MyRunner"]):
        check_beam_runner(args)
