"""`recommend`: what it hands to the batch recommendation and what it prints."""

from __future__ import annotations

import pipeline_runner
from components.batch_recommend import recommend


def test_recommend_passes_its_arguments_and_names_the_outputs(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake(examples, model, output, make_pipeline, batch_size):
        seen.update(examples=examples, model=model, output=output, batch_size=batch_size)
        return 7

    monkeypatch.setattr(recommend, "run_batch_recommendation", fake)
    out = str(tmp_path / "recs")
    argv = ["recommend", "--model", "m", "--examples", "e", "--output", out, "--batch-size", "9"]
    assert pipeline_runner.main(argv) == 0
    assert seen == {"examples": "e", "model": "m", "output": out, "batch_size": 9}
    printed = capsys.readouterr()
    assert recommend.CSV_DIR in printed.out and recommend.TFRECORD_DIR in printed.out
    assert "top-N for 7 users" in printed.err
