"""`ingest`: the source and data settings it hands to the ingestion."""

from __future__ import annotations

import pipeline_runner
from components.sequence_gen import ingest


def test_the_file_and_the_flags_make_the_data_settings(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_ingestion(source, config, outputs, make_pipeline):
        seen.update(source=source, config=config)
        return {"users": 3, "items": 4, "actions": 12, "rows_read": 12, "rows_kept": 12}

    monkeypatch.setattr(ingest, "run_ingestion", fake_ingestion)
    monkeypatch.setattr("components.sequence_gen.report.format_table", lambda r: "table")
    cfg = tmp_path / "ingest.yaml"
    cfg.write_text(
        "source: {paths: [events.csv], name: shop}\ndata: {num_eval_negatives: 5, max_len: 9}\n"
    )
    argv = ["ingest", "--config", str(cfg), "--max-len", "12", "--data-seed", "3"]
    assert pipeline_runner.main([*argv, "--output", str(tmp_path / "out")]) == 0
    assert seen["source"].name == "shop"
    config = seen["config"]
    assert (config.num_eval_negatives, config.max_len, config.seed) == (5, 12, 3)
    assert "data report:" in capsys.readouterr().out
