"""`heatmap`: which history it draws, and its messages when it has none."""

from __future__ import annotations

import pipeline_runner
from sair_keras import heatmap


def test_heatmap_without_a_history_says_what_it_needs(capsys):
    assert pipeline_runner.main(["heatmap", "--model", "m", "--output", "x.png"]) == 2
    assert "needs --history, or --user with --examples" in capsys.readouterr().err


def test_heatmap_draws_the_history_given(tmp_path, monkeypatch, capsys):
    seen = {}

    def interests_of(model, history, positions):
        seen.update(model=model, history=history, positions=positions)
        return {"item_ids": history, "before": None, "after": None, "interests": ["x", "y"]}

    monkeypatch.setattr(heatmap, "interests_of", interests_of)
    monkeypatch.setattr(heatmap, "render", lambda *args: seen.update(drawn=args[3:]))
    out = str(tmp_path / "h.png")
    argv = ["heatmap", "--model", "m", "--history", "a, b,c", "--positions", "2", "--output", out]
    assert pipeline_runner.main(argv) == 0
    assert (seen["history"], seen["positions"]) == (["a", "b", "c"], 2)
    title, items, interests = seen["drawn"]
    assert title == "interest relevance along 3 items (last 3 positions)"
    assert (items, interests) == (["a", "b", "c"], ["x", "y"])
    assert out in capsys.readouterr().out
