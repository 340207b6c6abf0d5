"""SAIR (Self-Attentive Interest Retrieval) as a Keras library, usable with or without TFX."""

import os

# TFRS and TFMA need Keras 2 (tf-keras); this must be set before TensorFlow is first imported.
# The one place it is set: every entry point (the command line, the TFX components, the
# Beam workers, the benchmarks, the tests) imports this package first.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
