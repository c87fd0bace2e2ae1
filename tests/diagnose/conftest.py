"""The training-loop tests' tiny experiment, shared."""

from tests.train.conftest import small_config  # noqa: F401
