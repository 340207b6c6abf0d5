"""`synthesize`: a seeded log of the size asked for."""

from __future__ import annotations

import csv

import pipeline_runner
from components.sequence_gen import synthetic


def test_synthesize_writes_a_seeded_log(tmp_path):
    argv = ["synthesize", "--users", "12", "--items", "30", "--categories", "4", "--seed", "5"]
    assert pipeline_runner.main([*argv, "--output", str(tmp_path / "a")]) == 0
    assert pipeline_runner.main([*argv, "--output", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / synthetic.INTERACTIONS_FILE).read_text()
    assert a == (tmp_path / "b" / synthetic.INTERACTIONS_FILE).read_text()
    rows = list(csv.DictReader(a.splitlines()))
    assert len({r["user_id"] for r in rows}) == 12
