"""Value constraints declared once, as type annotations: ``Annotated[int, Min(1)]``.

The same annotation on a config section's field or a component's constructor argument drives
the check when a config is validated (`nnrun.registry.check_type`), the expectation in the
error message, `nnrun schema` (``minimum``/``exclusiveMaximum``) and the component reference.
Choices are ``Literal[...]``; lists and tuples carry their items' constraints.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Annotated, Any


@dataclass(frozen=True)
class Range:
    """A number between `low` and `high` (either may be None); `open_low`/`open_high` exclude
    the bound itself, e.g. ``Range(0, 1, open_high=True)`` is [0, 1). NaN never fits."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return True  # the type check reports it
        if math.isnan(value):
            return False
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        return not (
            self.high is not None and (value >= self.high if self.open_high else value > self.high)
        )

    def rule(self) -> str:
        """What a breaking value is told: ``must be >= 1``."""
        return f"must be {self.describe()}"

    def describe(self) -> str:
        """``>= 1``, ``> 0``, ``in [0, 1)``."""
        if self.low is not None and self.high is not None:
            left, right = "(" if self.open_low else "[", ")" if self.open_high else "]"
            return f"in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            return f"{'>' if self.open_low else '>='} {self.low:g}"
        return f"{'<' if self.open_high else '<='} {self.high:g}"

    def schema(self) -> dict[str, float]:
        """JSON Schema keywords for this range."""
        out: dict[str, float] = {}
        if self.low is not None:
            out["exclusiveMinimum" if self.open_low else "minimum"] = self.low
        if self.high is not None:
            out["exclusiveMaximum" if self.open_high else "maximum"] = self.high
        return out


@dataclass(frozen=True)
class MinItems:
    """A list of at least `count` items."""

    count: int

    def accepts(self, value: Any) -> bool:
        return not isinstance(value, (list, tuple)) or len(value) >= self.count

    def rule(self) -> str:
        return f"must list at least {self._items()}"

    def describe(self) -> str:
        return f"with at least {self._items()}"

    def _items(self) -> str:
        return "one item" if self.count == 1 else f"{self.count} items"

    def schema(self) -> dict[str, int]:
        return {"minItems": self.count}


@dataclass(frozen=True)
class NotEqual:
    """Any value but `value` (e.g. a divisor that must not be 0)."""

    value: float

    def accepts(self, value: Any) -> bool:
        return value != self.value

    def rule(self) -> str:
        return f"must not be {self.value:g}"

    def describe(self) -> str:
        return f"other than {self.value:g}"

    def schema(self) -> dict[str, Any]:
        return {"not": {"const": self.value}}


Constraint = Range | MinItems | NotEqual


@dataclass(frozen=True)
class Less:
    """A relation between two arguments of one component: `low` < `high` (hardtanh's
    min_val and max_val). Declared with the component (`Registry.register(relations=...)`)."""

    low: str
    high: str

    def violation(self, values: dict[str, Any]) -> str | None:
        """A message when the values break the relation, else None."""
        low, high = values.get(self.low), values.get(self.high)
        if low is None or high is None or low < high:
            return None
        return f"{self.low} must be below {self.high}, got {self.low}={low}, {self.high}={high}"


def Min(low: float) -> Range:
    """At least `low`."""
    return Range(low=low)


def Above(low: float) -> Range:
    """Strictly more than `low`."""
    return Range(low=low, open_low=True)


def Max(high: float) -> Range:
    """At most `high`."""
    return Range(high=high)


Positive = Annotated[int, Min(1)]
"""A size or count: an integer >= 1."""
NonNegative = Annotated[float, Min(0)]
"""A rate or coefficient: a number >= 0."""
Probability = Annotated[float, Range(0, 1, open_high=True)]
"""A drop probability: [0, 1)."""
Fraction = Annotated[float, Range(0, 1)]
"""A share of something: [0, 1]."""


def split(annotation: Any) -> tuple[Any, tuple[Constraint, ...]]:
    """(the bare type, its constraints) of a possibly ``Annotated`` type."""
    if typing.get_origin(annotation) is Annotated:
        base, *extras = typing.get_args(annotation)
        return base, tuple(e for e in extras if isinstance(e, (Range, MinItems, NotEqual)))
    return annotation, ()


def violation(value: Any, annotation: Any) -> str | None:
    """The rule `value` breaks of the constraints in `annotation` (``"must be >= 1"``), or
    None.

    The value is assumed to have the right type; constraints inside unions, lists and tuples
    are checked where the value fits them.
    """
    base, ranges = split(annotation)
    for constraint in ranges:
        if not constraint.accepts(value):
            return constraint.rule()
    origin, args = typing.get_origin(base), typing.get_args(base)
    if origin in (typing.Union, __import__("types").UnionType):
        found = [violation(value, member) for member in args if _fits(value, member)]
        return None if not found or None in found else found[0]
    if isinstance(value, (list, tuple)) and origin in (list, tuple) and args:
        members = args if origin is tuple and args[-1] is not Ellipsis else (args[0],) * len(value)
        for item, member in zip(value, members, strict=True):
            problem = violation(item, member)
            if problem is not None:
                return f"each item {problem}" if not problem.startswith("each") else problem
    return None


def _fits(value: Any, annotation: Any) -> bool:
    from nnrun.registry import matches_type  # (the registry imports this module)

    return matches_type(value, annotation)
