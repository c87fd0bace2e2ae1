"""Expression nodes: the grammar, its evaluation on the engine, its errors, and a fuzz test
that random text and random expression trees never run code and fail only with a located
ExpressionError."""

from __future__ import annotations

import ast
import builtins
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnrun.components  # noqa: F401
from nnrun.autograd.tensor import Tensor
from nnrun.errors import ShapeError
from nnrun.nn.expression import FUNCTIONS, Expression, ExpressionError, parse_expression
from nnrun.registry import LAYERS
from nnrun.testing.gradcheck import gradcheck


def test_lecture_forward_pass_matches_hand_arithmetic():
    node = Expression("x * (x + y) + log(x + y) + y ** 2")
    out = node(x=Tensor(np.array([1.0, 2.0])), y=Tensor(np.array([2.0, 1.0])))
    # x = 1, y = 2: u = 3, v = x·u = 3, w = log 3, s = y² = 4
    np.testing.assert_allclose(out.data, [3 + np.log(3) + 4, 6 + np.log(3) + 1], rtol=1e-6)


def test_a_single_unnamed_input_is_x():
    out = Expression("1 / x ** 2")(Tensor(np.array([2.0, 4.0])))
    np.testing.assert_allclose(out.data, [0.25, 0.0625])


def test_lecture_quotient_gradient_is_minus_one_over_x_squared():
    x = Tensor(np.array([0.5, 2.0, 3.0]), requires_grad=True, dtype=np.float64)
    Expression("x / x ** 2")(x).sum().backward()
    np.testing.assert_allclose(x.grad, -1 / x.data**2)


def test_reductions_default_to_the_last_axis_and_take_axis_and_keepdims():
    x = np.arange(6.0).reshape(2, 3)
    assert Expression("sum(x)")(Tensor(x)).shape == (2,)
    np.testing.assert_allclose(Expression("max(x, axis=0)")(Tensor(x)).data, [3, 4, 5])
    assert Expression("mean(x, axis=None)")(Tensor(x)).shape == ()
    assert Expression("min(x, axis=[0, 1], keepdims=True)")(Tensor(x)).shape == (1, 1)


def test_two_argument_max_and_min_are_elementwise():
    x = Tensor(np.array([-1.0, 2.0]))
    np.testing.assert_allclose(Expression("max(x, 0)")(x).data, [0, 2])
    np.testing.assert_allclose(Expression("min(x, 0)")(x).data, [-1, 0])


def test_number_only_parts_are_folded():
    parsed = parse_expression("x * (exp(0) + 2 ** 3)")
    assert parsed.tree.args[1].value == 9.0


def test_every_expression_function_is_also_a_graph_node():
    assert [name for name in FUNCTIONS if name not in LAYERS] == []


def test_float32_inputs_give_float32_and_gradients_check_in_float64():
    x = np.random.default_rng(0).uniform(0.5, 2, (3, 2))
    out = Expression("sqrt(x) * softplus(-x) + x @ transpose(x) @ x")(Tensor(x.astype(np.float32)))
    assert out.dtype == np.float32
    assert gradcheck(lambda t: Expression("x @ transpose(x) @ x / (1 + x ** 2)")(t), [x])


@pytest.mark.parametrize(
    "text, message, offset",
    [
        ("x + lg(x)", "unknown function 'lg' — did you mean 'log'?", (0, 4)),
        ("x +", "cannot read the expression", (0, 3)),
        ("x // 2", "operator '//' is not allowed", (0, 0)),
        ("x.shape", "attribute access is not allowed", (0, 0)),
        ("x[0]", "indexing is not allowed", (0, 0)),
        ("x if x else 1", "if/else is not allowed", (0, 0)),
        ("(lambda: 1)()", "only the listed functions can be called", (0, 0)),
        ('__import__("os")', "unknown function '__import__'", (0, 0)),
        ("x + 'a'", "'a' is not a number", (0, 4)),
        ("sum(x, axis=x)", "axis must be an integer", (0, 12)),
        ("exp(x, axis=1)", "exp takes no keyword arguments, not 'axis'", (0, 7)),
        ("clip(x, 0, x)", "clip's bounds must be numbers", (0, 0)),
        ("log", "'log' is a function", (0, 0)),
        ("2 + 3", "uses no input", (0, 0)),
        ("", "empty", (0, 0)),
        ("x +\n  zz(x)", "unknown function 'zz'", (1, 2)),
        ("é + lg(x)", "unknown function 'lg'", (0, 4)),
        ("x) + (x", "unmatched ')'", (0, 1)),
        ("x +\n x)", "unmatched ')'", (1, 2)),
    ],
)
def test_mistakes_are_located_inside_the_text(text, message, offset):
    with pytest.raises(ExpressionError) as error:
        parse_expression(text)
    assert message in str(error.value)
    assert error.value.offset == offset
    assert error.value.key == "expr"


def test_a_missing_input_is_a_shape_error_naming_it():
    with pytest.raises(ShapeError, match="uses y"):
        Expression("x + y")(x=Tensor(np.ones(2)))


# ------------------------------------------------------------------ fuzzing
class _Forbidden(Exception):
    pass


@contextmanager
def no_code_runs():
    """eval/exec/__import__ of system modules raise, and compile only builds ASTs (what
    ast.parse does), while the parser runs."""
    real_compile, real_import = builtins.compile, builtins.__import__

    def compile_ast_only(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:
            raise _Forbidden("compile to code")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def forbidden(*args, **kwargs):
        raise _Forbidden("code ran")

    def guarded_import(name, *args, **kwargs):
        if name in ("os", "subprocess", "sys", "shutil"):
            raise _Forbidden(f"import {name}")
        return real_import(name, *args, **kwargs)

    with (
        mock.patch.object(builtins, "compile", compile_ast_only),
        mock.patch.object(builtins, "eval", forbidden),
        mock.patch.object(builtins, "exec", forbidden),
        mock.patch.object(builtins, "__import__", guarded_import),
    ):
        yield


def _check_parse(text: str) -> None:
    try:
        with no_code_runs():
            parse_expression(text)
    except ExpressionError as error:
        line, column = error.offset
        lines = text.split("\n")
        assert 0 <= line < len(lines) and 0 <= column <= len(lines[line]), (text, error.offset)


SETTINGS = settings(max_examples=300, deadline=None)


@SETTINGS
@given(st.text(max_size=60))
def test_random_text_parses_or_fails_with_a_location(text):
    _check_parse(text)


PIECES = st.sampled_from(
    [
        "x", "y", "1", "2.5", "-", "+", "*", "/", "**", "@", "//", "(", ")", ",", "axis=",
        "keepdims=True", "-1", "None", "[0, 1]", ".", "[", "]", "lambda", ":", "if", "else",
        "__import__('os')", "open", "'s'", "==", "and", "not", "\n", " ", "e", *FUNCTIONS,
    ]
)  # fmt: skip


@SETTINGS
@given(st.lists(PIECES, max_size=25))
def test_random_token_soup_parses_or_fails_with_a_location(pieces):
    _check_parse(" ".join(pieces))


UNARY = [f for f in FUNCTIONS if f not in ("clip", "max", "min")]
REFERENCE = {
    "exp": np.exp,
    "log": lambda a: np.log(np.abs(a) + 1),
    "sqrt": lambda a: np.sqrt(np.abs(a) + 1),
    "abs": np.abs,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "relu": lambda a: np.maximum(a, 0),
    "softplus": lambda a: np.logaddexp(0, a),
    "sum": lambda a: a.sum(axis=-1, keepdims=True),
    "mean": lambda a: a.mean(axis=-1, keepdims=True),
    "transpose": lambda a: a.T.T,
}
# Domain-safe text for each unary function, applied to a sub-expression `s`.
SPELLED = {
    "log": "log(abs({}) + 1)",
    "sqrt": "sqrt(abs({}) + 1)",
    "sum": "sum({}, keepdims=True)",
    "mean": "mean({}, keepdims=True)",
    "transpose": "transpose(transpose({}))",
}


def _trees():
    leaves = st.sampled_from([("x", lambda x, y: x), ("y", lambda x, y: y)]) | st.floats(
        -3, 3, allow_nan=False
    ).map(lambda v: (f"({v!r} + 0 * x)", lambda x, y, v=v: np.full_like(x, v)))

    def extend(children):
        binary = st.tuples(st.sampled_from(["+", "-", "*"]), children, children).map(
            lambda t: (
                f"({t[1][0]} {t[0]} {t[2][0]})",
                lambda x, y, t=t: {"+": np.add, "-": np.subtract, "*": np.multiply}[t[0]](
                    t[1][1](x, y), t[2][1](x, y)
                ),
            )
        )
        unary = st.tuples(st.sampled_from(sorted(REFERENCE)), children).map(
            lambda t: (
                SPELLED.get(t[0], t[0] + "({})").format(t[1][0]),
                lambda x, y, t=t: REFERENCE[t[0]](t[1][1](x, y)),
            )
        )
        return binary | unary

    return st.recursive(leaves, extend, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(_trees())
def test_random_expression_trees_evaluate_like_numpy(tree):
    text, reference = tree
    x = np.array([[0.3, -0.7, 1.1]])
    y = np.array([[-0.2, 0.5, 0.9]])
    node = Expression(text)
    named = {name: Tensor(value, dtype=np.float64) for name, value in (("x", x), ("y", y))}
    with np.errstate(over="ignore"):
        expected = np.broadcast_to(reference(x, y), x.shape)
        out = node(**{n: named[n] for n in node.names})
    np.testing.assert_allclose(np.broadcast_to(out.data, x.shape), expected, rtol=1e-9, atol=1e-12)
