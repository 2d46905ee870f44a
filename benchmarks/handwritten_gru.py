"""The GRU with a hand-written backward pass that the agents used until 2026-11: a benchmark baseline.

Mathematically the GRU of ``torch.nn.GRU`` (same parameters, same gate order r, z, n)::

    r = sigmoid(gi_r + gh_r)        gi = x W_ih^T + b_ih   (all T rounds at once)
    z = sigmoid(gi_z + gh_z)        gh = h W_hh^T + b_hh   (one matmul per round)
    n = tanh(gi_n + r * gh_n)
    h' = (1 - z) * n + z * h

It was written for CPU speed (autograd through ``nn.GRU`` records many small nodes per
round). Measured against torch's own kernel in ``benchmarks/train_throughput.py`` (the
"GRU forward + backward" rows, same run, 1 thread), torch's kernel was faster at
B = 256 and B = 2048, so :mod:`agents.history` now runs ``torch.gru`` and this file lives
on only as the comparison row (re-run it on new hardware before bringing it back).
The benchmark checks that both give the same outputs before timing them.
"""
from __future__ import annotations

import torch


class GRUSequence(torch.autograd.Function):
    """``outputs [T, B, H] = GRU(input_projection [T, B, 3H], initial state [B, H])``."""

    @staticmethod
    def forward(ctx, input_projection, initial_state, weight_hh, bias_hh):
        steps, batch, _ = input_projection.shape
        hidden = initial_state.shape[-1]
        states = input_projection.new_empty(steps + 1, batch, hidden)
        gates = input_projection.new_empty(steps, batch, 3 * hidden)  # r, z, n after their nonlinearity
        hidden_candidate = input_projection.new_empty(steps, batch, hidden)  # gh_n, needed for dr
        states[0] = initial_state
        weight_t = weight_hh.t()
        for t in range(steps):
            gh = torch.addmm(bias_hh, states[t], weight_t)
            gi = input_projection[t]
            torch.sigmoid(gi[:, :2 * hidden] + gh[:, :2 * hidden], out=gates[t, :, :2 * hidden])
            reset = gates[t, :, :hidden]
            update = gates[t, :, hidden:2 * hidden]
            hidden_candidate[t] = gh[:, 2 * hidden:]
            candidate = torch.tanh(gi[:, 2 * hidden:] + reset * gh[:, 2 * hidden:])
            gates[t, :, 2 * hidden:] = candidate
            torch.addcmul(candidate, update, states[t] - candidate, out=states[t + 1])
        ctx.save_for_backward(states, gates, hidden_candidate, weight_hh)
        return states[1:]

    @staticmethod
    def backward(ctx, grad_outputs):
        states, gates, hidden_candidate, weight_hh = ctx.saved_tensors
        steps, batch, hidden = grad_outputs.shape
        grad_gi = grad_outputs.new_empty(steps, batch, 3 * hidden)
        grad_gh = grad_outputs.new_empty(steps, batch, 3 * hidden)
        grad_state = torch.zeros_like(states[0])
        for t in reversed(range(steps)):
            grad_h = grad_outputs[t] + grad_state
            reset = gates[t, :, :hidden]
            update = gates[t, :, hidden:2 * hidden]
            candidate = gates[t, :, 2 * hidden:]
            grad_candidate = grad_h * (1 - update) * (1 - candidate * candidate)
            grad_update = grad_h * (states[t] - candidate) * update * (1 - update)
            grad_reset = grad_candidate * hidden_candidate[t] * reset * (1 - reset)
            grad_gi[t, :, :hidden] = grad_reset
            grad_gi[t, :, hidden:2 * hidden] = grad_update
            grad_gi[t, :, 2 * hidden:] = grad_candidate
            grad_gh[t, :, :2 * hidden] = grad_gi[t, :, :2 * hidden]
            grad_gh[t, :, 2 * hidden:] = grad_candidate * reset
            grad_state = torch.addmm(grad_h * update, grad_gh[t], weight_hh)
        flat_grad_gh = grad_gh.reshape(-1, 3 * hidden)
        grad_weight = flat_grad_gh.t() @ states[:-1].reshape(-1, hidden)
        grad_bias = flat_grad_gh.sum(0)
        return grad_gi, grad_state, grad_weight, grad_bias


def gru_sequence(input_projection, initial_state, weight_hh, bias_hh):
    """Differentiable GRU over ``[T, B, 3H]`` input projections; returns all states ``[T, B, H]``."""
    return GRUSequence.apply(input_projection, initial_state, weight_hh, bias_hh)
