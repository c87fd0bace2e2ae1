"""The `csv` logger is the run directory's own ``metrics.csv`` and ``metrics.jsonl``.

The trainer writes them for every run, listed or not: ``summary.json``, ``nnrun runs``,
``nnrun plot``, resume and sweeps read them. Registering the writer gives the name its
place in the config schema.
"""

from nnrun.registry import LOGGERS
from nnrun.train.rundir import MetricsLogger

LOGGERS.register("csv")(MetricsLogger)
