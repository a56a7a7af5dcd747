"""The numba kernel of :mod:`dmfsharp._scalar_kernel` (imported only when it is first used, so that
``import dmfsharp`` does not pay numba's start-up)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["scalar_gd_loop"]


@njit(cache=True, nogil=True)
def scalar_gd_loop(
    w,  # (B, L) parameters, updated in place
    m,  # (B,) targets
    eta,  # (B,)
    c,
    ref,  # (B, L) reference points
    dirv,  # (B, L) unit directions
    bound,  # (B,) divergence bounds
    target_norm,  # (B,)
    stop_tol,  # < 0: no stop rule
    stop_dist,
    steps,
    record_every,
    keep_iterates,
    rec_steps,  # (n_rec,) out
    rec,  # (3, n_rec, B) out
    rec_iter,  # (n_rec, B, L) out (or a dummy when not kept)
    n_valid,  # (B,) out
    status,  # (B,) out: 0 completed, 1 converged, 2 diverged
    taken,  # (B,) out
    active,  # (B,) in/out: runs still going (all True on the first call)
    state,  # (2,) in/out: [t, i_rec]
    t_stop,  # return (with -1) once t reaches t_stop, before computing step t_stop
):
    B, L = w.shape
    done = np.zeros(B, dtype=np.bool_)
    loss = np.zeros(B)
    grad = np.zeros((B, L))
    pre = np.ones(L)
    suf = np.ones(L)
    c2 = 2.0 * c
    t = state[0]
    i_rec = state[1]
    while True:
        any_done = False
        any_left = False
        for b in range(B):
            done[b] = False
            if not active[b]:
                continue
            for k in range(1, L):
                pre[k] = pre[k - 1] * w[b, k - 1]
            for k in range(L - 2, -1, -1):
                suf[k] = suf[k + 1] * w[b, k + 1]
            r = pre[L - 1] * w[b, L - 1] - m[b]
            lb = c * r * r
            ok = math.isfinite(lb) and lb <= bound[b]
            g = c2 * r
            for k in range(L):
                grad[b, k] = pre[k] * suf[k] * g  # finiteness: checked with the update
            loss[b] = lb
            if not ok:
                active[b] = False
                status[b] = 2
                continue
            if stop_tol >= 0 and math.sqrt(max(lb, 0.0) / c) / target_norm[b] <= stop_tol:
                far = 0.0
                for k in range(L):
                    far += (w[b, k] - ref[b, k]) ** 2
                if math.sqrt(far) >= stop_dist:
                    done[b] = True
                    any_done = True
            if not done[b]:
                any_left = True
        last = t == steps or not any_left
        if t % record_every == 0 or last or any_done:
            rec_steps[i_rec] = t
            for b in range(B):
                d2 = 0.0
                comp = 0.0
                for k in range(L):
                    diff = w[b, k] - ref[b, k]
                    d2 += diff * diff
                    comp += diff * dirv[b, k]
                rec[0, i_rec, b] = loss[b]
                rec[1, i_rec, b] = math.sqrt(d2)
                rec[2, i_rec, b] = comp
                if keep_iterates:
                    for k in range(L):
                        rec_iter[i_rec, b, k] = w[b, k]
            i_rec += 1
            for b in range(B):
                if active[b]:
                    n_valid[b] = i_rec
        for b in range(B):
            if done[b]:
                status[b] = 1
                active[b] = False
        if last:
            state[0] = t
            state[1] = i_rec
            return i_rec
        for b in range(B):
            if not active[b]:
                continue
            ok = True
            for k in range(L):
                grad[b, k] = grad[b, k] * eta[b]
                ok = ok and math.isfinite(w[b, k] - grad[b, k])
            if not ok:
                status[b] = 2
                active[b] = False
                continue
            for k in range(L):
                w[b, k] = w[b, k] - grad[b, k]
            taken[b] += 1
        t += 1
        if t >= t_stop:
            state[0] = t
            state[1] = i_rec
            return -1
