"""Interest heat maps like the paper's Figures 2 and 3: along one user's history, the
relevance distribution over the L interests before (`C_r`, eq. 4) and after (`C_r'`, eq. 5)
the interest-interaction layer, from a saved (pushed) model's `interests` signature.

Each column is one position of the history (oldest left), labelled with its item (or the
item's title); each row one interest of the pool, labelled with the categories it stands
for (`export.interest_categories`). A column shows the softmax over the L interests of that
position's relevance, so columns compare across positions and panels; the colour scale
beside the panels gives the share. Drawn with Pillow (no plotting library needed).

    out = interests_of("serving/sair/17", ["1193", "661", "914"])
    render(out["before"], out["after"], "h.png", "user 1", out["item_ids"], out["interests"])
"""

from __future__ import annotations

import csv
import dataclasses
import math
import textwrap
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# viridis at 0, .25, .5, .75, 1
_STOPS = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64
)
FONT_SIZE = 12
LINE = 16  # pixels per line of text
MIN_WIDTH = 640
PLOT_WIDTH = 720  # the width the positions share, within the cell limits below
MIN_CELL, MAX_CELL = 5, 28
LABEL_CHARS = 22  # an item or interest label is cut to this many characters
SCALE_CAPTION = "share of the position's relevance"


def colormap(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] → uint8 RGB (viridis, piecewise linear)."""
    x = np.clip(values, 0.0, 1.0) * (len(_STOPS) - 1)
    low = np.minimum(np.floor(x).astype(int), len(_STOPS) - 2)
    frac = (x - low)[..., None]
    return (_STOPS[low] * (1 - frac) + _STOPS[low + 1] * frac).round().astype(np.uint8)


def softmax_columns(relevance: np.ndarray) -> np.ndarray:
    """`[T, L]` relevance → `[T, L]` distributions (softmax over L per position)."""
    z = relevance - relevance.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def interests_of(model_dir: str, history: Sequence[str], positions: int = 50) -> dict:
    """Runs the SavedModel's `interests` signature on one history (raw ids, oldest first);
    returns the last `positions` real positions: `before`, `after` `[T, L]`, `item_ids`,
    and `interests`, one label per interest (its categories, comma-separated)."""
    import tensorflow as tf

    loaded = tf.saved_model.load(model_dir)
    if "interests" not in loaded.signatures:
        raise ValueError(f"{model_dir} has no `interests` signature (a sasrec model?)")
    out = loaded.signatures["interests"](history=tf.constant([list(history)]))
    ids = out["item_ids"].numpy()[0].astype(str)
    keep = np.flatnonzero(ids != "")[-positions:]
    if len(keep) == 0:
        raise ValueError("none of the history's items is in the model's catalog")
    categories = out["interest_categories"].numpy()[0].astype(str)
    return {
        "before": out["before"].numpy()[0][keep],
        "after": out["after"].numpy()[0][keep],
        "item_ids": list(ids[keep]),
        "interests": [", ".join(c for c in row if c) for row in categories],
    }


def read_titles(path: str, encoding: str = "utf-8") -> dict[str, str]:
    """Item id → title from an item file: MovieLens' `movies.dat` (`id::title::genres`),
    `u.item` (`id|title|...`), or a CSV with a header whose first column is the id and
    which has a `title` column (e.g. ML-20M's `movies.csv`)."""
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        first = f.readline()
        f.seek(0)
        if "::" in first:
            return {r[0]: r[1] for r in (line.rstrip("\n").split("::") for line in f) if len(r) > 1}
        if "|" in first and "," not in first.split("|")[0]:
            return {r[0]: r[1] for r in csv.reader(f, delimiter="|") if len(r) > 1}
        rows = csv.DictReader(f)
        fields = rows.fieldnames or []
        if "title" not in fields:
            raise ValueError(f"{path}: no `title` column in {fields}")
        return {r[fields[0]]: r["title"] for r in rows}


@dataclasses.dataclass(frozen=True)
class Layout:
    """What `render` drew, for the caller and the tests."""

    size: tuple[int, int]
    title_lines: tuple[str, ...]
    panel_titles: tuple[str, ...]
    item_labels: tuple[str, ...]  # the labels drawn along the position axis, in order
    interest_labels: tuple[str, ...]  # one per row
    axis_titles: tuple[str, ...]
    scale: tuple[int, int, int, int]  # the colour scale's box: left, top, right, bottom
    panels: tuple[tuple[int, int], ...]  # the top-left corner of each panel
    cell: tuple[int, int]  # width of a position, height of an interest
    text_boxes: tuple[tuple[int, int, int, int], ...]  # every text drawn


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def render(
    before: np.ndarray,
    after: np.ndarray,
    path: str,
    title: str = "",
    item_labels: Sequence[str] | None = None,
    interest_labels: Sequence[str] | None = None,
) -> Layout:
    """Writes a PNG with the two panels (softmax per column), one above the other, the items
    along the bottom, the interests along the left and a colour scale on the right."""
    t, num_interests = before.shape
    items = [_cut(x) for x in (item_labels or [str(i + 1) for i in range(t)])]
    rows = [
        _cut(f"{i}: {label}" if label else str(i))
        for i, label in enumerate(interest_labels or [""] * num_interests)
    ]
    font = ImageFont.load_default(size=FONT_SIZE)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def width_of(text: str) -> int:
        return math.ceil(measure.textlength(text, font=font))

    cell = int(min(MAX_CELL, max(MIN_CELL, PLOT_WIDTH // max(t, 1))))
    row_h = max(cell, LINE)
    left = 12 + max(width_of(r) for r in rows) + 8
    plot_w, panel_h = t * cell, num_interests * row_h
    scale_w, scale_gap = 14, 16
    scale_text = width_of("1.0") + 6
    panel_titles = (
        "before the interaction layer (C_r, eq. 4)",
        "after the interaction layer (C_r', eq. 5)",
    )
    axis_titles = (
        "item at each position of the history (oldest left)",
        "interest (the categories it stands for)",
        SCALE_CAPTION,
    )
    panels_w = max(plot_w, *(width_of(x) for x in panel_titles))  # titles stay clear of the scale
    content_w = left + panels_w + scale_gap + scale_w + scale_text + 12
    texts_w = max(width_of(x) for x in (*panel_titles, axis_titles[0], axis_titles[2])) + 2 * 12
    width = max(MIN_WIDTH, content_w, left + texts_w)
    title_lines: tuple[str, ...] = ()
    for wrap in range(max(len(title), 1), 0, -4):  # the longest lines that fit
        title_lines = tuple(textwrap.wrap(title, wrap))
        if all(width_of(line) <= width - 24 for line in title_lines):
            break
    label_h = max(width_of(x) for x in items) + 8
    top = 12 + LINE * (len(title_lines) + 2)  # the title, the rows' title, the panel's title
    gap = 2 * LINE
    bottom = label_h + 2 * LINE + 10
    height = top + 2 * panel_h + gap + bottom
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    boxes = []

    def text(xy, value):
        draw.text(xy, value, fill="black", font=font)
        boxes.append((int(xy[0]), int(xy[1]), int(xy[0]) + width_of(value), int(xy[1]) + LINE))

    for i, line in enumerate(title_lines):
        text((12, 8 + i * LINE), line)
    text((12, 10 + LINE * len(title_lines)), axis_titles[1])
    for p, (label, values) in enumerate(zip(panel_titles, (before, after), strict=True)):
        y0 = top + p * (panel_h + gap)
        rgb = colormap(softmax_columns(values).T)  # [L, T, 3]
        tile = Image.fromarray(rgb, "RGB").resize((plot_w, panel_h), Image.NEAREST)
        img.paste(tile, (left, y0))
        text((left, y0 - LINE), label)
        for i, row in enumerate(rows):
            text((12, y0 + i * row_h + (row_h - LINE) // 2 + 2), row)
    # The items, written upwards under their columns; every k-th when the columns are narrow.
    every = max(1, math.ceil(LINE / cell))
    drawn = []
    y_items = top + 2 * panel_h + gap + 4
    for pos in range(t - 1, -1, -every):  # the last position is always labelled
        label = items[pos]
        strip = Image.new("RGB", (width_of(label) + 2, LINE), "white")
        ImageDraw.Draw(strip).text((0, 0), label, fill="black", font=font)
        rotated = strip.rotate(90, expand=True)
        x = left + pos * cell + (cell - LINE) // 2
        img.paste(rotated, (x, y_items + label_h - 8 - rotated.size[1]))
        boxes.append((x, y_items, x + LINE, y_items + label_h))
        drawn.append(label)
    text((left, y_items + label_h), axis_titles[0])
    # The colour scale: one bar for both panels, from 0 (bottom) to 1 (top).
    sx, sy = left + panels_w + scale_gap, top
    sh = 2 * panel_h + gap
    bar = colormap(np.linspace(1.0, 0.0, sh))[:, None, :].repeat(scale_w, axis=1)
    img.paste(Image.fromarray(bar, "RGB"), (sx, sy))
    for value, y in (("1.0", sy), ("0.5", sy + sh // 2 - LINE // 2), ("0.0", sy + sh - LINE)):
        text((sx + scale_w + 4, y), value)
    text((max(12, width - 12 - width_of(axis_titles[2])), y_items + label_h + LINE), axis_titles[2])
    img.save(path)
    return Layout(
        size=img.size,
        title_lines=title_lines,
        panel_titles=panel_titles,
        item_labels=tuple(reversed(drawn)),
        interest_labels=tuple(rows),
        axis_titles=axis_titles,
        scale=(sx, sy, sx + scale_w, sy + sh),
        panels=((left, top), (left, top + panel_h + gap)),
        cell=(cell, row_h),
        text_boxes=tuple(boxes),
    )
