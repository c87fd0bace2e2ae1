"""`Optimizer`: the base of every optimizer — parameter groups, state, checkpoints.

Parameters are duck-typed: anything with `.data` (ndarray, updated in place), `.grad`
(ndarray or None) and `.requires_grad`. A step skips parameters whose grad is None or that
are frozen (`requires_grad` False).

Groups follow `torch.optim`: `param_groups` is a list of dicts holding `params` and the
hyper-parameters (`lr`, ...), which schedules read and write. On top of torch's group dicts,
nnrun groups named parameters by fnmatch pattern, as written in YAML::

    optimizer:
      name: adamw
      lr: 0.001
      param_groups:
        - {match: ["*.bias", "*norm*"], weight_decay: 0.0}   # no decay on biases and norms

The first entry whose pattern matches a dotted name wins; the rest use the defaults.
"""

from __future__ import annotations

import fnmatch
import operator
import typing
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from nnrun.constraints import split
from nnrun.errors import ArgumentError, CheckpointError
from nnrun.registry import accepted_parameters, check_type

StateKey = str | int
_GRAD = operator.attrgetter("grad")
_DATA = operator.attrgetter("data")
_REQUIRES_GRAD = operator.attrgetter("requires_grad")
BLOCK = 1 << 16
"""Elements per block of an update (`Optimizer.blocks`): a block's arrays and temporaries
stay in a core's L2 cache between the passes of the update."""


class Optimizer(ABC):
    """Base class: subclasses pass their hyper-parameter `defaults`, implement `step()` and
    check one group's values in `_validate_group()`.

    `params`: an iterable of parameters, of `(name, parameter)` pairs (as
    `module.named_parameters()` yields) or of torch-style group dicts
    `{"params": [...], "lr": ...}`. `param_groups`: pattern entries (see the module doc);
    they need named parameters.
    """

    def __init__(
        self,
        params: Iterable[Any],
        defaults: dict[str, Any],
        param_groups: list[dict[str, Any]] | None = None,
    ):
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        # keyed by id(): parameters are ndarray wrappers with elementwise __eq__, not hashable
        self.state: dict[int, dict[str, Any]] = {}
        self._scratch: dict[np.dtype, np.ndarray] = {}  # one buffer, reused by every update
        self._scratch_views: dict[tuple, list[np.ndarray]] = {}
        self._bindings: dict[int, Binding] = {}  # id(param) -> its arrays cut into blocks
        self._plans: dict[int, _GroupPlan] = {}  # id(group) -> its kept updates (see `bound`)
        self._last_grads: dict[int, list[Any]] = {}  # id(group) -> weak references
        self._names: dict[int, str | None] = {}
        owner = type(self).__name__
        self._hints = {k: p.annotation for k, p in accepted_parameters(type(self)).items()}
        for key, value in defaults.items():
            check_type(value, self._hints.get(key), owner, key)
        groups = _as_groups(params, owner)
        if param_groups:
            groups = self._groups_by_pattern(groups, param_groups)
        for group in groups:
            self.add_param_group(group)

    def blocks(
        self, arrays: list[np.ndarray | None], count: int
    ) -> list[tuple[slice | None, list[Any], list[np.ndarray]]]:
        """Same-shaped `arrays` (None entries stay None) as views of successive row blocks of
        about BLOCK elements, each with its rows (None: the whole array, in one block) and
        `count` scratch arrays of the block's shape and the first array's dtype. An update
        run block by block reads and writes each array once and keeps its temporaries in
        cache, instead of streaming every parameter-sized temporary through memory once per
        operation."""
        first = arrays[0]
        assert first is not None, "the first array is the parameter's own"
        if first.size <= BLOCK:
            return [(None, arrays, self._scratch_arrays(first, count))]
        rows = len(first)
        step = max(1, BLOCK * rows // first.size)
        parts: list[tuple[slice | None, list[Any], list[np.ndarray]]] = []
        for start in range(0, rows, step):
            block = slice(start, start + step)
            views = [None if a is None else a[block] for a in arrays]
            parts.append((block, views, self._scratch_arrays(first[block], count)))
        return parts

    def bound(self, group: dict[str, Any], count: int) -> Iterator[tuple[Binding, list[Any]]]:
        """For each trainable parameter of `group` that has a gradient: its `Binding` (its
        state, created on its first update) and the update's blocks, each
        `(gradient, [data, *state arrays], [count scratch arrays])` (see `blocks`).
        The gradient is negated (into an array kept for it) when the group maximizes.

        The blocks are cut once per parameter and reused while its data, its state and the
        group's `_layout` stay the same. When a step finds the very gradient arrays of the
        step before (a compiled step writes into the same buffers every time), the whole
        list is kept and later steps only check that nothing changed: the update then costs
        its NumPy calls and little Python around them. Eager gradients, new every step,
        are never held beyond the step."""
        layout = (group["maximize"], *self._layout(group))
        params = group["params"]
        trainable = list(map(_REQUIRES_GRAD, params))
        plan = self._plans.get(id(group))
        if (
            plan is None
            or plan.layout != layout
            or plan.states is not self.state
            or plan.trainable != trainable  # (also when parameters were added)
            or not all(map(operator.is_, plan.grads, map(_GRAD, params)))
            or not all(map(operator.is_, plan.datas, map(_DATA, params)))
        ):
            plan = self._plan(group, count, layout, trainable)
        maximize = group["maximize"]
        for binding, grad, blocks in plan.updates:
            if maximize:
                np.negative(grad, out=binding.negated)
            yield binding, blocks
            binding.fresh = False

    def _plan(
        self,
        group: dict[str, Any],
        count: int,
        layout: tuple,
        trainable: list[bool],
    ) -> _GroupPlan:
        """The updates of `group` for these gradients; kept (see `bound`) if the gradients
        are those of the last plan made."""
        states, bindings = self.state, self._bindings
        updates = []
        for param in group["params"]:
            grad = param.grad
            if grad is None or not param.requires_grad:
                continue
            key = id(param)
            binding = bindings.get(key)
            if (
                binding is None
                or binding.data is not param.data
                or binding.state is not states.get(key)
                or binding.layout != layout
            ):
                binding = bindings[key] = self._bind(param, group, layout, count)
            change = grad if binding.negated is None else binding.negated
            if binding.whole is not None:
                blocks = [(change, *binding.whole)]
            else:
                parts = binding.parts
                blocks = [(change[rows], arrays, scratch) for rows, arrays, scratch in parts]
            updates.append((binding, grad, blocks))
        plan = _GroupPlan(layout, states, trainable, updates)
        grads = list(map(_GRAD, group["params"]))
        last = self._last_grads.get(id(group), [])
        if len(last) == len(grads) and all(map(_alive_as, last, grads)):
            # the same gradients twice: keep the plan
            plan.grads, plan.datas = grads, list(map(_DATA, group["params"]))
            self._plans[id(group)] = plan
        else:
            self._plans.pop(id(group), None)
            self._last_grads[id(group)] = [None if g is None else weakref.ref(g) for g in grads]
        return plan

    def _bind(self, param: Any, group: dict[str, Any], layout: tuple, count: int) -> Binding:
        data = param.data
        state = self.state.setdefault(id(param), {})
        entries = len(state)
        arrays = [data, *self._state_arrays(state, data, group)]
        binding = Binding(data, state, layout, self.blocks(arrays, count))
        binding.fresh = len(state) > entries
        if group["maximize"]:
            binding.negated = np.empty(data.shape, param.grad.dtype)
        return binding

    def _state_arrays(
        self, state: dict[str, Any], data: np.ndarray, group: dict[str, Any]
    ) -> list[np.ndarray | None]:
        """The arrays of a parameter's `state` its update reads and writes, in the order the
        update takes them (None for one the group's options leave out), created in `state`
        when missing."""
        return []

    def _layout(self, group: dict[str, Any]) -> tuple:
        """The options of `group` that decide which state arrays an update uses: a change
        re-binds the parameters (see `bound`)."""
        return ()

    def _scratch_arrays(self, like: np.ndarray, count: int) -> list[np.ndarray]:
        key = (like.shape, like.dtype, count)
        views = self._scratch_views.get(key)
        if views is None:
            size = like.size
            buffer = self._scratch.get(like.dtype)
            if buffer is None or len(buffer) < count * size:
                buffer = self._scratch[like.dtype] = np.empty(count * max(size, BLOCK), like.dtype)
                self._scratch_views.clear()  # views of the old buffer would keep it alive
            views = [buffer[i * size : (i + 1) * size].reshape(like.shape) for i in range(count)]
            self._scratch_views[key] = views
        return views

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a torch-style group; options it leaves out take the optimizer's defaults."""
        entries = _named_entries(group["params"])
        seen = set(self._names)
        for name, param in entries:
            if id(param) in seen:
                raise ArgumentError(
                    f"{type(self).__name__}: parameter {name or '(unnamed)'} appears in more "
                    "than one parameter group",
                    key="param_groups",
                )
            seen.add(id(param))
        full = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        self._validate_group(full)
        full["params"] = [param for _, param in entries]
        for name, param in entries:
            self._names[id(param)] = name
        self.param_groups.append(full)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check one group's hyper-parameters against the constructor's declarations (types
        and constraints, as for the config) and normalise them: ints → floats, lists → tuples."""
        declared = accepted_parameters(type(self))
        owner = type(self).__name__
        for key, value in group.items():
            if key not in declared or key in ("params", "param_groups"):
                continue
            annotation = declared[key].annotation
            check_type(value, annotation, owner, key)
            base = split(annotation)[0]
            if base is float:
                group[key] = float(value)
            elif typing.get_origin(base) is tuple:
                group[key] = tuple(float(v) for v in value)

    @abstractmethod
    def step(self) -> None:
        """Update every parameter that has a gradient, once."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients (torch's default), or fill them with zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none:
                    param.grad = None
                elif param.grad is not None:
                    param.grad.fill(0)

    # ---- pattern groups -------------------------------------------------------------------

    def _groups_by_pattern(
        self, groups: list[dict[str, Any]], rules: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        owner = type(self).__name__
        entries = [entry for group in groups for entry in _named_entries(group["params"])]
        named = [(name, param) for name, param in entries if name is not None]
        if len(groups) != 1 or set(groups[0]) != {"params"}:
            raise ArgumentError(
                f"{owner}: `param_groups` patterns cannot be combined with torch-style "
                "group dicts; pass the model's named parameters instead",
                key="param_groups",
            )
        if len(named) < len(entries):
            raise ArgumentError(
                f"{owner}: `param_groups` patterns need parameter names; pass "
                "`model.named_parameters()`",
                key="param_groups",
            )
        patterns = [self._check_rule(i, rule) for i, rule in enumerate(rules)]
        buckets: list[list[tuple[str, Any]]] = [[] for _ in rules]
        rest = []
        for name, param in named:
            for bucket, pats in zip(buckets, patterns, strict=True):
                if any(fnmatch.fnmatchcase(name, pat) for pat in pats):
                    bucket.append((name, param))
                    break
            else:
                rest.append((name, param))
        for i, (bucket, pats) in enumerate(zip(buckets, patterns, strict=True)):
            if not bucket:
                sample = ", ".join(name for name, _ in named[:6])
                raise ArgumentError(
                    f"{owner}: param_groups[{i}] pattern {' | '.join(pats)!r} matches no "
                    "parameter (or only parameters an earlier entry already took); "
                    f"parameter names look like: {sample}",
                    key="param_groups",
                    expected="a pattern matching at least one parameter name",
                    found=repr(pats if len(pats) > 1 else pats[0]),
                )
        options = [{k: v for k, v in rule.items() if k != "match"} for rule in rules]
        out = [{"params": rest}] if rest else []
        out += [{"params": bucket, **opts} for bucket, opts in zip(buckets, options, strict=True)]
        return out

    def _check_rule(self, index: int, rule: Any) -> list[str]:
        """The patterns of one `param_groups` entry, after checking its keys and values."""
        owner = f"{type(self).__name__} param_groups[{index}]"
        if not isinstance(rule, dict) or "match" not in rule:
            raise ArgumentError(
                f"{owner} must be a mapping with a `match` pattern, got {rule!r}",
                key="param_groups",
                expected="{match: PATTERN, OPTION: VALUE, ...}",
                found=repr(rule),
            )
        match = rule["match"]
        patterns = [match] if isinstance(match, str) else match
        if (
            not isinstance(patterns, list)
            or not patterns
            or not all(isinstance(p, str) for p in patterns)
        ):
            raise ArgumentError(
                f"{owner}: `match` must be a pattern or a list of patterns, got {match!r}",
                key="param_groups",
                expected="a string or a list of strings",
                found=repr(match),
            )
        accepted = sorted(self.defaults)
        for key, value in rule.items():
            if key == "match":
                continue
            if key not in self.defaults:
                raise ArgumentError(
                    f"{owner} has unknown option {key!r}; accepted: match, {', '.join(accepted)}",
                    key="param_groups",
                    expected="one of match, " + ", ".join(accepted),
                    found=repr(key),
                )
            try:
                check_type(value, self._hints.get(key), owner, key)
            except ArgumentError as error:
                raise ArgumentError(
                    str(error), key="param_groups", expected=error.expected, found=error.found
                ) from None
        return patterns

    # ---- checkpoints ----------------------------------------------------------------------

    def _state_keys(self) -> list[StateKey]:
        """One key per parameter, in group order: its name when all are named, else index."""
        params = [param for group in self.param_groups for param in group["params"]]
        names = [self._names[id(param)] for param in params]
        if all(name is not None for name in names):
            return names  # type: ignore[return-value]
        return list(range(len(params)))

    def state_dict(self) -> dict[str, Any]:
        """`{"state": {key: {...}}, "param_groups": [{..., "params": [keys]}]}`: NumPy arrays
        (copies) and plain Python values, keyed by parameter name (or index if unnamed)."""
        keys = iter(self._state_keys())
        state: dict[StateKey, dict[str, Any]] = {}
        groups = []
        for group in self.param_groups:
            group_keys = []
            for param in group["params"]:
                key = next(keys)
                group_keys.append(key)
                if self.state.get(id(param)):
                    state[key] = {k: _copy_value(v) for k, v in self.state[id(param)].items()}
            saved = {k: _copy_value(v) for k, v in group.items() if k != "params"}
            saved["params"] = group_keys
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state saved by `state_dict()` (for the same model)."""
        owner = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise CheckpointError(
                f"{owner} state must be a mapping with 'state' and 'param_groups'"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise CheckpointError(
                f"{owner} state has {len(saved_groups)} parameter group(s), the optimizer has "
                f"{len(self.param_groups)}: the config's param_groups changed since it was saved"
            )
        by_key: dict[str, Any] = {}
        keys = iter(self._state_keys())
        for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            mine = [str(next(keys)) for _ in group["params"]]
            theirs = [str(key) for key in saved["params"]]
            if mine != theirs:
                missing = sorted(set(mine) - set(theirs)) or sorted(set(theirs) - set(mine))
                raise CheckpointError(
                    f"{owner} state does not fit parameter group {index}: it holds "
                    f"{len(theirs)} parameter(s), the model {len(mine)}"
                    + (f"; differing: {', '.join(missing[:5])}" if missing else " (order differs)")
                )
            by_key.update(zip(mine, group["params"], strict=True))
        for key in state_dict["state"]:
            if str(key) not in by_key:
                raise CheckpointError(f"{owner} state holds unknown parameter {key!r}")
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            options = {k: v for k, v in saved.items() if k != "params"}
            candidate = {**group, **options}
            self._validate_group(candidate)
            group.update(candidate)
        self.state = {}
        for key, saved_state in state_dict["state"].items():
            param = by_key[str(key)]
            self.state[id(param)] = {
                name: _restore_value(value, param, f"{key}.{name}", owner)
                for name, value in saved_state.items()
            }


class _GroupPlan:
    """The updates of one parameter group for one set of gradient arrays (`bound`)."""

    __slots__ = ("datas", "grads", "layout", "states", "trainable", "updates")

    def __init__(
        self,
        layout: tuple,
        states: dict[int, dict[str, Any]],
        trainable: list[bool],
        updates: list[tuple[Binding, np.ndarray, list[Any]]],
    ):
        self.layout, self.states, self.trainable, self.updates = layout, states, trainable, updates
        # each parameter's grad and data, once kept
        self.grads: list[np.ndarray | None] = []
        self.datas: list[np.ndarray] = []


def _alive_as(reference: weakref.ref | None, grad: np.ndarray | None) -> bool:
    """Whether a weak reference to an earlier gradient still points at `grad`."""
    return grad is None if reference is None else reference() is grad


class Binding:
    """A parameter's arrays for `Optimizer.bound`: its data, its state, the group layout
    they were cut for, and the blocks (`whole` when there is one: its arrays and scratch)."""

    __slots__ = ("data", "fresh", "layout", "negated", "parts", "state", "whole")

    def __init__(
        self,
        data: np.ndarray,
        state: dict[str, Any],
        layout: tuple,
        parts: list[tuple[slice | None, list[Any], list[np.ndarray]]],
    ):
        self.data, self.state, self.layout, self.parts = data, state, layout, parts
        self.whole = parts[0][1:] if len(parts) == 1 else None
        self.fresh = False  # whether the state arrays were created for this update
        self.negated: np.ndarray | None = None


def _as_groups(params: Iterable[Any], owner: str) -> list[dict[str, Any]]:
    """`params` as a list of torch-style group dicts."""
    if hasattr(params, "data") and hasattr(params, "grad"):
        raise ArgumentError(
            f"{owner}: params must be an iterable of parameters, got a single parameter; "
            "wrap it in a list"
        )
    items = list(params)
    if not items:
        raise ArgumentError(
            f"{owner} got an empty parameter list: the model has no parameters to train"
        )
    if all(isinstance(item, dict) for item in items):
        for item in items:
            if "params" not in item:
                raise ArgumentError(f"{owner}: a parameter group dict needs a 'params' key")
        return [dict(item) for item in items]
    if any(isinstance(item, dict) for item in items):
        raise ArgumentError(f"{owner}: params mixes group dicts with parameters")
    return [{"params": items}]


def _named_entries(params: Any) -> list[tuple[str | None, Any]]:
    """Group params as `(name or None, parameter)` pairs; a lone parameter is allowed."""
    if hasattr(params, "data") and hasattr(params, "grad"):
        return [(None, params)]
    out: list[tuple[str | None, Any]] = []
    for item in params:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            out.append(item)
        else:
            out.append((None, item))
    return out


def _copy_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return list(value)
    return value


def _restore_value(value: Any, param: Any, where: str, owner: str) -> Any:
    """A saved state entry as the optimizer holds it: arrays copied in the parameter's dtype."""
    if isinstance(value, (int, float)):
        return value
    array = np.asarray(value)
    if array.ndim == 0 and array.dtype.kind in "iu":
        return int(array)
    if array.shape != param.data.shape:
        raise CheckpointError(
            f"{owner} state {where} has shape {array.shape}, the parameter {param.data.shape}"
        )
    return np.array(array, dtype=param.data.dtype, copy=True)
