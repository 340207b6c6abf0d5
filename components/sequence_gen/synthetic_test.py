"""The synthetic generator: seeded, long-tailed, categorised, with shifting interests."""

import collections

import pytest

from components.sequence_gen import synthetic
from components.sequence_gen.config import ConfigError

SMALL = synthetic.SyntheticConfig(num_users=300, num_items=400, num_categories=12, seed=3)


def _rows(directory):
    lines = (directory / synthetic.INTERACTIONS_FILE).read_text().splitlines()
    assert lines[0] == "user_id,item_id,timestamp,rating"
    return [tuple(int(x) for x in line.split(",")) for line in lines[1:]]


def _categories(directory):
    lines = (directory / synthetic.ITEMS_FILE).read_text().splitlines()[1:]
    return {int(i): c.split("|") for i, c in (line.split(",") for line in lines)}


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    a = synthetic.generate(SMALL, tmp_path / "a")
    b = synthetic.generate(SMALL, tmp_path / "b")
    c = synthetic.generate(
        synthetic.SyntheticConfig(**{**SMALL.__dict__, "seed": 4}), tmp_path / "c"
    )
    for name in (synthetic.INTERACTIONS_FILE, synthetic.ITEMS_FILE):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / synthetic.INTERACTIONS_FILE).read_bytes() != (
        c / synthetic.INTERACTIONS_FILE
    ).read_bytes()


def test_shape_of_the_log(tmp_path):
    d = synthetic.generate(SMALL, tmp_path)
    rows = _rows(d)
    users = {r[0] for r in rows}
    assert len(users) == SMALL.num_users
    mean_length = len(rows) / len(users)
    assert 0.7 * SMALL.mean_length < mean_length < 1.3 * SMALL.mean_length
    # Long tail: the top 10% of items take a much larger share than 10% of the interactions.
    counts = sorted(collections.Counter(r[1] for r in rows).values(), reverse=True)
    top = sum(counts[: SMALL.num_items // 10])
    assert top / len(rows) > 0.35
    # Time increases along every user's rows; ratings are 1-5.
    by_user = collections.defaultdict(list)
    for u, _, t, r in rows:
        by_user[u].append(t)
        assert 1 <= r <= 5
    assert all(ts == sorted(ts) for ts in by_user.values())
    cats = _categories(d)
    assert len(cats) == SMALL.num_items
    assert {c for cs in cats.values() for c in cs} <= {f"genre_{i:02d}" for i in range(12)}


def test_users_follow_a_few_interests(tmp_path):
    d = synthetic.generate(SMALL, tmp_path)
    cats = _categories(d)
    by_user = collections.defaultdict(list)
    for u, i, _, _ in _rows(d):
        by_user[u].append(cats[i][0])
    # Most of a long user's items come from its `interests_per_user` categories (plus noise),
    # far more than the 3/12 a user without interests would show.
    shares = []
    for seq in by_user.values():
        if len(seq) >= 30:
            top = collections.Counter(seq).most_common(SMALL.interests_per_user)
            shares.append(sum(n for _, n in top) / len(seq))
    assert sum(shares) / len(shares) > 0.6


def test_invalid_config_is_refused():
    with pytest.raises(ConfigError, match="interests_per_user"):
        synthetic.SyntheticConfig(num_categories=2, interests_per_user=3)
    with pytest.raises(ConfigError, match="num_users must be >= 1, got 0"):
        synthetic.SyntheticConfig(num_users=0)


def test_shop_shaped_options(tmp_path):
    config = synthetic.SyntheticConfig(
        **{
            **SMALL.__dict__,
            "numeric_categories": True,
            "uncategorized_fraction": 0.2,
            "order_only": True,
        }
    )
    d = synthetic.generate(config, tmp_path)
    header, *lines = (d / synthetic.INTERACTIONS_FILE).read_text().splitlines()
    assert header == "user_id,item_id,position,rating"
    by_user = collections.defaultdict(list)
    for line in lines:
        user, _, position, _ = line.split(",")
        by_user[user].append(int(position))
    assert all(p == list(range(1, len(p) + 1)) for p in by_user.values())
    cells = [line.split(",")[1] for line in (d / synthetic.ITEMS_FILE).read_text().splitlines()[1:]]
    empty = sum(not c for c in cells)
    assert 0.1 * len(cells) < empty < 0.3 * len(cells)
    assert all(c.isdigit() for cell in cells if cell for c in cell.split("|"))
    source = synthetic.source_config(d, order_only=True)
    assert (source.time_column, source.time_type) == ("position", "position")
