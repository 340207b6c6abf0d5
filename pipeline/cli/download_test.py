"""`download`: prints where the archive is."""

from __future__ import annotations

import pipeline_runner
from components.sequence_gen import movielens


def test_download_prints_the_folder(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(
        movielens, "download", lambda dataset, cache: calls.append((dataset, cache)) or "/c/x"
    )
    assert pipeline_runner.main(["download", "--dataset", "ml-1m", "--cache-dir", "c"]) == 0
    assert calls == [("ml-1m", "c")]
    assert capsys.readouterr().out.strip() == "/c/x"


def test_a_failed_download_is_one_line(monkeypatch, capsys):
    def fail(dataset, cache):
        raise movielens.DownloadError("checksum mismatch for ml-1m.zip")

    monkeypatch.setattr(movielens, "download", fail)
    assert pipeline_runner.main(["download", "--dataset", "ml-1m"]) == 2
    assert capsys.readouterr().err.strip() == "error: checksum mismatch for ml-1m.zip"
