"""``torch.compile`` for an algorithm's hot path, behind the run setting ``compile``, with a clean fallback.

The run setting (:class:`agents.algorithm.RunSettings`, ``--set compile=MODE``) is one of
:data:`COMPILE_MODES`:

* ``"off"`` (the default): eager PyTorch. Same seed, same result on CPU, bit for bit.
* ``"default"``, ``"reduce-overhead"``, ``"max-autotune"``: ``torch.compile`` with that mode.
  ``"reduce-overhead"`` and ``"max-autotune"`` record CUDA graphs on a GPU (one launch for a whole
  compiled step instead of dozens of small kernels: what the 100-round rollout at batch 2,048
  needs on a GPU; :data:`CUDA_GRAPH_MODES`); on a CPU they compile as ``"default"`` does.
  Compiled kernels fuse and reorder floating-point operations, so a compiled run is
  reproducible but not bit-identical to an eager one.

Where compilation is not available (no C++ compiler for the CPU backend, a Python that
TorchDynamo does not support, an operation it cannot trace) the function runs eagerly and one
:class:`CompileFallbackWarning` line says why: training goes on, it is never stopped by the
setting. The first call of a compiled function compiles it (tens of seconds on a CPU).
"""
from __future__ import annotations

import warnings
from typing import Callable, Optional

import torch

#: The values of the ``compile`` run setting.
COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune")
#: The modes whose compiled functions replay CUDA graphs on a GPU: their outputs live in buffers that the
#: next replay reuses, so an output kept beyond it must be copied.
CUDA_GRAPH_MODES = ("reduce-overhead", "max-autotune")


class CompileFallbackWarning(UserWarning):
    """``torch.compile`` was asked for but a function runs eagerly (the message says why)."""


def check_compile_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`COMPILE_MODES`; else ``ValueError`` naming the setting and the choices."""
    if mode not in COMPILE_MODES:
        raise ValueError(f"run setting compile must be one of {', '.join(map(repr, COMPILE_MODES))}, got {mode!r}")
    return mode


def compile_unavailable() -> Optional[str]:
    """Why ``torch.compile`` cannot run in this interpreter, or None when it can (as far as can be
    told before compiling: a missing C++ compiler shows only at the first call)."""
    try:
        import torch._dynamo as dynamo
    except Exception as error:  # an install without the compiler stack
        return f"torch._dynamo cannot be imported ({type(error).__name__}: {error})"
    if not dynamo.is_dynamo_supported():
        return "TorchDynamo does not support this Python or platform"
    return None


def is_compile_failure(error: BaseException) -> bool:
    """Whether ``error``, raised by a compiled call or its backward pass, is one to fall back from: anything
    but the device running out of memory (not a compiling problem: the eager call would not fit either)."""
    return not isinstance(error, torch.OutOfMemoryError)


class Compiled:
    """``function`` compiled with ``torch.compile(mode=mode)``, run eagerly from the first failure on.

    Args:
        function: a pure function of tensors (and modules): it must not change state that a failed
            compiled call would leave half-changed, since a failure reruns it eagerly.
        mode: one of :data:`COMPILE_MODES` other than ``"off"``.
        name: what the fallback line calls the function.

    :attr:`compiled` is True while the compiled version is in use.
    """

    def __init__(self, function: Callable, mode: str, name: str):
        self.function = function
        self.name = name
        self.mode = check_compile_mode(mode)
        reason = compile_unavailable()
        self._compiled_function = None
        if reason is not None:
            self._fall_back(reason)
        else:
            self._compiled_function = torch.compile(function, mode=mode)

    @property
    def compiled(self) -> bool:
        return self._compiled_function is not None

    def _fall_back(self, reason: str) -> None:
        self._compiled_function = None
        reason = " ".join(reason.split())[:300]
        warnings.warn(f"torch.compile (compile={self.mode}) is not available for {self.name}: {reason}; "
                      "it runs uncompiled", CompileFallbackWarning, stacklevel=4)

    def fall_back(self, error: BaseException) -> None:
        """Run eagerly from now on, because of ``error`` (e.g. a compiled backward pass that failed to
        build, which shows outside this wrapper); one warning line says so."""
        first_line = (str(error).strip().splitlines() or [""])[0]
        self._fall_back(f"{type(error).__name__}: {first_line}")

    def __call__(self, *args, **kwargs):
        if self._compiled_function is None:
            return self.function(*args, **kwargs)
        try:
            return self._compiled_function(*args, **kwargs)
        except Exception as error:  # compilation failed (backend, tracing): the eager function is the answer
            if not is_compile_failure(error):
                raise
            self.fall_back(error)
            return self.function(*args, **kwargs)


def maybe_compiled(function: Callable, mode: str, name: str) -> Callable:
    """``function`` itself for ``mode="off"``, else a :class:`Compiled` wrapper of it."""
    if check_compile_mode(mode) == "off":
        return function
    return Compiled(function, mode, name)
