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


def _rendered(tmp_path, positions: int, interests: int = 10):
    rng = np.random.default_rng(0)
    before = rng.normal(size=(positions, interests))
    items = [f"{1000 + i} A Movie With A Long Title ({1990 + i % 30})" for i in range(positions)]
    labels = ["Drama, Romance, War"] * interests
    title = f"interest relevance along user 42 (last {positions} positions)"
    path = str(tmp_path / f"h{positions}.png")
    layout = heatmap.render(before, before * 2, path, title, items, labels)
    return layout, np.asarray(Image.open(path).convert("RGB")), items


@pytest.mark.parametrize("positions", [5, 150])
def test_the_heat_map_is_readable_at_any_history_length(tmp_path, positions):
    layout, img, items = _rendered(tmp_path, positions)
    height, width = img.shape[:2]
    assert layout.size == (width, height)
    assert width >= heatmap.MIN_WIDTH
    # Every text lies whole inside the image, titles included.
    for left, top, right, bottom in layout.text_boxes:
        assert 0 <= left and right <= width and 0 <= top and bottom <= height
    # No text runs into the colour scale or into another text.
    boxes = [*layout.text_boxes, layout.scale]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert " ".join(layout.title_lines) == (
        f"interest relevance along user 42 (last {positions} positions)"
    )
    assert len(layout.panel_titles) == 2 and heatmap.SCALE_CAPTION in layout.axis_titles
    # Interests labelled by their categories, items along the axis (the last always).
    assert layout.interest_labels[3] == "3: Drama, Romance, War"
    assert layout.item_labels[-1] == heatmap._cut(items[-1])
    # Every position when there is room, else every k-th (k = 4 at 150 positions).
    assert len(layout.item_labels) == (5 if positions == 5 else 38)
    # The colour scale runs from the top colour (share 1) down to the bottom one (share 0).
    left, top, right, bottom = layout.scale
    np.testing.assert_array_equal(img[top, (left + right) // 2], heatmap.colormap(np.array(1.0)))
    np.testing.assert_array_equal(
        img[bottom - 1, (left + right) // 2], heatmap.colormap(np.array(0.0))
    )


def test_render_draws_each_position_and_interest(tmp_path):
    before = np.zeros((3, 2))
    before[1, 1] = 50.0  # position 1: all weight on interest 1
    layout = heatmap.render(before, before, str(tmp_path / "h.png"))
    img = np.asarray(Image.open(tmp_path / "h.png").convert("RGB"))
    (x0, y0), (cell, row) = layout.panels[0], layout.cell

    def cell_rgb(pos, interest):
        return img[y0 + interest * row + row // 2, x0 + pos * cell + cell // 2]

    np.testing.assert_array_equal(cell_rgb(1, 1), [253, 231, 37])  # weight 1 → top colour
    np.testing.assert_array_equal(cell_rgb(1, 0), [68, 1, 84])  # weight 0 → bottom colour
    np.testing.assert_array_equal(cell_rgb(0, 0), heatmap.colormap(np.array(0.5)))


def test_titles_from_movielens_and_csv_item_files(tmp_path):
    dat = tmp_path / "movies.dat"
    dat.write_text("1::Toy Story (1995)::Animation|Comedy\n2::Jumanji (1995)::Adventure\n")
    assert heatmap.read_titles(str(dat)) == {"1": "Toy Story (1995)", "2": "Jumanji (1995)"}
    item = tmp_path / "u.item"
    item.write_text("1|Toy Story (1995)|01-Jan-1995||http://x|0|0\n")
    assert heatmap.read_titles(str(item)) == {"1": "Toy Story (1995)"}
    movies = tmp_path / "movies.csv"
    movies.write_text('movieId,title,genres\n1,"Toy Story (1995)",Animation\n')
    assert heatmap.read_titles(str(movies)) == {"1": "Toy Story (1995)"}
    (tmp_path / "bad.csv").write_text("id,name\n1,x\n")
    with pytest.raises(ValueError, match="no `title` column"):
        heatmap.read_titles(str(tmp_path / "bad.csv"))


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
    assert len(out["interests"]) == 4


def test_each_interest_is_labelled_with_the_categories_of_the_items_it_scores_highest():
    tf.keras.utils.set_random_seed(0)
    synthetic = Catalog.synthetic(40, 3)
    one_each = synthetic.item_categories.copy()
    one_each[:, 1:] = 0  # one category per item: the labels are certain
    catalog = Catalog(synthetic.item_ids, synthetic.num_categories, one_each)
    model = build_model(catalog, ModelConfig(max_len=8, hidden_dim=8, num_interests=4, top_k=2))
    model(tf.zeros((1, 8), tf.int64))
    pool = model.interest_pool().numpy()
    items = model.embedding.item_embedding.numpy()
    first = 2
    # Make interest 0 point at exactly the items of category index 2.
    of_category = (catalog.item_categories == 2).any(axis=1)
    of_category[:first] = False
    target = items[of_category].mean(axis=0) - items[~of_category][first:].mean(axis=0)
    pool[0] = 100 * target
    model.relevance.pool.assign(pool)
    labels = export.interest_categories(model, catalog, items_per_interest=int(of_category.sum()))
    assert labels.shape == (4, 3)
    assert labels[0, 0] == catalog.category_names[2]
    label_model = build_model(catalog, ModelConfig(variant="sair_label", max_len=8, hidden_dim=8))
    label_model(tf.zeros((1, 8), tf.int64))
    own = export.interest_categories(label_model, catalog)
    assert list(own[:, 0]) == list(catalog.category_names[1:])


def test_sasrec_has_no_interests(tmp_path):
    catalog = Catalog.synthetic(10, 2)
    model = build_model(catalog, ModelConfig(variant="sasrec", max_len=4, hidden_dim=8))
    export.export_serving_model(model, catalog, str(tmp_path), top_n=3)
    with pytest.raises(ValueError, match="no `interests` signature"):
        heatmap.interests_of(str(tmp_path), ["1"])
