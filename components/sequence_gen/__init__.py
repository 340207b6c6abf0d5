"""SequenceExampleGen: interaction logs → leave-one-out sequence examples (Apache Beam)."""
