"""A differentiable TensorFlow <-> PyTorch bridge for TF2, built on DLPack.

Tensors cross the border without a copy: :func:`torch_to_tf` and :func:`tf_to_torch` hand over
the same memory through a DLPack capsule, so a change made through one framework is seen by the
other. :class:`TFModule` wraps a TensorFlow computation as a ``torch.nn.Module``: its forward
pass runs TensorFlow eagerly under a ``tf.GradientTape`` and its backward pass asks that tape for
the gradients, both for the inputs and for the trainable TensorFlow variables, which appear on
the torch side as parameters. No session, no ``tf.compat.v1``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf
import torch
from torch import nn
from torch.utils import dlpack as torch_dlpack

TFFunction = Callable[..., tf.Tensor]

# TensorFlow's CPU kernels map tensors with Eigen and abort the whole process (not an exception)
# when a buffer is not aligned to this many bytes. torch's allocator aligns fresh tensors to 64;
# numpy arrays (16-byte aligned) and offset views may not be.
TF_ALIGNMENT = 64


def set_threads(n: int) -> None:
    """Give TensorFlow and torch ``n`` CPU threads each (``0``: leave both at their defaults).

    For small models one thread is fastest: the two frameworks' thread pools otherwise spin
    against each other. Call it before TensorFlow runs its first op; later calls leave
    TensorFlow as it is (it cannot change after start-up) and only set torch.
    """
    if n < 0:
        raise ValueError(f"threads must be >= 0, got {n}")
    if n == 0:
        return
    torch.set_num_threads(n)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:  # TensorFlow is already initialised
        pass


def torch_to_tf(tensor: torch.Tensor) -> tf.Tensor:
    """Return a TensorFlow tensor that shares memory with ``tensor`` (no copy).

    A tensor that requires grad is detached first (TensorFlow only sees the values). Two cases
    copy instead, because TensorFlow cannot use the memory as it is: a non-contiguous tensor (a
    transpose, an ``expand``: no DLPack layout TensorFlow accepts) and a CPU tensor whose data
    does not start on a ``TF_ALIGNMENT``-byte boundary (a row slice, a tensor made from a numpy
    array), on which TensorFlow's kernels would abort the process. Raises ``TypeError`` for
    anything that is not a ``torch.Tensor``.
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"torch_to_tf expects a torch.Tensor, got {type(tensor).__name__}")
    # >>> assignment: detach, make contiguous, clone if unaligned, share via DLPack
    tensor = tensor.detach()
    if not tensor.is_contiguous():
        tensor = tensor.contiguous()
    if tensor.device.type == "cpu" and tensor.data_ptr() % TF_ALIGNMENT:
        tensor = tensor.clone()  # torch's allocator returns 64-byte aligned memory
    # torch.utils.dlpack imports to_dlpack from torch._C and does not re-export it: mypy objects
    capsule = torch_dlpack.to_dlpack(tensor)  # type: ignore[attr-defined]
    shared: tf.Tensor = tf.experimental.dlpack.from_dlpack(capsule)
    return shared
    # <<< assignment


def tf_to_torch(tensor: tf.Tensor | tf.Variable) -> torch.Tensor:
    """Return a torch tensor that shares memory with the eager TensorFlow ``tensor`` (no copy).

    A ``tf.Variable`` is read first (its current value). Raises ``TypeError`` for anything else,
    including the symbolic tensors of TF1 graph mode, which hold no memory to share.
    """
    value: object = tensor.read_value() if isinstance(tensor, tf.Variable) else tensor
    if not (isinstance(value, tf.Tensor) and hasattr(value, "__dlpack__")):
        raise TypeError(
            f"tf_to_torch expects an eager tf.Tensor or tf.Variable, got {type(value).__name__}"
        )
    # torch imports from_dlpack from torch.utils.dlpack and does not re-export it: mypy objects
    shared: torch.Tensor = torch.from_dlpack(value)  # type: ignore[attr-defined]
    return shared


def _is_differentiable(tensor: torch.Tensor) -> bool:
    return tensor.is_floating_point() or tensor.is_complex()


def _unaliased(tensor: torch.Tensor, others: Sequence[torch.Tensor]) -> torch.Tensor:
    """Clone ``tensor`` if TensorFlow handed back the very buffer of one of ``others``.

    ``tf.identity`` and ``tf.reshape`` return their input's memory; autograd must not receive a
    result that silently aliases a tensor it already owns.
    """
    if tensor.numel() and any(tensor.data_ptr() == o.data_ptr() for o in others if o.numel()):
        return tensor.clone()
    return tensor


class _TFFunction(torch.autograd.Function):
    """Autograd glue: forward runs TensorFlow under a tape, backward asks the tape."""

    @staticmethod
    def forward(
        ctx: Any,
        fn: TFFunction,
        variables: tuple[tf.Variable, ...],
        n_inputs: int,
        *tensors: torch.Tensor,
    ) -> torch.Tensor:
        inputs, params = tensors[:n_inputs], tensors[n_inputs:]
        for variable, param in zip(variables, params, strict=True):
            variable.assign(torch_to_tf(param))
        tf_inputs = [torch_to_tf(t) for t in inputs]
        with tf.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
            for tf_input, t in zip(tf_inputs, inputs, strict=True):
                if _is_differentiable(t):
                    tape.watch(tf_input)
            for variable in variables:
                tape.watch(variable)
            tf_output = fn(*tf_inputs)
        if not isinstance(tf_output, tf.Tensor):
            raise TypeError(
                f"the TensorFlow function must return one tf.Tensor, got {type(tf_output).__name__}"
            )
        # Persistent: torch.autograd.gradcheck and retain_graph=True call backward more than once.
        ctx.tape = tape
        ctx.tf_inputs = tf_inputs
        ctx.tf_output = tf_output
        ctx.variables = variables
        ctx.differentiable = [_is_differentiable(t) for t in inputs]
        return _unaliased(tf_to_torch(tf_output), inputs)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """Gradients for ``(fn, variables, n_inputs, *inputs, *params)``, from the saved tape.

        Asks ``ctx.tape`` for the gradient of ``ctx.tf_output`` (weighted by ``grad_output``)
        with respect to the differentiable inputs, then ``ctx.variables``; a source the output
        does not depend on gets zeros. Returns ``None`` for ``fn``, ``variables``, ``n_inputs``
        and each non-differentiable input, and torch tensors (never ``grad_output``'s own buffer)
        for the rest, in order.
        """
        # >>> assignment: ask ctx.tape for input and variable grads; None elsewhere
        sources = [x for x, d in zip(ctx.tf_inputs, ctx.differentiable, strict=True) if d]
        sources += list(ctx.variables)
        grads = ctx.tape.gradient(
            ctx.tf_output,
            sources,
            output_gradients=torch_to_tf(grad_output),
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        torch_grads = iter(
            [_unaliased(tf_to_torch(tf.convert_to_tensor(g)), [grad_output]) for g in grads]
        )
        input_grads = [next(torch_grads) if d else None for d in ctx.differentiable]
        param_grads = list(torch_grads)
        return (None, None, None, *input_grads, *param_grads)
        # <<< assignment


def as_tf_variable(variable: Any) -> tf.Variable:
    """The ``tf.Variable`` behind ``variable``: itself, or the one a Keras 3 variable wraps.

    Raises ``TypeError`` for anything else.
    """
    if isinstance(variable, tf.Variable):
        return variable
    inner = getattr(variable, "value", None)  # keras.Variable on the TensorFlow backend
    if isinstance(inner, tf.Variable):
        return inner
    raise TypeError(
        f"variables must be tf.Variable or keras.Variable, got {type(variable).__name__}"
    )


class TFModule(nn.Module):
    """A TensorFlow computation used as a differentiable ``torch.nn.Module``.

    ``fn`` takes TensorFlow tensors and returns one TensorFlow tensor; ``variables`` are the
    variables it reads that torch should train (``module.trainable_variables`` of a ``tf.Module``
    or of a Keras model). Each one gets a torch parameter (``self.tf_params``) initialised from
    it; forward assigns the parameters to the variables before running ``fn``, so
    ``torch.optim`` trains the TensorFlow weights, and backward gives every parameter the
    gradient TensorFlow computes for its variable. Variables left out (frozen layers, batch-norm
    statistics) stay TensorFlow's own: gradients still flow to the inputs through them.

    With grad mode off, or nothing requiring grad, forward runs ``fn`` without a tape.
    """

    def __init__(self, fn: TFFunction, variables: Sequence[tf.Variable] = ()) -> None:
        super().__init__()
        variables = tuple(as_tf_variable(v) for v in variables)
        self.fn = fn
        self.variables = variables
        self.tf_params = nn.ParameterList([nn.Parameter(tf_to_torch(v).clone()) for v in variables])

    @classmethod
    def from_tf_module(cls, module: tf.Module) -> TFModule:
        """Wrap a ``tf.Module`` or a Keras model and train its trainable variables.

        The module is called as ``module(x)``; wrap it in a function to pass more arguments
        (``lambda x: model(x, training=True)``).
        """
        if not callable(module):
            raise TypeError(f"{type(module).__name__} is not callable: wrap it in a function")
        return cls(module, module.trainable_variables)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        params = tuple(self.tf_params)
        needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in (*inputs, *params))
        if not needs_grad:
            self.sync_to_tf()
            output = tf_to_torch(self.fn(*[torch_to_tf(t) for t in inputs]))
            return _unaliased(output, inputs)
        # Function.apply is not annotated in torch; _TFFunction.forward returns one tensor.
        apply: Callable[..., torch.Tensor] = _TFFunction.apply
        return apply(self.fn, self.variables, len(inputs), *inputs, *params)

    @torch.no_grad()
    def sync_to_tf(self) -> None:
        """Copy the torch parameters into the TensorFlow variables (after an optimizer step)."""
        for variable, param in zip(self.variables, self.tf_params, strict=True):
            variable.assign(torch_to_tf(param))


def torch_from_tf(fn: TFFunction) -> Callable[..., torch.Tensor]:
    """Turn a TensorFlow function of tensors into a differentiable torch function.

    The TF2 counterpart of ``tfpyth.torch_from_tensorflow``: no session and no placeholders.
    Gradients flow to every floating-point input.
    """
    module = TFModule(fn)

    def wrapped(*inputs: torch.Tensor) -> torch.Tensor:
        output: torch.Tensor = module(*inputs)
        return output

    return wrapped
