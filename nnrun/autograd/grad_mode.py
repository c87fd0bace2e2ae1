"""Whether operations record the computation graph (`no_grad` turns recording off)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class GradMode:
    """Process-wide switch read by every op before it records an edge."""

    enabled: bool = True


def is_grad_enabled() -> bool:
    return GradMode.enabled


class _SetGradMode:
    def __init__(self, mode: bool):
        self.mode = mode
        self.previous = True

    def __enter__(self) -> None:
        self.previous = GradMode.enabled
        GradMode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        GradMode.enabled = self.previous

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _SetGradMode(self.mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_SetGradMode):
    """Context manager / decorator: ops inside record no graph at all."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_SetGradMode):
    """Context manager / decorator: turn recording back on inside a `no_grad` block."""

    def __init__(self) -> None:
        super().__init__(True)
