"""The candidate-pool redraws: which negatives are drawn and how the target ranks among them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import candidate_pool  # noqa: E402

UNRATED = candidate_pool.UNRATED


def test_pool_indices_marks_items_the_model_has_no_index_for():
    got = candidate_pool.pool_indices(["10", "11", "12"], {"10": 2, "12": 3})
    np.testing.assert_array_equal(got, [2, UNRATED, 3])


def test_unrated_negatives_rank_below_and_ties_count_against_the_target():
    scores = np.array([0.0, 0.0, 0.5, 0.9, 0.5, 0.1])  # index 2 is the target
    pool = np.array([2, 3, 4, 5, UNRATED, UNRATED, UNRATED])
    rank, unrated = candidate_pool.sampled_rank(
        scores, 2, np.array([2]), pool, 6, np.random.default_rng(0)
    )
    assert (rank, unrated) == (2, 3)  # 0.9 above, the tie 0.5 above, 0.1 and the unrated below


def test_items_the_user_has_seen_are_never_drawn():
    scores = np.zeros(40)
    scores[2:10] = 5.0  # seen items would outrank the target
    scores[20] = 1.0  # the target
    pool = np.arange(2, 40)
    seen = np.array([*range(2, 10), 20])
    for seed in range(20):
        rank, unrated = candidate_pool.sampled_rank(
            scores, 20, seen, pool, 29, np.random.default_rng(seed)
        )
        assert (rank, unrated) == (0, 0)


def test_draws_are_uniform_over_the_unseen_pool():
    scores = np.zeros(12)
    scores[11] = 1.0  # the target, seen
    scores[2] = 2.0  # one item above it, drawn with probability 1/9 per negative... once
    pool = np.array([*range(2, 12), UNRATED])
    ranks = [
        candidate_pool.sampled_rank(scores, 11, np.array([11]), pool, 1, np.random.default_rng(s))[
            0
        ]
        for s in range(2000)
    ]
    # 10 unseen pool entries (9 rated, 1 unrated): item 2 is drawn with probability 1/10.
    assert abs(np.mean(ranks) - 0.1) < 0.025


def test_too_small_a_pool_is_refused_naming_the_count():
    with pytest.raises(ValueError, match="only 1 unseen pool items for 2 negatives"):
        candidate_pool.sampled_rank(
            np.zeros(4), 2, np.array([2]), np.array([2, 3]), 2, np.random.default_rng(0)
        )


def _output(runs, draws=5, wall_s=10.0):
    return {"dataset": "ml-1m", "negatives": 100, "draws": draws, "runs": runs, "wall_s": wall_s}


def _run(variant, seed, recipe, hr_10):
    return {"variant": variant, "seed": seed, "recipe": recipe, "rated": {"hr_10": hr_10}}


def test_merge_keeps_earlier_runs_and_replaces_the_ones_evaluated_again():
    previous = _output([_run("sasrec", 0, "default", 0.80), _run("sair", 0, "default", 0.81)])
    new = _output([_run("sair", 0, "default", 0.82), _run("sair", 2, "softmax", 0.83)], wall_s=4.0)
    merged = candidate_pool.merge_results(previous, new)
    assert [
        (r["variant"], r["seed"], r["recipe"], r["rated"]["hr_10"]) for r in merged["runs"]
    ] == [
        ("sasrec", 0, "default", 0.80),
        ("sair", 0, "default", 0.82),
        ("sair", 2, "softmax", 0.83),
    ]
    assert merged["wall_s"] == 14.0
    assert candidate_pool.merge_results(None, new) is new


def test_merge_refuses_an_output_of_another_number_of_draws():
    with pytest.raises(ValueError, match="draws=3, not 5: pass another --out"):
        candidate_pool.merge_results(_output([], draws=3), _output([]))
