"""Interest heat maps from a saved model's `interests` signature."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from sair_keras import export, heatmap
from sair_keras.catalog import Catalog
from sair_keras.config import ModelConfig
from sair_keras.model import build_model


def test_colormap_ends_and_softmax_columns():
    np.testing.assert_array_equal(
        heatmap.colormap(np.array([0.0, 1.0])), [[68, 1, 84], [253, 231, 37]]
    )
    dist = heatmap.softmax_columns(np.array([[0.0, 0.0], [10.0, 0.0]]))
    np.testing.assert_allclose(dist.sum(axis=1), 1.0)
    np.testing.assert_allclose(dist[0], [0.5, 0.5])
    assert dist[1, 0] > 0.99


def test_render_draws_each_position_and_interest(tmp_path):
    before = np.zeros((3, 2))
    before[1, 1] = 50.0  # position 1: all weight on interest 1
    path = heatmap.render(before, before, str(tmp_path / "h.png"), cell=10)
    img = np.asarray(Image.open(path).convert("RGB"))
    left, top = 40, 34
    cell_rgb = lambda pos, interest: img[top + interest * 10 + 5, left + pos * 10 + 5]  # noqa: E731
    np.testing.assert_array_equal(cell_rgb(1, 1), [253, 231, 37])  # weight 1 → top colour
    np.testing.assert_array_equal(cell_rgb(1, 0), [68, 1, 84])  # weight 0 → bottom colour
    np.testing.assert_array_equal(cell_rgb(0, 0), heatmap.colormap(np.array(0.5)))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    catalog = Catalog.synthetic(30, 4)
    model = build_model(catalog, ModelConfig(max_len=8, hidden_dim=8, num_interests=4, top_k=2))
    path = str(tmp_path_factory.mktemp("m"))
    export.export_serving_model(model, catalog, path, top_n=5)
    return model, path


def test_interests_of_a_saved_model_match_the_keras_model(exported):
    model, path = exported
    history = ["3", "7", "nope", "11", "20"]  # "nope" is unknown: dropped
    out = heatmap.interests_of(path, history, positions=3)
    assert out["item_ids"] == ["7", "11", "20"]
    assert out["before"].shape == out["after"].shape == (3, 4)
    indices = tf.constant([[0, 0, 0, 0, 5, 9, 13, 22]], tf.int64)  # raw id i ↔ index i + 2
    direct = model.interest_distributions(indices)
    np.testing.assert_allclose(out["before"], direct["before"].numpy()[0, -3:], rtol=1e-5)
    np.testing.assert_allclose(out["after"], direct["after"].numpy()[0, -3:], rtol=1e-5)
    assert not np.allclose(out["before"], out["after"])


def test_sasrec_has_no_interests(tmp_path):
    catalog = Catalog.synthetic(10, 2)
    model = build_model(catalog, ModelConfig(variant="sasrec", max_len=4, hidden_dim=8))
    export.export_serving_model(model, catalog, str(tmp_path), top_n=3)
    with pytest.raises(ValueError, match="no `interests` signature"):
        heatmap.interests_of(str(tmp_path), ["1"])
