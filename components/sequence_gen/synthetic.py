"""A seeded synthetic interaction log with the structure SAIR models.

Items have long-tail (Zipf) popularity and one or two categories. Each user has a few
latent interests (categories); along the sequence one interest dominates at a time and the
dominant interest shifts now and then. Each step picks an item of the dominant interest by
popularity, or (with `noise`) any item by popularity. The same config gives the same files.

Files: `interactions.csv` (user_id,item_id,timestamp,rating) and `items.csv`
(item_id,categories with "|"), read by the generic CSV source.

Options give the shapes of other logs: `numeric_categories` writes categories as numeric
attribute ids (a shop's), `uncategorized_fraction` leaves some items without any, and
`order_only` writes a `position` column (each user's interactions numbered 1, 2, ...)
instead of times, as logs that keep only the order do.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from components.sequence_gen.config import ConfigError, ItemTable, SourceConfig

INTERACTIONS_FILE = "interactions.csv"
ITEMS_FILE = "items.csv"


@dataclasses.dataclass(frozen=True)
class SyntheticConfig:
    num_users: int = 2000
    num_items: int = 1000
    num_categories: int = 18
    mean_length: float = 40.0
    min_length: int = 2
    interests_per_user: int = 3
    shift_probability: float = 0.08
    noise: float = 0.15
    popularity_exponent: float = 1.0
    seed: int = 0
    numeric_categories: bool = False
    uncategorized_fraction: float = 0.0
    order_only: bool = False

    def __post_init__(self) -> None:
        for name in ("num_users", "num_items", "num_categories", "interests_per_user"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.interests_per_user > self.num_categories:
            raise ConfigError(
                f"interests_per_user ({self.interests_per_user}) exceeds num_categories "
                f"({self.num_categories})"
            )
        if not 0.0 <= self.uncategorized_fraction <= 1.0:
            raise ConfigError(
                f"uncategorized_fraction must be in [0, 1], got {self.uncategorized_fraction}"
            )
        if self.mean_length < self.min_length:
            raise ConfigError(f"mean_length {self.mean_length} < min_length {self.min_length}")


TIME_COLUMN = "timestamp"
POSITION_COLUMN = "position"


def source_config(directory: str | Path, order_only: bool = False) -> SourceConfig:
    """The source of a generated log (`order_only`: as generated with that option)."""
    d = Path(directory)
    return SourceConfig(
        paths=(str(d / INTERACTIONS_FILE),),
        format="csv",
        has_header=True,
        user_column="user_id",
        item_column="item_id",
        time_column=POSITION_COLUMN if order_only else TIME_COLUMN,
        time_type="position" if order_only else "numeric",
        rating_column="rating",
        id_type="int",
        name="synthetic",
        items=ItemTable(
            path=str(d / ITEMS_FILE), item_column="item_id", category_column="categories"
        ),
    )


def generate(config: SyntheticConfig, directory: str | Path, users_per_chunk: int = 5000) -> Path:
    """Writes the two files into `directory` (created if needed); returns it."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(config.seed)
    n_items, n_cats = config.num_items, config.num_categories

    ranks = rng.permutation(n_items) + 1
    popularity = 1.0 / ranks.astype(np.float64) ** config.popularity_exponent
    primary = rng.integers(0, n_cats, size=n_items)
    secondary = np.where(rng.random(n_items) < 0.3, rng.integers(0, n_cats, size=n_items), -1)
    secondary[secondary == primary] = -1

    members = [np.flatnonzero((primary == c) | (secondary == c)) for c in range(n_cats)]
    cdfs = [_cdf(popularity[m]) for m in members]
    all_cdf = _cdf(popularity)
    cat_weight = np.array([popularity[m].sum() for m in members]) + 1e-9
    cat_weight /= cat_weight.sum()

    uncategorized = rng.random(n_items) < config.uncategorized_fraction
    with open(d / ITEMS_FILE, "w", encoding="utf-8") as f:
        f.write("item_id,categories\n")
        for i in range(n_items):
            cats = [] if uncategorized[i] else [_category(primary[i], config)]
            if secondary[i] >= 0 and cats:
                cats.append(_category(secondary[i], config))
            f.write(f"{i + 1},{'|'.join(cats)}\n")

    extra = max(config.mean_length - config.min_length, 1e-9)
    with open(d / INTERACTIONS_FILE, "w", encoding="utf-8") as f:
        time_column = POSITION_COLUMN if config.order_only else TIME_COLUMN
        f.write(f"user_id,item_id,{time_column},rating\n")
        for start in range(0, config.num_users, users_per_chunk):
            users = range(start, min(start + users_per_chunk, config.num_users))
            lines = []
            for u in users:
                n = config.min_length + int(rng.geometric(1.0 / (extra + 1.0))) - 1
                interests = rng.choice(
                    n_cats, size=config.interests_per_user, replace=False, p=cat_weight
                )
                shifts = np.cumsum(rng.random(n) < config.shift_probability)
                dominant = rng.choice(interests, size=shifts[-1] + 1)[shifts]
                items = np.empty(n, dtype=np.int64)
                for c in np.unique(dominant):
                    at = np.flatnonzero(dominant == c)
                    if len(members[c]) == 0:
                        items[at] = np.searchsorted(all_cdf, rng.random(len(at)))
                    else:
                        items[at] = members[c][np.searchsorted(cdfs[c], rng.random(len(at)))]
                noisy = np.flatnonzero(rng.random(n) < config.noise)
                items[noisy] = np.searchsorted(all_cdf, rng.random(len(noisy)))
                times = (
                    978_300_000 + rng.integers(0, 10**7) + np.cumsum(rng.integers(1, 5000, size=n))
                )
                if config.order_only:
                    times = np.arange(1, n + 1)
                ratings = rng.integers(1, 6, size=n)
                lines.extend(
                    f"{u + 1},{i + 1},{t},{r}\n"
                    for i, t, r in zip(
                        items.tolist(), times.tolist(), ratings.tolist(), strict=True
                    )
                )
            f.write("".join(lines))
    return d


def _category(c: int, config: SyntheticConfig) -> str:
    # Numeric attribute ids look like a shop's (sparse, wide); names like MovieLens genres.
    return str(1000 + 37 * int(c)) if config.numeric_categories else f"genre_{c:02d}"


def _cdf(weights: np.ndarray) -> np.ndarray:
    if weights.size == 0:  # a category without items is never drawn from
        return weights
    c = np.cumsum(weights)
    c /= c[-1]
    c[-1] = 1.0 + 1e-12  # searchsorted(u < 1) stays in range
    return c
