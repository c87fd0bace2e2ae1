"""Seeing inside training: per-layer gradient, update and activation statistics recorded on
one fixed batch (`train.diagnose`), findings in plain words, and the records' files."""
