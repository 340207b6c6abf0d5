"""Validation curves as a picture: a metric by epoch, one line per run, a colour per model.

  plot({"sair": [[0.1, 0.2, ...], ...], "sasrec": [...]}, "val.png", "validation full_ndcg_10")

Drawn with Pillow (no plotting library needed), for docs/RESULTS.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

COLOURS = {"sair": (214, 39, 40), "sasrec": (31, 119, 180), "sair_full": (44, 160, 44)}
OTHER = (127, 127, 127)
WIDTH, HEIGHT = 720, 360
MARGIN = {"left": 64, "right": 120, "top": 34, "bottom": 48}


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def legend_label(name: str, runs: int) -> str:
    """The legend's text for a model: its name and how many runs it draws."""
    return f"{name} ({runs} run{'s' if runs != 1 else ''})"


def plot(curves: dict[str, Sequence[Sequence[float]]], path: str, title: str) -> str:
    """Writes a PNG: x the epoch (1 = after the first), y the metric; every run of a model
    in its colour, a legend with the runs per model."""
    runs = [(name, list(c)) for name, many in curves.items() for c in many if len(c)]
    if not runs:
        raise ValueError("no curve to plot")
    font = ImageFont.load_default(size=12)
    epochs = max(len(c) for _, c in runs)
    low = min(min(c) for _, c in runs)
    high = max(max(c) for _, c in runs)
    step = _nice_step(max(high - low, 1e-6))
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(img)
    x0, y0 = MARGIN["left"], MARGIN["top"]
    x1, y1 = WIDTH - MARGIN["right"], HEIGHT - MARGIN["bottom"]

    def xy(epoch: int, value: float) -> tuple[float, float]:
        x = x0 + (x1 - x0) * (epoch - 1) / max(epochs - 1, 1)
        return x, y1 - (y1 - y0) * (value - low) / (high - low)

    draw.text((x0, 8), title, fill="black", font=font)
    draw.rectangle((x0, y0, x1, y1), outline="black")
    value = low
    while value <= high + step / 2:
        _, y = xy(1, value)
        draw.line((x0 - 4, y, x0, y), fill="black")
        draw.line((x0 + 1, y, x1 - 1, y), fill=(230, 230, 230))
        draw.text((8, y - 7), f"{value:.3f}", fill="black", font=font)
        value += step
    epoch_step = max(1, int(_nice_step(epochs)))
    for epoch in range(epoch_step, epochs + 1, epoch_step):
        x, _ = xy(epoch, low)
        draw.line((x, y1, x, y1 + 4), fill="black")
        draw.text((x - 8, y1 + 6), str(epoch), fill="black", font=font)
    draw.text(((x0 + x1) // 2 - 16, y1 + 26), "epoch", fill="black", font=font)
    for name, curve in runs:
        points = [xy(i + 1, v) for i, v in enumerate(curve)]
        draw.line(points, fill=COLOURS.get(name, OTHER), width=2)
    for i, name in enumerate(curves):
        y = y0 + 8 + i * 18
        draw.line((x1 + 12, y + 7, x1 + 32, y + 7), fill=COLOURS.get(name, OTHER), width=3)
        draw.text((x1 + 38, y), legend_label(name, len(curves[name])), fill="black", font=font)
    img.save(path)
    return path
