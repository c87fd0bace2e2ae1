"""Hyperparameter sweeps: grid, random and Bayesian (Optuna) search over a base config,
run in parallel on local processes or a Dask cluster, resumable from their ledger.

Kept free of heavy imports: worker processes import `nnrun.sweep.trial` through here.
"""
