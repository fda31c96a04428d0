"""The frozen base's linear layers on oneDNN's AVX2 kernels: fast, and the same bits on Intel and AMD.

MKL gives the same float32 bits on Intel and AMD CPUs only on its compatible (SSE2) branch, at
about 40 % of its AVX2 speed; on its faster branches it picks its code by CPU vendor. oneDNN's
just-in-time kernels are chosen by instruction set alone: held to AVX2 (``ONEDNN_MAX_CPU_ISA``),
they gave identical products on an AVX-512 AMD EPYC and on emulated Intel Haswell and AMD Rome
CPUs, with 1 or 2 threads, at 2.5 times the speed of MKL's compatible branch (docs/numerics.md).

In LoRA training almost every product runs through frozen weights: the forward pass, and the
gradient with respect to each layer's input. ``route`` sends those through oneDNN; the adapters'
own small products stay on torch's default path.
"""

from __future__ import annotations

import torch


def onednn_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


class FrozenLinear(torch.autograd.Function):
    """``x @ weight.T + bias`` on oneDNN, with a gradient for ``x`` only: the weight and bias are frozen."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(weight)
        return onednn_linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (weight,) = ctx.saved_tensors
        return onednn_linear(grad.contiguous(), weight.t()), None, None


def route(model: torch.nn.Module) -> int:
    """Run every frozen float32 ``nn.Linear`` of ``model`` on oneDNN; return how many there are."""
    frozen = [
        module for module in model.modules()
        if isinstance(module, torch.nn.Linear) and module.weight.dtype == torch.float32
        and not any(parameter.requires_grad for parameter in module.parameters())
    ]
    for module in frozen:
        module.forward = lambda x, module=module: FrozenLinear.apply(x, module.weight, module.bias)
    return len(frozen)
