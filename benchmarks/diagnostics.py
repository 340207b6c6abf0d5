"""How a trained SAIR model uses its interest pool: does the top-K selection vary across
users and along a sequence, or has it collapsed onto a few interests for everyone?"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import tensorflow as tf

from sair_keras import features, ranking


def head_parts(model, item_seq) -> dict:
    """Of a built `SAIRModel`, at inference, all `[B, N, D]`: the encoder's output
    `features` (F), the interest head's `Σ_k w_k I''_k` (`head`, before the residual, if
    any), and the head on the same F with the previous row's interest selection
    (`swapped_head`; row 0 takes the last row's): how much the head adds to F, and how
    much through the interests."""
    if model.model_config.variant == "sasrec":
        raise ValueError("the sasrec variant has no interest head")
    f, mask = model._encode(tf.cast(item_seq, tf.int64), False)
    indices, values, pool = model._select(f, mask)
    fuse = model.aggregation.fuse
    return {
        "features": f,
        "head": fuse(indices, values, f, pool),
        "swapped_head": fuse(tf.roll(indices, 1, 0), tf.roll(values, 1, 0), f, pool),
    }


def interest_usage(after: np.ndarray, mask: np.ndarray, top_k: int) -> dict:
    """Statistics of the top-K interest selection (eqs. 6-7) from the relevance after the
    interaction layer.

    Args:
      after: `C_r'`, `[B, N, L]`.
      mask: bool `[B, N]`, True at real positions.
      top_k: K.

    Returns a dict of
      `selection_share`: for each interest (most used first), the share of all top-K slots
        at real positions that hold it; uniform use is `1/L` each.
      `last_position_sets`: the number of distinct top-K sets at users' last positions.
      `top1_changes`: the fraction of consecutive real positions whose top-1 interest
        differs (0: one interest along the whole sequence).
      `entropy`: the mean entropy of `softmax(C_r')` over the L interests at real
        positions, divided by `log L` (1: uniform, 0: one interest).
      `positions`, `users`.
    """
    after = np.asarray(after, np.float64)
    mask = np.asarray(mask, bool)
    num_interests = after.shape[-1]
    top = np.argsort(-after, axis=-1)[..., :top_k]  # [B, N, K]
    counts = np.bincount(top[mask].ravel(), minlength=num_interests)
    share = np.sort(counts / max(counts.sum(), 1))[::-1]
    last = mask.shape[1] - 1  # histories are left-padded: the last slot is the latest item
    users = mask[:, last]
    sets = {tuple(sorted(row)) for row in top[users, last]}
    top1 = top[..., 0]
    both = mask[:, 1:] & mask[:, :-1]
    changes = (top1[:, 1:] != top1[:, :-1])[both]
    z = after - after.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    entropy = -(p * np.log(np.maximum(p, 1e-30))).sum(axis=-1) / np.log(num_interests)
    return {
        "selection_share": [round(float(v), 4) for v in share],
        "last_position_sets": len(sets),
        "top1_changes": round(float(changes.mean()), 4) if changes.size else 0.0,
        "entropy": round(float(entropy[mask].mean()), 4),
        "positions": int(mask.sum()),
        "users": int(users.sum()),
    }


def model_interest_usage(model, batches: Iterable[dict]) -> dict:
    """`interest_usage` of a SAIRModel (not `sasrec`) over evaluation batches, `after` the
    interaction layer (the selection the model makes) and `before` it (the selection top-K
    would make on `C_r` alone)."""
    found: dict[str, list[np.ndarray]] = {"before": [], "after": []}
    mask = []
    width = model.model_config.max_len  # batches may be narrower (no all-padding columns)

    def left_pad(a: np.ndarray) -> np.ndarray:
        pad = [(0, 0)] * a.ndim
        pad[1] = (width - a.shape[1], 0)
        return np.pad(a, pad)

    for batch in batches:
        seq = tf.cast(batch[features.ITEM_SEQ], tf.int64)
        for name, value in model.interest_distributions(seq).items():
            found[name].append(left_pad(value.numpy()))
        mask.append(left_pad((seq != features.PAD_INDEX).numpy()))
    mask = np.concatenate(mask)
    k = model.model_config.top_k
    return {name: interest_usage(np.concatenate(v), mask, k) for name, v in found.items()}


def head_share(
    features_last: np.ndarray, head_last: np.ndarray, swapped_last: np.ndarray | None = None
) -> dict:
    """How much the interest head adds to the encoder's output at users' last positions.

    Args:
      features_last: `F_t`, `[U, D]`, one row per user.
      head_last: the head's `Σ_k w_k I''_k` at the same positions, `[U, D]`.
      swapped_last: optional, the head on the same F but with another user's interest
        selection (indices and values), `[U, D]`.

    Returns a dict of
      `norm_ratio`: the mean of `‖head‖ / ‖F‖` (0: the head adds nothing);
      `cosine`: the mean cosine between head and F (near 1: the head rescales F);
      `spread`: the mean distance of a user's head from the users' mean head, over the
        mean head norm (0: the same vector for everyone, a bias that hardly changes the
        ranking);
      `selection_effect` (with `swapped_last`): the mean of `‖head − swapped‖ / ‖head‖`,
        how much the head depends on which interests were selected (0: not at all, the
        head is a function of F alone);
      `users`.
    """
    f = np.asarray(features_last, np.float64)
    h = np.asarray(head_last, np.float64)
    f_norm = np.linalg.norm(f, axis=-1)
    h_norm = np.linalg.norm(h, axis=-1)
    cosine = (f * h).sum(-1) / np.maximum(f_norm * h_norm, 1e-12)
    spread = np.linalg.norm(h - h.mean(axis=0), axis=-1).mean() / max(h_norm.mean(), 1e-12)
    result = {
        "norm_ratio": round(float((h_norm / np.maximum(f_norm, 1e-12)).mean()), 4),
        "cosine": round(float(cosine.mean()), 4),
        "spread": round(float(spread), 4),
    }
    if swapped_last is not None:
        moved = np.linalg.norm(h - np.asarray(swapped_last, np.float64), axis=-1)
        result["selection_effect"] = round(float((moved / np.maximum(h_norm, 1e-12)).mean()), 4)
    result["users"] = int(f.shape[0])
    return result


def model_head_share(model, batches: Iterable[dict]) -> dict:
    """`head_share` of a SAIRModel (not `sasrec`) over evaluation batches; the swapped
    selection is the previous user's in the batch."""
    f, h, swapped = [], [], []
    for batch in batches:
        seq = tf.cast(batch[features.ITEM_SEQ], tf.int64)
        parts = head_parts(model, seq)
        # left-padded: the last slot is the latest item
        f.append(parts["features"][:, -1].numpy())
        h.append(parts["head"][:, -1].numpy())
        swapped.append(parts["swapped_head"][:, -1].numpy())
    return head_share(*(np.concatenate(x) for x in (f, h, swapped)))


def head_ablation(model, batches: Iterable[dict], cutoffs: tuple[int, ...] = (10,)) -> dict:
    """Sampled test metrics of a SAIRModel (not `sasrec`) with its interest head changed at
    inference, the weights untouched: does the ranking depend on the interests?

    Returns `{"model": …, "swapped_interests": …, "without_head": …}`, each
    `{hr_K, ndcg_K, users}` on the evaluation batches (`item_seq`, `target`, `negatives`):
      `model`: as trained;
      `swapped_interests`: every user's head gets the previous user's interest selection
        (its F unchanged; `head_parts`);
      `without_head`: `e = LN(F)` (or F without the LayerNorm), SASRec's output through
        the head's LayerNorm; only with the residual (without it the head is the whole
        output) else None.
    """
    from sair_keras.model import evaluation_candidates
    from sair_keras.train import rank_metrics  # train imports the model, as we do

    agg = model.aggregation
    ranks: dict[str, list[np.ndarray]] = {"model": [], "swapped_interests": [], "without_head": []}
    for batch in batches:
        seq = tf.cast(batch[features.ITEM_SEQ], tf.int64)
        mask = seq != features.PAD_INDEX
        parts = head_parts(model, seq)
        f = parts["features"]
        candidates = evaluation_candidates(batch)
        heads = {"model": parts["head"], "swapped_interests": parts["swapped_head"]}
        if agg.residual:
            heads["without_head"] = tf.zeros_like(f)
        for name, head in heads.items():
            user = agg.combine(f, head, mask)[:, -1]  # left-padded: the latest item is last
            scores = model.score(user, candidates)
            ranks[name].append(ranking.pessimistic_rank(scores).numpy())
    return {
        name: rank_metrics(np.concatenate(r), cutoffs) if r else None for name, r in ranks.items()
    }
