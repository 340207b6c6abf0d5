import numpy as np
import pytest
import tensorflow as tf

from sair_keras.regularizers import DeCovRegularizer, decov


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
