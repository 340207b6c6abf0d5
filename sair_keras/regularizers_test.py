import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from sair_keras.regularizers import DeCovRegularizer, InterestBalance, decov, interest_balance


def test_decov_matches_a_value_computed_by_hand():
    # Rows centred on their means (2, 2, 2): [-1, 1], [0, 0], [-2, 2].
    # Z = ½ · [[2, 0, 4], [0, 0, 0], [4, 0, 8]] = [[1, 0, 2], [0, 0, 0], [2, 0, 4]];
    # ‖Z‖²_F = 25, ‖diag Z‖² = 17, so L_d = ½ (25 − 17) = 4.
    pool = tf.constant([[1.0, 3.0], [2.0, 2.0], [0.0, 4.0]])
    assert float(decov(pool)) == pytest.approx(4.0)
    assert float(DeCovRegularizer(0.5)(pool)) == pytest.approx(2.0)


def test_decov_is_zero_for_uncorrelated_interests():
    pool = tf.constant([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]])
    assert float(decov(pool)) == pytest.approx(0.0)


def test_decov_gradient_reaches_the_pool():
    pool = tf.Variable(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        loss = decov(pool)
    assert float(tf.norm(tape.gradient(loss, pool))) > 0


def test_regularizer_config_round_trip_and_validation():
    reg = DeCovRegularizer(0.25)
    assert DeCovRegularizer.from_config(reg.get_config()).weight == 0.25
    with pytest.raises(ValueError, match="received -1"):
        DeCovRegularizer(-1)


def _balance_inputs():
    # Two sequences, 3 positions, L=4, K=2; the first position of row 0 is padding.
    rng = np.random.default_rng(3)
    relevance = rng.normal(size=(2, 3, 4)).astype("float32")
    mask = np.array([[False, True, True], [True, True, True]])
    indices = np.argsort(-relevance, axis=-1)[..., :2]
    return relevance, indices, mask


def test_interest_balance_matches_numpy_over_the_real_positions():
    relevance, indices, mask = _balance_inputs()
    real = relevance[mask]  # [5, 4]
    f = np.bincount(indices[mask].ravel(), minlength=4) / (5 * 2)
    p = (np.exp(real) / np.exp(real).sum(-1, keepdims=True)).mean(0)
    expected = 4 * float((f * p).sum())
    got = interest_balance(tf.constant(relevance), tf.constant(indices), tf.constant(mask))
    assert float(got) == pytest.approx(expected, rel=1e-5)
    # Padding does not count, whatever it holds.
    relevance[0, 0] = 99.0
    again = interest_balance(tf.constant(relevance), tf.constant(indices), tf.constant(mask))
    assert float(again) == pytest.approx(expected, rel=1e-5)


def test_interest_balance_is_one_when_uniform_and_l_over_k_when_collapsed():
    mask = tf.ones((1, 4), tf.bool)
    uniform_indices = tf.constant([[[0, 1], [2, 3], [0, 1], [2, 3]]])
    assert float(interest_balance(tf.zeros((1, 4, 4)), uniform_indices, mask)) == pytest.approx(1)
    # Every position keeps interests 0 and 1 and puts all its probability on them: L / K.
    collapsed = tf.constant([[[50.0, 50.0, -50.0, -50.0]] * 4])
    same = tf.constant([[[0, 1]] * 4])
    assert float(interest_balance(collapsed, same, mask)) == pytest.approx(2.0)


def test_interest_balance_gradient_lowers_the_most_used_interest():
    relevance, indices, mask = _balance_inputs()
    r = tf.Variable(relevance)
    with tf.GradientTape() as tape:
        loss = interest_balance(r, tf.constant(indices), tf.constant(mask))
    grad = tape.gradient(loss, r).numpy()
    most_used = np.bincount(indices[mask].ravel(), minlength=4).argmax()
    assert grad[mask][:, most_used].sum() > 0  # descent lowers its relevance
    np.testing.assert_array_equal(grad[0, 0], 0.0)


def test_interest_balance_layer_adds_its_weighted_loss_and_round_trips():
    relevance, indices, mask = _balance_inputs()
    layer = InterestBalance(0.5)
    out = layer(tf.constant(relevance), tf.constant(indices), tf.constant(mask))
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(float(out))
    assert float(out) == pytest.approx(
        0.5 * float(interest_balance(tf.constant(relevance), indices, tf.constant(mask)))
    )
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is InterestBalance and clone.weight == 0.5
    with pytest.raises(ValueError, match="received 0"):
        InterestBalance(0)
