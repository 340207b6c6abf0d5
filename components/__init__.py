"""Custom TFX components of the SAIR pipeline."""

import sair_keras  # noqa: F401  (Keras 2 for TensorFlow, before anything imports it)
