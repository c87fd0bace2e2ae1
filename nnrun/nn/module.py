"""`Module`: the base of every layer. Parameters and sub-modules register themselves on
attribute assignment, so `state_dict()` names (`layers.0.weight`) match torch.nn's."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

import numpy as np

from nnrun.autograd.tensor import Tensor
from nnrun.errors import CheckpointError
from nnrun.nn.parameter import Parameter

ForwardHook = Callable[["Module", tuple[Any, ...], Any], None]

if TYPE_CHECKING:
    Inputs = ParamSpec("Inputs")
    Output = TypeVar("Output")
    Output_co = TypeVar("Output_co", covariant=True)

    class _Callable(Protocol[Inputs, Output_co]):
        """What `Module.__call__` needs of `self`: calling a module then type-checks as
        calling its `forward` (same arguments, same result)."""

        _built: bool
        _forward_hooks: Mapping[int, ForwardHook]

        def build(self, *inputs: Any, **kwargs: Any) -> None: ...

        def forward(self, *inputs: Inputs.args, **kwargs: Inputs.kwargs) -> Output_co: ...


class HookHandle:
    """What `register_forward_hook` returns: `remove()` takes the hook away again."""

    _next_id = 0

    def __init__(self, hooks: dict[int, ForwardHook]) -> None:
        self.hooks = hooks
        self.id = HookHandle._next_id
        HookHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


class Module:
    """Base class of layers and models.

    Subclasses implement `forward(*inputs)`. A layer whose sizes depend on its input (a
    config writes `units`, never the input width) overrides `build(*inputs)`, which runs once
    on the first call to create the parameters; the sizes are then fixed.
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, np.ndarray | None]
    _persistent: set[str]
    _modules: dict[str, Module]
    _built: bool
    # Hooks live in a per-instance dict created by the first registration; the shared empty
    # default keeps `__call__` to one falsy check when none is registered.
    _forward_hooks: Mapping[int, ForwardHook] = MappingProxyType({})

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_built", type(self).build is Module.build)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            modules.pop(name, None)
            buffers.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to parameter {name!r}")
            params[name] = None
        elif name in buffers:
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: np.ndarray | None, persistent: bool = True) -> None:
        """A non-trainable array saved in the state dict (e.g. batch-norm running stats)."""
        self._buffers[name] = value
        if persistent:
            self._persistent.add(name)
        else:
            self._persistent.discard(name)

    def register_parameter(self, name: str, value: Parameter | None) -> None:
        self._parameters[name] = value

    def add_module(self, name: str, module: Module) -> None:
        self._modules[name] = module

    # ----------------------------------------------------------------- calling
    def build(self, *inputs: Any, **kwargs: Any) -> None:
        """Create input-size-dependent parameters from the first inputs (lazy layers)."""

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(
        self: _Callable[Inputs, Output], *inputs: Inputs.args, **kwargs: Inputs.kwargs
    ) -> Output:
        if not self._built:  # keyword inputs too: a graph node may bind `in: {x: h, h0: s}`
            self.build(*inputs, **kwargs)
            self._built = True
        output = self.forward(*inputs, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                hook(self, inputs, output)  # type: ignore[arg-type]  # self is a Module
        return output

    def register_forward_hook(self, hook: ForwardHook) -> HookHandle:
        """Call `hook(module, inputs, output)` after every forward of this module (to
        observe it, as torch.nn's forward hooks); `handle.remove()` unregisters it."""
        if "_forward_hooks" not in self.__dict__:
            object.__setattr__(self, "_forward_hooks", {})
        hooks: dict[int, ForwardHook] = self.__dict__["_forward_hooks"]
        handle = HookHandle(hooks)
        hooks[handle.id] = hook
        return handle

    # ----------------------------------------------------------------- traversal
    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(
        self, prefix: str = "", memo: set[int] | None = None
    ) -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs; a parameter shared by two layers appears once."""
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for module_name, module in self.named_modules(prefix):
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        for module in self.modules():
            fn(module)
        return self

    # ----------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.grad = None

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def to(self, dtype: Any) -> Module:
        """Cast floating parameters and buffers (e.g. to float64 for gradcheck)."""
        dtype = np.dtype(dtype)
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None and param.data.dtype.kind == "f":
                    param.data = param.data.astype(dtype)
                    param.grad = None
            for name, buffer in module._buffers.items():
                if buffer is not None and buffer.dtype.kind == "f":
                    module._buffers[name] = buffer.astype(dtype)
        return self

    def freeze(self, patterns: list[str] | str) -> list[str]:
        """Stop training parameters whose names match the fnmatch `patterns`
        (`"layers.0.*"`, `"encoder"` for everything under it); returns the names frozen."""
        patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        frozen = []
        for pattern in patterns:
            hits = [
                (name, p)
                for name, p in self.named_parameters()
                if fnmatch.fnmatchcase(name, pattern) or name.startswith(pattern + ".")
            ]
            if not hits:
                names = ", ".join(n for n, _ in self.named_parameters())
                raise CheckpointError(
                    f"freeze pattern {pattern!r} matches no parameter; parameters are: {names}"
                )
            for name, param in hits:
                param.requires_grad = False
                frozen.append(name)
        return frozen

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters and persistent buffers by dotted name, in torch.nn's order."""
        state: dict[str, np.ndarray] = {}
        seen: set[int] = set()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    state[prefix + name] = param.data
            for name, buffer in module._buffers.items():
                if buffer is not None and name in module._persistent:
                    state[prefix + name] = buffer
        return state

    def load_state_dict(
        self, state: dict[str, Any], strict: bool = True
    ) -> tuple[list[str], list[str]]:
        """Copy arrays into parameters and buffers in place.

        Missing, unexpected and mis-shaped keys are all reported in one CheckpointError
        (missing/unexpected only when `strict`); returns (missing, unexpected).
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        mismatched = [
            f"{k}: checkpoint {tuple(np.shape(state[k]))}, model {own[k].shape}"
            for k in own
            if k in state and tuple(np.shape(state[k])) != own[k].shape
        ]
        problems = []
        if mismatched:
            problems.append("shape mismatch for " + "; ".join(mismatched))
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise CheckpointError("cannot load state dict: " + ". ".join(problems))
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None and prefix + name in state:
                    param.data[...] = np.asarray(state[prefix + name])
            for name in module._buffers:
                if prefix + name in state and name in module._persistent:
                    target = module._buffers[name]
                    # a key for a None buffer is not in state_dict(): `unexpected` above
                    target[...] = np.asarray(state[prefix + name])  # type: ignore[index]
        return missing, unexpected

    # ----------------------------------------------------------------- display
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"


def input_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """Inputs to a model may be arrays; wrap them (float data as float32 or like's dtype)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and np.asarray(x).dtype.kind == "f":
        return Tensor(x, dtype=like.dtype)
    return Tensor(x)
