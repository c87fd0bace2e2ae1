"""`python -m nnrun.cli`."""

from nnrun.cli import app

app()
