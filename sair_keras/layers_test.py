"""Shapes, masking, causality and config round-trips of every SAIR layer."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from sair_keras.embedding import SequenceEmbedding
from sair_keras.encoder import (
    CausalSelfAttention,
    CausalSelfAttentionBlock,
    SequenceEncoder,
    attention_bias,
    causal_padding_mask,
)
from sair_keras.interests import (
    InterestAggregation,
    InterestInteraction,
    InterestRelevance,
    TopKInterest,
)
from sair_keras.regularizers import DeCovRegularizer

B, N, D, L, K = 2, 6, 8, 5, 3
RNG = np.random.default_rng(0)
MASK = tf.constant([[False, False, True, True, True, True], [True] * N])


def _x(shape=(B, N, D)):
    return tf.constant(RNG.normal(size=shape).astype("float32"))


def test_causal_padding_mask():
    m = causal_padding_mask(tf.constant([[False, True, True]])).numpy()[0]
    assert m.tolist() == [[True, False, False], [False, True, False], [False, True, True]]


def test_sequence_embedding_shapes_padding_and_category_mean():
    table = np.zeros((6, 2), dtype=np.int64)
    table[2] = [2, 3]  # item 2 has categories 2 and 3
    table[3] = [2, 0]
    layer = SequenceEmbedding(6, 4, N, D, item_categories=table, max_item_categories=2)
    seq = tf.constant([[0, 0, 2, 3, 4, 5]] * B, tf.int64)
    out = layer(seq)
    assert out.shape == (B, N, D)
    np.testing.assert_array_equal(out.numpy()[:, :2], 0.0)  # padding embeds to zeros
    expected = (
        layer.item_embedding[2] + (layer.category_embedding[2] + layer.category_embedding[3]) / 2
    )
    np.testing.assert_allclose(layer.item_vectors(tf.constant([2])).numpy()[0], expected, rtol=1e-6)
    with pytest.raises(ValueError, match=r"item_categories must have shape \(6, 1\)"):
        SequenceEmbedding(6, 4, N, D, item_categories=table)
    with pytest.raises(ValueError, match="hidden_dim must be >= 1, received 0"):
        SequenceEmbedding(6, 4, N, 0)


def test_encoder_block_is_causal_and_ignores_padding():
    block = CausalSelfAttentionBlock(D, num_heads=2)
    x = _x()
    out = block(x, MASK).numpy()
    assert out.shape == (B, N, D)
    np.testing.assert_array_equal(out[0, :2], 0.0)
    # Garbage at padded positions does not reach real positions.
    garbage = x.numpy().copy()
    garbage[0, :2] = 100.0
    np.testing.assert_allclose(
        block(tf.constant(garbage), MASK).numpy()[0, 2:], out[0, 2:], rtol=1e-5, atol=1e-5
    )
    # Changing position t+1 leaves positions <= t unchanged.
    later = x.numpy().copy()
    later[:, 4] += 1.0
    changed = block(tf.constant(later), MASK).numpy()
    np.testing.assert_allclose(changed[:, :4], out[:, :4], rtol=1e-5, atol=1e-5)
    assert not np.allclose(changed[:, 4], out[:, 4])
    with pytest.raises(ValueError, match="hidden_dim=8, num_heads=3"):
        CausalSelfAttentionBlock(8, num_heads=3)


@pytest.mark.parametrize("heads", [1, 2])
def test_causal_self_attention_matches_numpy(heads):
    """softmax(Q_h K_hᵀ / √d_h + bias) V_h per head, heads concatenated, then W_o."""
    layer = CausalSelfAttention(D, num_heads=heads)
    x = _x()
    out = layer(x, attention_bias(MASK)).numpy()
    w_qkv, b_qkv = layer.qkv_kernel.numpy(), layer.qkv_bias.numpy()
    q, k, v = np.split(x.numpy() @ w_qkv + b_qkv, 3, axis=-1)
    dh = D // heads
    allowed = causal_padding_mask(MASK).numpy()
    heads_out = []
    for h in range(heads):
        part = slice(h * dh, (h + 1) * dh)
        logits = q[..., part] @ np.swapaxes(k[..., part], 1, 2) / math.sqrt(dh)
        logits = np.where(allowed, logits, -1e9)
        weights = np.exp(logits - logits.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        heads_out.append(weights @ v[..., part])
    expected = np.concatenate(heads_out, -1) @ layer.output_kernel.numpy()
    np.testing.assert_allclose(out, expected + layer.output_bias.numpy(), rtol=1e-4, atol=1e-5)
    # Keras MultiHeadAttention's initial scale: glorot over [D, H, d_h] for Q, K, V.
    limit = math.sqrt(6.0 / (D * (heads + dh)))
    assert np.abs(w_qkv).max() <= limit and np.abs(w_qkv).max() > 0.8 * limit
    with pytest.raises(ValueError, match="hidden_dim=8, num_heads=3"):
        CausalSelfAttention(D, num_heads=3)


def test_pre_layer_norm_block_and_stack_match_their_formulas():
    """H = X + Attention(LN(X)), F = H + FFN(LN(H)); the stack normalises its output."""
    block = CausalSelfAttentionBlock(D, num_heads=2, norm_first=True)
    x = _x()
    out = block(x, MASK).numpy()
    h = x + block.attention(block.norm_1(x), attention_bias(MASK))
    inner = block.ffn_1(block.norm_2(h))
    expected = (h + block.ffn_2(inner)).numpy()
    np.testing.assert_allclose(out[1], expected[1], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(out[0, :2], 0.0)
    later = x.numpy().copy()
    later[:, 4] += 1.0  # still causal
    np.testing.assert_allclose(
        block(tf.constant(later), MASK).numpy()[:, :4], out[:, :4], rtol=1e-5, atol=1e-5
    )
    stack = SequenceEncoder(D, num_blocks=2, norm_first=True)
    f = stack(x, MASK).numpy()
    np.testing.assert_allclose(f[1].mean(-1), 0.0, atol=1e-4)  # the final LayerNorm
    np.testing.assert_array_equal(f[0, :2], 0.0)
    post = SequenceEncoder(D, num_blocks=2)
    post(x, MASK)
    assert post.final_norm is None  # post-LayerNorm blocks end normalised already


def test_encoder_stack():
    enc = SequenceEncoder(D, num_blocks=3)
    assert enc(_x(), MASK).shape == (B, N, D)
    assert len(enc.blocks) == 3


def test_encoder_ffn_width_and_activation_match_numpy():
    """F = LN(H + W_2 · gelu(W_1 H)) with W_1 [D, 4D]; the attention half is the layer's own."""
    block = CausalSelfAttentionBlock(D, num_heads=2, ffn_dim=4 * D, ffn_activation="gelu")
    x = _x()
    out = block(x, MASK).numpy()
    assert block.ffn_1.kernel.shape == (D, 4 * D) and block.ffn_2.kernel.shape == (4 * D, D)
    attn = block.attention(x, attention_bias(MASK))
    h = block.norm_1(x + attn).numpy()
    pre = h @ block.ffn_1.kernel.numpy() + block.ffn_1.bias.numpy()
    gelu = 0.5 * pre * (1.0 + np.vectorize(math.erf)(pre / math.sqrt(2.0)))
    ffn = gelu @ block.ffn_2.kernel.numpy() + block.ffn_2.bias.numpy()
    expected = block.norm_2(tf.constant(h + ffn, tf.float32)).numpy()
    np.testing.assert_allclose(out[1], expected[1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out[0, 2:], expected[0, 2:], rtol=1e-4, atol=1e-5)
    stack = SequenceEncoder(D, num_blocks=2, ffn_dim=3 * D, ffn_activation="gelu")
    stack(x, MASK)
    assert {(b.ffn_dim, b.ffn_activation) for b in stack.blocks} == {(3 * D, "gelu")}
    with pytest.raises(ValueError, match="received 'tanh'"):
        CausalSelfAttentionBlock(D, ffn_activation="tanh")
    with pytest.raises(ValueError, match="ffn_dim must be >= 1, received 0"):
        CausalSelfAttentionBlock(D, ffn_dim=0)


def test_interest_relevance_is_f_times_pool_transposed():
    layer = InterestRelevance(L, D, DeCovRegularizer(1.0))
    f = _x()
    out = layer(f)
    np.testing.assert_allclose(
        out.numpy(), np.einsum("bnd,ld->bnl", f.numpy(), layer.pool.numpy()), rtol=1e-5, atol=1e-6
    )
    assert len(layer.losses) == 1  # the DeCov term


def test_interest_interaction_is_causal_and_padding_masked():
    layer = InterestInteraction(L)
    r = _x((B, N, L))
    out = layer(r, MASK).numpy()
    assert out.shape == (B, N, L)
    later = r.numpy().copy()
    later[:, 3] -= 2.0
    changed = layer(tf.constant(later), MASK).numpy()
    np.testing.assert_allclose(changed[:, :3], out[:, :3], rtol=1e-5, atol=1e-6)
    assert not np.allclose(changed[:, 3], out[:, 3])
    garbage = r.numpy().copy()
    garbage[0, :2] = 50.0
    np.testing.assert_allclose(
        layer(tf.constant(garbage), MASK).numpy()[0, 2:], out[0, 2:], rtol=1e-5, atol=1e-6
    )


def test_top_k_interest_matches_numpy():
    relevance = _x((B, N, L))
    pool = tf.constant(RNG.normal(size=(L, D)).astype("float32"))
    values, indices, interests = TopKInterest(K)(relevance, pool)
    r = relevance.numpy()
    ref_idx = np.argsort(-r, axis=-1, kind="stable")[..., :K]
    np.testing.assert_array_equal(indices.numpy(), ref_idx)
    np.testing.assert_allclose(values.numpy(), np.take_along_axis(r, ref_idx, -1), rtol=1e-6)
    np.testing.assert_allclose(interests.numpy(), pool.numpy()[ref_idx], rtol=1e-6)
    assert interests.shape == (B, N, K, D)


def test_top_k_gradient_flows_through_values_and_pool():
    relevance = tf.Variable(_x((B, N, L)))
    pool = tf.Variable(RNG.normal(size=(L, D)).astype("float32"))
    with tf.GradientTape() as tape:
        values, _, interests = TopKInterest(K)(relevance, pool)
        loss = tf.reduce_sum(values) + tf.reduce_sum(interests)
    g_rel, g_pool = tape.gradient(loss, [relevance, pool])
    assert float(tf.norm(g_rel)) > 0 and float(tf.norm(g_pool)) > 0


def test_weights_of_the_same_shape_start_different():
    layer = InterestInteraction(L)
    layer.build((B, N, L))
    assert not np.allclose(layer.w_q.numpy(), layer.w_k.numpy())
    agg = InterestAggregation(K, D)
    agg.build((B, N, K, D))
    assert not np.allclose(np.transpose(agg.w1.numpy(), (1, 0, 2)), agg.w2.numpy())


def test_interest_aggregation_weights_slots_by_softmax():
    layer = InterestAggregation(K, D)
    pool = tf.constant(RNG.normal(size=(L, D)).astype("float32"))
    indices = tf.constant(RNG.integers(0, L, size=(B, N, K)), tf.int32)
    f = _x()
    values = tf.constant(RNG.normal(size=(B, N, K)).astype("float32"))
    out = layer(indices, values, f, pool, MASK).numpy()
    assert out.shape == (B, N, D)
    np.testing.assert_array_equal(out[0, :2], 0.0)
    # Reference, straight from eqs. 8-10: per-slot FFN on C[idx] + F, softmax-weighted sum.
    x = pool.numpy()[indices.numpy()] + f.numpy()[:, :, None]
    w1, b1, w2, b2 = (v.numpy() for v in (layer.w1, layer.b1, layer.w2, layer.b2))
    h = np.maximum(np.einsum("bnkd,dke->bnke", x, w1) + b1, 0)
    h = np.einsum("bnke,ked->bnkd", h, w2) + b2
    w = np.exp(values.numpy()) / np.exp(values.numpy()).sum(-1, keepdims=True)
    np.testing.assert_allclose(out[1], np.einsum("bnk,bnkd->bnd", w, h)[1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "layer",
    [
        SequenceEmbedding(6, 4, N, D, dropout=0.1, max_item_categories=2),
        CausalSelfAttention(D, 2, 0.1),
        CausalSelfAttentionBlock(D, 2, 0.1),
        CausalSelfAttentionBlock(D, 2, 0.1, ffn_dim=4 * D, ffn_activation="gelu"),
        SequenceEncoder(D, 2, 2, 0.1),
        SequenceEncoder(D, 2, 2, 0.1, ffn_dim=4 * D, ffn_activation="gelu"),
        SequenceEncoder(D, 2, 2, 0.1, norm_first=True),
        InterestRelevance(L, D, DeCovRegularizer(0.3)),
        InterestInteraction(L),
        TopKInterest(K),
        InterestAggregation(K, D, 0.1, residual=True),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_every_layer_rebuilds_from_its_config(layer):
    config = keras.layers.serialize(layer)
    clone = keras.layers.deserialize(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()


def test_per_slot_ffn_weights_start_at_glorot_scale():
    # Each slot's D×D matrix gets Glorot's range for fan_in = fan_out = D, not one that
    # counts the K slots (which starts the FFNs several times too small).
    layer = InterestAggregation(K, 64)
    layer.build((B, N, K, 64))
    expected_std = (6.0 / 128) ** 0.5 / 3**0.5
    for w in (layer.w1.numpy(), layer.w2.numpy()):
        assert abs(w.std() / expected_std - 1) < 0.05


def test_interest_aggregation_residual_adds_f_and_normalises():
    plain = InterestAggregation(K, D)
    residual = InterestAggregation(K, D, residual=True)
    pool = tf.constant(RNG.normal(size=(L, D)).astype("float32"))
    indices = tf.constant(RNG.integers(0, L, size=(B, N, K)), tf.int32)
    values = tf.constant(RNG.normal(size=(B, N, K)).astype("float32"))
    f = _x()
    fused = plain(indices, values, f, pool, MASK)
    residual(indices, values, f, pool, MASK)
    # The same FFNs; the LayerNorm keeps its initial γ = 1, β = 0.
    residual.set_weights(plain.get_weights() + residual.get_weights()[4:])
    out = residual(indices, values, f, pool, MASK).numpy()[1]
    x = (f + fused).numpy()[1]
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-4)
