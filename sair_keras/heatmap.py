"""Interest heat maps like the paper's Figures 2 and 3: along one user's sequence, the
relevance distribution over the L interests before (`C_r`, eq. 4) and after (`C_r'`, eq. 5)
the interest-interaction layer, from a saved (pushed) model's `interests` signature.

Each column is one position of the history (oldest left); each row one interest of the
pool. A column shows softmax over the L interests of that position's relevance, so columns
compare across positions and panels. Drawn with Pillow (no plotting library needed).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# viridis at 0, .25, .5, .75, 1
_STOPS = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64
)


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
    returns the last `positions` real positions: `before`, `after` `[T, L]`, `item_ids`."""
    import tensorflow as tf

    loaded = tf.saved_model.load(model_dir)
    if "interests" not in loaded.signatures:
        raise ValueError(f"{model_dir} has no `interests` signature (a sasrec model?)")
    out = loaded.signatures["interests"](history=tf.constant([list(history)]))
    ids = out["item_ids"].numpy()[0].astype(str)
    real = ids != ""
    keep = np.flatnonzero(real)[-positions:]
    return {
        "before": out["before"].numpy()[0][keep],
        "after": out["after"].numpy()[0][keep],
        "item_ids": list(ids[keep]),
    }


def render(before: np.ndarray, after: np.ndarray, path: str, title: str = "", cell: int = 12):
    """Writes a PNG with the two panels (softmax per column), one above the other."""
    t, num_interests = before.shape
    font = ImageFont.load_default()
    left, top, gap, bottom = 40, 34, 34, 30
    panel_h = num_interests * cell
    width = left + t * cell + 20
    height = top + 2 * panel_h + gap + bottom
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((left, 4), title, fill="black", font=font)
    panels = (
        ("before the interaction layer (C_r, eq. 4)", before),
        ("after the interaction layer (eq. 5)", after),
    )
    for p, (label, values) in enumerate(panels):
        y0 = top + p * (panel_h + gap)
        rgb = colormap(softmax_columns(values).T)  # [L, T, 3]
        tile = Image.fromarray(rgb, "RGB").resize((t * cell, panel_h), Image.NEAREST)
        img.paste(tile, (left, y0))
        draw.text((left, y0 - 13), label, fill="black", font=font)
        for i in range(0, num_interests, max(1, num_interests // 5)):
            draw.text((8, y0 + i * cell), str(i), fill="black", font=font)
    y = top + 2 * panel_h + gap + 4
    for pos in range(0, t, 10):
        draw.text((left + pos * cell, y), str(pos + 1), fill="black", font=font)
    draw.text(
        (left, y + 12),
        "position in the history (oldest left); rows: interests",
        fill="black",
        font=font,
    )
    img.save(path)
    return path
