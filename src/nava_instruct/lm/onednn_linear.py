"""Every float32 linear layer on oneDNN's AVX2 kernels: fast, and the same bits on Intel and AMD.

MKL gives the same float32 bits on Intel and AMD CPUs only on its compatible (SSE2) branch, at
about 40 % of its AVX2 speed; on its faster branches it picks its code by CPU vendor. oneDNN's
just-in-time kernels are chosen by instruction set: held to AVX2 (``ONEDNN_MAX_CPU_ISA``), they
gave identical products on an AVX-512 AMD EPYC and on emulated Intel Haswell and AMD Rome CPUs,
with 1 or 2 threads, at 2.5 times the speed of MKL's compatible branch (docs/numerics.md).

``route`` sends a model's linear layers through oneDNN, forward and backward: the frozen base's
(nearly all of LoRA's arithmetic: the forward pass and each layer's input gradient) and the
adapters' own, whose weight gradients are products over every token of a batch.
"""

from __future__ import annotations

import torch


def onednn_linear(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``x @ weight.T`` on oneDNN (``weight`` may be a transposed view)."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, None, "none", [], "")


class OneDNNLinear(torch.autograd.Function):
    """``x @ weight.T`` with both gradients on oneDNN; the weight's only when it is trained."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x if weight.requires_grad else None, weight)
        return onednn_linear(x, weight)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = onednn_linear(grad, weight.t()) if ctx.needs_input_grad[0] else None
        grad_weight = None
        if ctx.needs_input_grad[1]:
            rows = grad.reshape(-1, grad.shape[-1])
            grad_weight = onednn_linear(rows.t(), x.reshape(-1, x.shape[-1]).t())
        return grad_x, grad_weight


def route(model: torch.nn.Module) -> None:
    """Run every bias-free float32 ``nn.Linear`` of ``model`` on oneDNN."""
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) and module.bias is None and module.weight.dtype == torch.float32:
            module.forward = lambda x, module=module: OneDNNLinear.apply(x, module.weight)
