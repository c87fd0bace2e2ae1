"""`Tensor`: an ndarray that remembers the op that made it, so gradients can flow back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from nnrun.autograd import engine

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike, DTypeLike

    from nnrun.autograd.function import Function

    Axis: TypeAlias = int | tuple[int, ...] | None

DEFAULT_DTYPE = np.dtype(np.float32)


def as_array(data: ArrayLike, dtype: DTypeLike | None = None) -> np.ndarray:
    """Array for a Tensor: floats default to float32, integers and booleans keep their type."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    array = np.asarray(data)
    if array.dtype.kind == "f" and array.dtype != DEFAULT_DTYPE:
        return array.astype(DEFAULT_DTYPE)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"Tensor data must be numeric or boolean, got dtype {array.dtype}")
    return array


class Tensor:
    """A node of the computation graph holding an ndarray.

    `Tensor(data, requires_grad=False, dtype=None)`: floating data is stored as float32 unless
    another dtype is asked for (`dtype=np.float64`); integer and boolean data keep their type.
    """

    __slots__ = ("__weakref__", "_ctx", "data", "grad", "requires_grad")
    __array_priority__ = 1000.0  # ndarray <op> Tensor defers to the Tensor's reflected op

    def __init__(
        self, data: ArrayLike, requires_grad: bool = False, dtype: DTypeLike | None = None
    ):
        self.data = as_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}"
            )
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Function | None = None

    @classmethod
    def _wrap(cls, data: np.ndarray, requires_grad: bool) -> Tensor:
        """Fast constructor for op outputs (no conversion, no checks)."""
        out = Tensor.__new__(Tensor)
        out.data = data
        out.grad = None
        out.requires_grad = requires_grad
        out._ctx = None
        return out

    # ----------------------------------------------------------------- attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != DEFAULT_DTYPE:
            extra = f", dtype={self.data.dtype}" + extra
        return f"Tensor({body}{extra})"

    # ----------------------------------------------------------------- autograd
    def backward(self, grad: ArrayLike | None = None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor, accumulating into the leaves' `.grad`.

        `grad` is d(goal)/d(self); it may be omitted only when this tensor is a scalar.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation has requires_grad=True (or it ran under no_grad())."
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar goal; this tensor has shape "
                    f"{self.shape}. Pass grad= of the same shape."
                )
            grad_array = np.ones_like(self.data)
        else:
            grad_array = as_array(grad, self.data.dtype)
            if grad_array.shape != self.data.shape:
                raise ValueError(
                    f"backward(): grad has shape {grad_array.shape}, the tensor {self.shape}"
                )
        engine.backward(self, grad_array, retain_graph)

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor._wrap(self.data, False)

    def item(self) -> float | int | bool:
        value: float | int | bool = self.data.item()
        return value

    def numpy(self) -> np.ndarray:
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def zero_grad(self) -> None:
        self.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    def astype(self, dtype: DTypeLike) -> Tensor:
        """Cast (differentiable: the gradient is cast back)."""
        return _mv.Cast.apply(self, dtype=np.dtype(dtype))

    # ----------------------------------------------------------------- arithmetic
    def _lift(self, other: ArrayLike) -> Tensor:
        """Wrap a non-Tensor operand; Python/NumPy scalars and arrays never upcast a float."""
        if isinstance(other, Tensor):
            return other
        if self.data.dtype.kind == "f":
            return Tensor._wrap(np.asarray(other, dtype=self.data.dtype), False)
        return Tensor._wrap(as_array(other), False)

    def __add__(self, other: ArrayLike) -> Tensor:
        return _ew.Add.apply(self, self._lift(other))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return _ew.Add.apply(self._lift(other), self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return _ew.Sub.apply(self, self._lift(other))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return _ew.Sub.apply(self._lift(other), self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return _ew.Mul.apply(self, self._lift(other))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return _ew.Mul.apply(self._lift(other), self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return _ew.Div.apply(self, self._lift(other))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return _ew.Div.apply(self._lift(other), self)

    def __pow__(self, exponent: ArrayLike) -> Tensor:
        if isinstance(exponent, Tensor):
            return _ew.Pow.apply(self, exponent)
        if isinstance(exponent, np.generic):
            exponent = exponent.item()  # a NumPy float64 scalar would upcast float32
        return _ew.PowScalar.apply(self, exponent=exponent)

    def __rpow__(self, base: ArrayLike) -> Tensor:
        return _ew.Pow.apply(self._lift(base), self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return _la.MatMul.apply(self, self._lift(other))

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return _la.MatMul.apply(self._lift(other), self)

    def __neg__(self) -> Tensor:
        return _ew.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    # Comparisons give boolean tensors without gradient.
    def _compare(self, other: object, op: np.ufunc) -> Tensor:
        other_data = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self.data, other_data), False)

    def __lt__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    # ----------------------------------------------------------------- reductions
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _rd.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _rd.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _rd.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _rd.Min.apply(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Variance; `ddof=0` (NumPy's default) is the biased estimate, 1 the unbiased."""
        return _rd.Var.apply(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return self.var(axis=axis, keepdims=keepdims, ddof=ddof).sqrt()

    def argmax(self, axis: int | None = None) -> np.ndarray | np.intp:
        indices: np.ndarray | np.intp = self.data.argmax(axis=axis)
        return indices

    def argmin(self, axis: int | None = None) -> np.ndarray | np.intp:
        indices: np.ndarray | np.intp = self.data.argmin(axis=axis)
        return indices

    # ----------------------------------------------------------------- elementwise
    def exp(self) -> Tensor:
        return _ew.Exp.apply(self)

    def log(self) -> Tensor:
        return _ew.Log.apply(self)

    def sqrt(self) -> Tensor:
        return _ew.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return _ew.Abs.apply(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        return _ew.Clip.apply(self, low=min, high=max)

    def tanh(self) -> Tensor:
        return _ew.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return _ew.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return _ew.Relu.apply(self)

    def sin(self) -> Tensor:
        return _ew.Sin.apply(self)

    def cos(self) -> Tensor:
        return _ew.Cos.apply(self)

    # ----------------------------------------------------------------- movement
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _mv.Reshape.apply(self, shape=shape)

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _mv.Transpose.apply(self, axes=axes or None)

    @property
    def T(self) -> Tensor:
        return _mv.Transpose.apply(self, axes=None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return _mv.Transpose.apply(self, axes=tuple(axes))

    def squeeze(self, axis: Axis = None) -> Tensor:
        return _mv.Reshape.apply(self, shape=np.squeeze(self.data, axis=axis).shape)

    def expand_dims(self, axis: int | tuple[int, ...]) -> Tensor:
        return _mv.Reshape.apply(self, shape=np.expand_dims(self.data, axis).shape)

    def flatten(self, start_axis: int = 0) -> Tensor:
        return _mv.Reshape.apply(self, shape=(*self.shape[:start_axis], -1))

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        return _mv.BroadcastTo.apply(self, shape=tuple(shape))

    def __getitem__(self, index: Any) -> Tensor:
        return _mv.GetItem.apply(self, index=_mv.plain_index(index))


# Ops import Tensor, so they are bound after the class exists.
from nnrun.ops import elementwise as _ew  # noqa: E402
from nnrun.ops import linalg as _la  # noqa: E402
from nnrun.ops import movement as _mv  # noqa: E402
from nnrun.ops import reduce as _rd  # noqa: E402
