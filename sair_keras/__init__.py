"""SAIR (Self-Attentive Interest Retrieval) as a Keras library, usable with or without TFX."""

import os

# TFRS and TFMA need Keras 2 (tf-keras); this must be set before TensorFlow is first imported,
# here too so that Beam workers that import this package get it.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
