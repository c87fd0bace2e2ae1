"""Expression nodes: `{type: expr, in: [x, y], expr: "x * (x + y) + log(x + y) + y ** 2"}`.

The text is parsed once with Python's `ast` into a small tree of this module's own nodes,
which `forward` walks with engine ops; nothing is ever compiled or evaluated by Python.
The grammar: numbers; names (the node's inputs and learned tensors); `+ - * / ** @`; unary
`-`/`+`; parentheses; and calls of FUNCTIONS — the math nodes' functions (nn/math.py):
exp log sqrt abs sin cos tanh sigmoid relu softplus, the reductions sum mean max min
(`axis=` default -1, `keepdims=`; `max(a, b)`/`min(a, b)` are elementwise), transpose (the
last two axes) and clip(x, low, high). Parts made only of numbers are folded when parsing.

Mistakes raise `ExpressionError` with the line and column inside the text, so the config
layer can point into the YAML string.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike

from nnrun import functional as F
from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.math import ELEMENTWISE, REDUCTIONS, reduce, transpose
from nnrun.nn.module import Module, input_tensor
from nnrun.registry import LAYERS, suggest

MAX_LENGTH = 2000  # characters; a config expression is a formula, not a program
MAX_DEPTH = 100  # nesting of operations (the walk is recursive)
FUNCTIONS = (*ELEMENTWISE, *REDUCTIONS, "transpose", "clip")
OPERATORS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.MatMult: "@",
}
SHOWN = {  # Python operators a user might try, as written
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
}


class ExpressionError(ArgumentError):
    """A mistake in an expression; `offset` is its (line, column) inside the text, 0-based."""

    def __init__(
        self, message: str, offset: tuple[int, int], expected: str = "", found: str = ""
    ) -> None:
        super().__init__(message, key="expr", expected=expected, found=found)
        self.offset = offset


# ------------------------------------------------------------------ the tree
@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Apply:
    """An operator or function `op` of `args`; `options` are reduction keywords."""

    op: str
    args: tuple[Any, ...]
    options: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass
class Parsed:
    tree: Number | Name | Apply
    names: dict[str, tuple[int, int]]  # name → (line, column) of its first use


def parse_expression(text: str) -> Parsed:
    """Parse `text` (raises ExpressionError at the offending line and column)."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is too long ({len(text)} characters)",
            (0, MAX_LENGTH),
            expected=f"at most {MAX_LENGTH} characters",
        )
    if not text.strip():
        raise ExpressionError("the expression is empty", (0, 0), expected="e.g. 'x ** 2'")
    if "\0" in text:
        raise ExpressionError("the expression contains a NUL character", _offset_of(text, "\0"))
    lines = text.split("\n")
    _check_closing_brackets(text)
    # Parenthesized, so leading spaces and line breaks are allowed; columns of line 1 shift.
    try:
        module = ast.parse("(" + text + "\n)", mode="eval")
    except SyntaxError as error:
        line = (error.lineno or 1) - 1
        column = (error.offset or 1) - 1 - (line == 0)
        if line >= len(lines):
            line, column = len(lines) - 1, len(lines[-1])
        reason = (error.msg or "invalid syntax").removesuffix(" (<unknown>, line 1)")
        raise ExpressionError(
            f"cannot read the expression: {reason}",
            (line, max(0, min(column, len(lines[line])))),
            expected="numbers, input names, + - * / ** @, parentheses and functions",
        ) from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise ExpressionError(f"cannot read the expression: {error}", (0, 0)) from None
    return _Reader(lines).read(module.body)


def _offset_of(text: str, needle: str, start: int = 0) -> tuple[int, int]:
    before = text[: text.index(needle, start)]
    return before.count("\n"), len(before) - (before.rfind("\n") + 1)


def _check_closing_brackets(text: str) -> None:
    """A bracket closed before it opens would pair with the parentheses parse_expression
    wraps around the text (`x) + (y`): refuse it at its column."""
    depth = 0
    for index, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if depth < 0:
            raise ExpressionError(
                f"unmatched {char!r}", _offset_of(text, char, index), expected="balanced brackets"
            )


class _Reader:
    """AST → tree, accepting only the grammar; folds all-number parts to numbers."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.names: dict[str, tuple[int, int]] = {}

    def read(self, node: ast.AST) -> Parsed:
        tree = self.node(node, 0)
        if not self.names:
            raise ExpressionError(
                "the expression uses no input", (0, 0), expected="at least one input name"
            )
        return Parsed(tree, self.names)

    def where(self, node: ast.AST) -> tuple[int, int]:
        """(line, column) in the user's text: ast counts UTF-8 bytes, lines from the '('."""
        line = getattr(node, "lineno", 1) - 1
        if line >= len(self.lines):
            return len(self.lines) - 1, len(self.lines[-1])
        raw = self.lines[line].encode()[: max(getattr(node, "col_offset", 0) - (line == 0), 0)]
        return line, len(raw.decode(errors="ignore"))

    def fail(self, node: ast.AST, message: str, expected: str = "", found: str = "") -> NoReturn:
        raise ExpressionError(message, self.where(node), expected, found)

    def node(self, node: ast.AST, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self.fail(node, f"the expression nests deeper than {MAX_DEPTH} operations")
        if isinstance(node, ast.Constant):
            return Number(self.number(node))
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                self.fail(node, f"{node.id!r} is a function: call it, e.g. {node.id}(x)")
            self.names.setdefault(node.id, self.where(node))
            return Name(node.id)
        if isinstance(node, ast.BinOp):
            op = OPERATORS.get(type(node.op))
            if op is None:
                self.unsupported_operator(node, node.op)
            left, right = self.node(node.left, depth + 1), self.node(node.right, depth + 1)
            return self.fold(node, Apply(op, (left, right)))
        if isinstance(node, ast.UnaryOp):
            operand = self.node(node.operand, depth + 1)
            if isinstance(node.op, ast.UAdd):
                return operand
            if not isinstance(node.op, ast.USub):
                self.unsupported_operator(node, node.op)
            return self.fold(node, Apply("neg", (operand,)))
        if isinstance(node, ast.Call):
            return self.fold(node, self.call(node, depth))
        what = _DESCRIPTIONS.get(type(node), type(node).__name__)
        self.fail(
            node,
            f"{what} is not allowed in an expression",
            expected="numbers, input names, + - * / ** @, parentheses and functions",
        )

    def number(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(node, f"{value!r} is not a number", expected="a number", found=repr(value))
        try:
            return float(value)
        except OverflowError:
            self.fail(node, "the number is too large", expected="a float64 number")
        raise AssertionError("unreachable")

    def unsupported_operator(self, node: ast.AST, op: ast.AST) -> NoReturn:
        shown = SHOWN.get(type(op), type(op).__name__)
        self.fail(
            node,
            f"operator {shown!r} is not allowed in an expression",
            expected="+ - * / ** @ or unary -",
        )

    def call(self, node: ast.Call, depth: int) -> Apply:
        if not isinstance(node.func, ast.Name):
            self.fail(node, "only the listed functions can be called", expected=_FUNCTION_LIST)
        name = node.func.id
        if name not in FUNCTIONS:
            close = suggest(name, FUNCTIONS, n=1)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            self.fail(node.func, f"unknown function {name!r}{hint}", expected=_FUNCTION_LIST)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            self.fail(node, f"{name}: * and ** arguments are not allowed")
        args = tuple(self.node(a, depth + 1) for a in node.args)
        allowed = {"axis", "keepdims"} if name in REDUCTIONS and len(args) == 1 else set()
        options: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg not in allowed:
                accepted = ", ".join(sorted(allowed)) or "no keyword arguments"
                self.fail(keyword, f"{name} takes {accepted}, not {keyword.arg!r}")
            options[keyword.arg] = self.option(keyword)
        arity = {"clip": (3,), **{r: (1, 2) for r in ("max", "min")}}.get(name, (1,))
        if len(args) not in arity:
            counts = " or ".join(map(str, arity))
            self.fail(node, f"{name} takes {counts} argument(s), got {len(args)}")
        if name == "clip" and not all(isinstance(a, Number) for a in args[1:]):
            self.fail(node, "clip's bounds must be numbers: clip(x, low, high)")
        return Apply(name, args, options)

    def option(self, keyword: ast.keyword) -> Any:
        value = keyword.value
        if keyword.arg == "keepdims":
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                return value.value
            self.fail(value, "keepdims must be True or False")
        if isinstance(value, ast.Constant) and value.value is None:
            return None
        items = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
        axes = [self.axis(item) for item in items]
        return axes[0] if len(axes) == 1 and items[0] is value else axes

    def axis(self, node: ast.AST) -> int:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
            and abs(node.value) < 64
        ):
            return sign * node.value
        self.fail(node, "axis must be an integer, a list of integers or None")
        raise AssertionError("unreachable")

    def fold(self, node: ast.AST, tree: Apply) -> Any:
        """An operation of numbers only becomes a number (so `forward` never sees one)."""
        if not all(isinstance(a, Number) for a in tree.args):
            return tree
        scalars = [Tensor(np.float64(a.value), dtype=np.float64) for a in tree.args]
        try:
            with np.errstate(all="ignore"):
                value = _apply(tree.op, scalars, tree.options)
        except (ShapeError, ValueError, TypeError, ArgumentError) as error:
            self.fail(node, f"{tree.op} cannot take numbers only: {error}")
        return Number(float(value.data))


_FUNCTION_LIST = "one of " + ", ".join(FUNCTIONS)
_DESCRIPTIONS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.Lambda: "lambda",
    ast.Tuple: "a tuple",
    ast.List: "a list",
    ast.Dict: "a mapping",
    ast.Set: "a set",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "assignment (:=)",
    ast.Starred: "*",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}


# ------------------------------------------------------------------ evaluation
def _apply(op: str, args: list[Any], options: dict[str, Any]) -> Any:
    """One operation on tensors (and numbers, which the engine lifts to the tensor's dtype)."""
    if op == "+":
        return args[0] + args[1]
    if op == "-":
        return args[0] - args[1]
    if op == "*":
        return args[0] * args[1]
    if op == "/":
        return args[0] / args[1]
    if op == "**":
        return args[0] ** args[1]
    if op == "@":
        return _matmul(*args)
    if op == "neg":
        return -args[0]
    if op in ELEMENTWISE:
        return ELEMENTWISE[op](_tensor(args[0], args))
    if op in REDUCTIONS:
        if len(args) == 2:
            pair = [_tensor(x, args) for x in args]
            return F.maximum(*pair) if op == "max" else F.minimum(*pair)
        return reduce(op, _tensor(args[0], args), **options)
    if op == "transpose":
        return transpose(_tensor(args[0], args))
    if op == "clip":
        return _tensor(args[0], args).clip(float(args[1]), float(args[2]))
    raise AssertionError(f"unknown operation {op!r}")


def _matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    a, b = _tensor(a, (a, b)), _tensor(b, (a, b))
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"@ needs vectors or matrices, got shapes {a.shape} and {b.shape}")
    inner = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner:
        raise ShapeError(f"@: shapes {a.shape} and {b.shape} do not chain")
    return a @ b


def _tensor(value: Any, among: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    like = next((t for t in among if isinstance(t, Tensor)), None)
    return Tensor(np.asarray(value), dtype=like.dtype if like is not None else np.float32)


def evaluate(tree: Any, env: dict[str, Tensor]) -> Any:
    if isinstance(tree, Number):
        return tree.value
    if isinstance(tree, Name):
        return env[tree.id]
    if tree.op == "clip":
        low, high = (bound.value for bound in tree.args[1:])
        return _apply("clip", [evaluate(tree.args[0], env), low, high], tree.options)
    return _apply(tree.op, [evaluate(a, env) for a in tree.args], tree.options)


@LAYERS.register("expr", "expression")
class Expression(Module):
    """An elementwise/linear-algebra formula of its inputs, e.g.
    `x * (x + y) + log(x + y) + y ** 2` (see this module's docstring for the grammar).

    In the graph form the inputs are bound by name: `in: [x, y]` binds the nodes x and y,
    `in: {a: h1, b: h2}` binds a and b, and a single input is also `x`; learned tensors
    (`parameter`/`constant` nodes) are read by their node names without listing them. In a
    chain the one input is `x`. The output shape follows NumPy broadcasting.
    """

    def __init__(self, expr: str) -> None:
        super().__init__()
        self.expr = expr
        parsed = parse_expression(expr)
        self.tree, self.names = parsed.tree, list(parsed.names)

    def forward(self, *inputs: Any, **named: Any) -> Tensor:
        if inputs and (len(inputs) > 1 or named):
            raise ShapeError(
                f"expression {self.expr!r}: give several inputs by name (in: [x, y] or "
                f"in: {{x: node, ...}}), got {len(inputs)} unnamed"
            )
        values = {"x": inputs[0]} if inputs else dict(named)
        missing = [n for n in self.names if n not in values]
        if missing:
            raise ShapeError(
                f"expression {self.expr!r} uses {', '.join(missing)}, which is not among its "
                f"inputs ({', '.join(values) or 'none'})"
            )
        first = next((v for v in values.values() if isinstance(v, Tensor)), None)
        env = {n: input_tensor(values[n], like=first) for n in self.names}
        out = evaluate(self.tree, env)
        return out if isinstance(out, Tensor) else input_tensor(np.asarray(out), like=first)

    def extra_repr(self) -> str:
        return repr(self.expr)
