"""Containers: Sequential (runs children in order), ModuleList and ModuleDict (hold
children for a parent's own forward). Children are named as torch.nn names them, so
state_dict keys match (`layers.0.weight`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Self

from nnrun.nn.module import Module
from nnrun.registry import LAYERS


def _checked(name: str, module: Any) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"child {name!r} must be a Module, got {type(module).__name__}")
    return module


def _index(index: int, length: int, owner: str) -> int:
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a {owner} of length {length}")
    return index % length


class _Positional(Module):
    """Children named by position, appended at the end."""

    def append(self, module: Module) -> Self:
        name = str(len(self._modules))
        self.add_module(name, _checked(name, module))
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


@LAYERS.register("sequential")
class Sequential(_Positional):
    """`Sequential(m0, m1, ...)` feeds each module's output to the next; children are named
    "0", "1", ... (or by the keys of a single mapping argument), as torch.nn.Sequential."""

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(str(name), _checked(str(name), module))
        else:
            for i, entry in enumerate(modules):
                self.add_module(str(i), _checked(str(i), entry))

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        return items[_index(index, len(items), "Sequential")][1]


class ModuleList(_Positional):
    """A list of child modules named "0", "1", ...; it has no forward of its own."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_index(index, len(modules), "ModuleList")]

    def __setitem__(self, index: int, module: Module) -> None:
        name = str(_index(index, len(self._modules), "ModuleList"))
        self._modules[name] = _checked(name, module)


class ModuleDict(Module):
    """A mapping of names to child modules (state_dict keys `<attr>.<name>.weight`)."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        for name, module in (modules or {}).items():
            self[name] = module

    def __setitem__(self, name: str, module: Module) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"ModuleDict keys must be non-empty strings without '.', got {name!r}")
        self.add_module(name, _checked(name, module))

    def __getitem__(self, name: str) -> Module:
        return self._modules[name]

    def __delitem__(self, name: str) -> None:
        del self._modules[name]

    def __contains__(self, name: object) -> bool:
        return name in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()
