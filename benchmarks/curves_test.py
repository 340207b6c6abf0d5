"""Validation curves drawn as a picture."""

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

import curves  # noqa: E402


def test_each_model_is_drawn_in_its_colour(tmp_path):
    path = curves.plot(
        {"sair": [[0.1, 0.15, 0.2], [0.1, 0.16]], "sasrec": [[0.05, 0.1, 0.12]]},
        str(tmp_path / "c.png"),
        "validation full_ndcg_10",
    )
    img = np.asarray(Image.open(path).convert("RGB"))
    assert img.shape[:2] == (curves.HEIGHT, curves.WIDTH)
    colours = {tuple(p) for p in img.reshape(-1, 3)}
    assert curves.COLOURS["sair"] in colours and curves.COLOURS["sasrec"] in colours
    with pytest.raises(ValueError, match="no curve"):
        curves.plot({"sair": [[]]}, str(tmp_path / "e.png"), "t")


def test_the_legend_counts_runs_in_words():
    assert curves.legend_label("sasrec", 1) == "sasrec (1 run)"
    assert curves.legend_label("sair", 3) == "sair (3 runs)"
