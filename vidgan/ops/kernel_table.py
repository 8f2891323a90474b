"""The kernel table: operation name -> {backend: kernel}, filled by ``@register_kernel`` next to each kernel.

Every operation has a ``"torch"`` kernel, its plain-torch twin (:mod:`vidgan.ops.reference`,
:mod:`vidgan.ops.color`). The fused backends add theirs when their module is imported, which
happens the first time a tensor on their device is dispatched: ``"numba"`` (:mod:`vidgan.kernels.cpu`)
and ``"cupy"`` (:mod:`vidgan.kernels.cuda`). A backend whose module does not import (Numba or CuPy
missing or broken) is reported once and left out, so the calls use the twin; so do calls to an
operation the backend has no kernel for.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, TypeVar

import torch

from vidgan.registry import Registry

log = logging.getLogger("vidgan")

Backend = Literal["cupy", "numba", "torch"]
Kernel = Callable[..., Any]
K = TypeVar("K", bound=Kernel)


@dataclass(frozen=True)
class FusedBackend:
    module: str  # whose import registers the backend's kernels
    library: str  # what is missing when that import fails
    device_type: str  # the torch device type whose tensors it works on
    device_label: str  # how the log line names that device


FUSED_BACKENDS: dict[Backend, FusedBackend] = {
    "numba": FusedBackend("vidgan.kernels.cpu", "Numba", "cpu", "CPU"),
    "cupy": FusedBackend("vidgan.kernels.cuda", "CuPy", "cuda", "CUDA"),
}

KERNELS: Registry[dict[Backend, Kernel]] = Registry(
    "operation", builtins=("vidgan.ops.reference", "vidgan.ops.color")
)


def register_kernel(operation: str, backend: Backend) -> Callable[[K], K]:
    """Decorator adding ``kernel`` as ``backend``'s implementation of ``operation``; one per pair."""

    def add(kernel: K) -> K:
        kernels = KERNELS.find(operation)
        if kernels is None:
            kernels = {}
            KERNELS.add(operation, kernels)
        if backend in kernels:
            raise ValueError(f"operation {operation!r} already has a {backend} kernel ({kernels[backend]!r})")
        kernels[backend] = kernel
        return kernel

    return add


@cache
def backend_available(backend: Backend) -> bool:
    """Whether ``backend``'s kernels import; a failure is logged the first time only."""
    fused = FUSED_BACKENDS.get(backend)
    if fused is None:
        return True
    try:
        importlib.import_module(fused.module)
    except ImportError as exc:
        log.warning("%s kernels unavailable (%s); using the torch reference on %s",
                    fused.library, exc, fused.device_label)
        return False
    return True


def active_backend(device: torch.device | str) -> Backend:
    """The backend a call with tensors on ``device`` uses (no grad involved)."""
    if os.environ.get("VIDGAN_KERNELS", "").lower() == "torch":
        return "torch"
    device_type = torch.device(device).type
    for backend, fused in FUSED_BACKENDS.items():
        if fused.device_type == device_type:
            return backend if backend_available(backend) else "torch"
    return "torch"


def kernel_for(operation: str, backend: Backend) -> Kernel:
    """``backend``'s kernel for ``operation``, or the torch twin where the backend has none."""
    kernels = KERNELS.get(operation)
    return kernels.get(backend) or kernels["torch"]
