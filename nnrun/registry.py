"""Registries that map YAML names to components (layers, losses, optimizers, ...).

Each kind has one `Registry`, filled by `@REGISTRY.register("name", "alias")` where the
component is defined. A constructor's signature is its schema: `build()` checks the given
arguments against it, so a new component needs no second declaration.
"""

from __future__ import annotations

import difflib
import inspect
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from nnrun.constraints import Less, split, violation
from nnrun.errors import ArgumentError

Component = TypeVar("Component", bound=Callable[..., Any])


def suggest(name: str, choices: typing.Iterable[str], n: int = 3) -> list[str]:
    """The nearest valid names to a misspelt one."""
    return difflib.get_close_matches(name, list(choices), n=n, cutoff=0.5)


def _did_you_mean(name: str, choices: typing.Iterable[str]) -> str:
    return _did_you_mean_among(name, suggest(name, choices))


def _did_you_mean_among(name: str, close: list[str]) -> str:
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


class Registry:
    """Names → components of one kind, with name aliases and argument aliases."""

    def __init__(
        self,
        kind: str,
        arg_aliases: dict[str, str] | None = None,
        injected: tuple[str, ...] = (),
    ):
        """`injected` names constructor arguments the builder supplies (e.g. an optimizer's
        `params`); they are not user options and are left out of the schema."""
        self.kind = kind
        self.injected = injected
        self._entries: dict[str, Callable[..., Any]] = {}
        self._aliases: dict[str, str] = {}
        self._arg_aliases: dict[str, dict[str, str]] = {}
        self._common_arg_aliases = dict(arg_aliases or {})
        self._relations: dict[str, tuple[Less, ...]] = {}

    def register(
        self,
        name: str,
        *aliases: str,
        arg_aliases: dict[str, str] | None = None,
        relations: tuple[Less, ...] = (),
    ) -> Callable[[Component], Component]:
        """Decorator: register a class or factory under `name` (and `aliases`).

        `arg_aliases` maps other spellings of argument names to the real ones
        (e.g. ``{"out_features": "units"}``); `relations` are constraints between arguments
        that no single argument's annotation can state (``Less("min_val", "max_val")``).
        """

        def decorator(obj: Component) -> Component:
            for key in (name, *aliases):
                if key in self._entries or key in self._aliases:
                    raise ValueError(f"{self.kind} {key!r} is registered twice")
            self._entries[name] = obj
            for alias in aliases:
                self._aliases[alias] = name
            self._arg_aliases[name] = {**self._common_arg_aliases, **(arg_aliases or {})}
            self._relations[name] = relations
            return obj

        return decorator

    def canonical(self, name: str) -> str:
        """The registered name behind `name` or one of its aliases; error if unknown."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise ArgumentError(
            f"unknown {self.kind} {name!r}{_did_you_mean_among(name, self.suggestions(name))}",
            expected=f"a registered {self.kind} name",
            found=repr(name),
        )

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def get(self, name: str) -> Callable[..., Any]:
        return self._entries[self.canonical(name)]

    def names(self) -> list[str]:
        """Registered names, without aliases, sorted."""
        return sorted(self._entries)

    def suggestions(self, name: str) -> list[str]:
        """Registered names close to a misspelt `name`; an alias that is close stands for
        its registered name (so `auc` is never pointed to the alias `acc` of accuracy)."""
        close = suggest(name, self.all_names(), n=6)
        return list(dict.fromkeys(self._aliases.get(c, c) for c in close))[:3]

    def all_names(self) -> list[str]:
        return sorted([*self._entries, *self._aliases])

    def arg_aliases_of(self, name: str) -> dict[str, str]:
        """Other spellings of `name`'s arguments → the real argument names."""
        return dict(self._arg_aliases.get(self.canonical(name), {}))

    def relations_of(self, name: str) -> tuple[Less, ...]:
        """The constraints between `name`'s arguments (see `register`)."""
        return self._relations.get(self.canonical(name), ())

    def aliases_of(self, name: str) -> list[str]:
        return sorted(a for a, target in self._aliases.items() if target == name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def parameters(self, name: str) -> dict[str, inspect.Parameter]:
        """The user-facing arguments a component accepts (its constructor's signature)."""
        params = accepted_parameters(self.get(name))
        return {k: p for k, p in params.items() if k not in self.injected}

    def normalize_args(self, name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Rename aliased arguments and check names and types against the signature."""
        name = self.canonical(name)
        params = self.parameters(name)
        aliases = self._arg_aliases.get(name, {})
        takes_var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
        out: dict[str, Any] = {}
        for key, value in kwargs.items():
            real = aliases.get(key, key)
            if real not in params and not takes_var_kw:
                accepted = sorted(k for k, p in params.items() if p.kind is not p.VAR_KEYWORD)
                raise ArgumentError(
                    f"{self.kind} {name!r} has no argument {key!r}"
                    f"{_did_you_mean(key, [*accepted, *aliases])}; "
                    f"accepted: {', '.join(accepted) or '(none)'}",
                    key=key,
                    expected="one of " + ", ".join(accepted) if accepted else "no arguments",
                    found=repr(key),
                )
            if real in out:
                raise ArgumentError(
                    f"{self.kind} {name!r}: argument {real!r} given twice (as {key!r})", key=key
                )
            if real in params:
                check_type(value, params[real].annotation, f"{self.kind} {name!r}", key)
            out[real] = value
        missing = [
            k
            for k, p in params.items()
            if p.default is p.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and k not in out
        ]
        if missing:
            raise ArgumentError(
                f"{self.kind} {name!r} needs argument(s) {', '.join(missing)}",
                key=missing[0],
                expected=f"a value for {missing[0]!r}",
                found="nothing",
            )
        values = {k: p.default for k, p in params.items() if p.default is not p.empty}
        values.update(out)
        for relation in self._relations.get(name, ()):
            broken = relation.violation(values)
            if broken is not None:
                raise ArgumentError(
                    f"{self.kind} {name!r}: {broken}",
                    key=relation.high,
                    expected=f"{relation.low} < {relation.high}",
                    found=repr(values[relation.high]),
                )
        return out

    def build(self, name: str, /, *injected: Any, **kwargs: Any) -> Any:
        """Construct a component from its YAML name and arguments, checking them first.

        Positional `injected` values fill the registry's injected arguments, in order.
        """
        args = self.normalize_args(name, kwargs)
        return self.get(name)(*injected, **args)


def accepted_parameters(obj: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    target = obj.__init__ if inspect.isclass(obj) else obj
    sig = inspect.signature(target)
    hints = _hints(target)
    params = {}
    for key, p in sig.parameters.items():
        if key == "self" or p.kind is p.VAR_POSITIONAL:
            continue
        if key in hints:
            p = p.replace(annotation=hints[key])
        params[key] = p
    return params


def _hints(obj: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except (NameError, TypeError):  # unresolvable forward references: no type checks
        return {}


def type_name(annotation: Any) -> str:
    """A short human name for a type hint (`int >= 1`, `float or list of float`, ...)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return "any value"
    annotation, ranges = split(annotation)
    if ranges:
        return " ".join([type_name(annotation), *(r.describe() for r in ranges)])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in args if a is not type(None)) + (
            " or null" if type(None) in args else ""
        )
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (list, tuple, typing.Sequence, __import__("collections.abc").abc.Sequence):
        inner = type_name(args[0]) if args else "any value"
        return f"list of {inner}"
    if origin is dict:
        return "mapping"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def matches_type(value: Any, annotation: Any) -> bool:
    """Whether `value` has the type of `annotation` (constraints aside, see `violation`)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return True
    annotation = split(annotation)[0]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(matches_type(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if (origin is not None and origin in (list, tuple)) or origin is typing.Sequence:
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(
                matches_type(v, a) for v, a in zip(value, args, strict=True)
            )
        inner = args[0] if args else Any
        return all(matches_type(v, inner) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def check_type(value: Any, annotation: Any, owner: str, key: str) -> None:
    """Raise ArgumentError naming `key` when `value` does not fit the type hint or breaks
    one of its constraints (``Annotated[int, Min(1)]``)."""
    if not matches_type(value, annotation):
        raise ArgumentError(
            f"{owner}: argument {key!r} must be {type_name(annotation)}, "
            f"got {type(value).__name__} {value!r}",
            key=key,
            expected=type_name(annotation),
            found=f"{type(value).__name__} {value!r}",
        )
    broken = violation(value, annotation)
    if broken is not None:
        raise ArgumentError(
            f"{owner}: {key}{':' if broken.startswith('each') else ''} {broken}, got {value!r}",
            key=key,
            expected=type_name(annotation),
            found=repr(value),
        )


LAYERS = Registry("layer", arg_aliases={"out_features": "units", "filters": "out_channels"})
ACTIVATIONS = Registry("activation", injected=("x",))
LOSSES = Registry("loss")
INITIALIZERS = Registry("initializer", injected=("shape", "rng"))
OPTIMIZERS = Registry("optimizer", arg_aliases={"learning_rate": "lr"}, injected=("params",))
SCHEDULES = Registry("schedule", injected=("optimizer", "epochs", "steps_per_epoch"))
METRICS = Registry("metric")
DATASETS = Registry("dataset")
# Training loggers; `run_dir`/`columns` are what the trainer hands its built-in CSV logger.
LOGGERS = Registry("logger", injected=("run_dir", "columns"))

REGISTRIES = (
    LAYERS,
    ACTIVATIONS,
    LOSSES,
    INITIALIZERS,
    OPTIMIZERS,
    SCHEDULES,
    METRICS,
    DATASETS,
    LOGGERS,
)
"""Every registry, for tools that walk them all (the schema, the component reference)."""

ARGUMENT_KINDS = {
    "activation": "activation",
    "init": "initializer",
    "initializer": "initializer",
    "weight_init": "initializer",
    "bias_init": "initializer",
}
"""Constructor arguments that name a component of another kind (a layer's `activation`)."""


def argument_registry(key: str) -> Registry | None:
    """The registry a component argument named `key` refers to, if any."""
    kind = ARGUMENT_KINDS.get(key)
    return next((r for r in REGISTRIES if r.kind == kind), None)
