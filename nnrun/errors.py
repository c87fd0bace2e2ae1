"""Exception types for user mistakes. The CLI catches `NnrunError` once, prints it, exits 2."""

from __future__ import annotations

from dataclasses import dataclass


class NnrunError(Exception):
    """Base of every error caused by user input (config, data, checkpoint, arguments)."""


@dataclass(frozen=True)
class Location:
    """Where a value came from: a file and a 1-based line and column (0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config: where, which key, what was expected, what was found."""

    message: str
    path: str = ""
    location: Location | None = None
    expected: str = ""
    found: str = ""

    def __str__(self) -> str:
        head = f"{self.location}: " if self.location else ""
        key = f"{self.path}: " if self.path else ""
        text = f"{head}{key}{self.message}"
        if self.expected:
            text += f"; expected {self.expected}"
        if self.found:
            text += f", found {self.found}"
        return text


class ConfigError(NnrunError):
    """One or more problems in a config file, reported together."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ArgumentError(NnrunError):
    """A component was given an argument it does not accept, or a value of the wrong type.

    `key` names the offending argument (empty when the component name itself is wrong), so the
    config layer can point at the YAML line.
    """

    def __init__(self, message: str, key: str = "", expected: str = "", found: str = ""):
        self.key = key
        self.expected = expected
        self.found = found
        super().__init__(message)


class ShapeError(NnrunError):
    """Shapes that do not fit together, found while building or running a model."""


class DataError(NnrunError):
    """A data file or dataset that cannot be used as given."""


class CheckpointError(NnrunError):
    """A checkpoint that is missing, corrupt, or does not fit the model."""


class ExportError(NnrunError):
    """A model or run that cannot be exported (a layer with no ONNX form, a graph task)."""
