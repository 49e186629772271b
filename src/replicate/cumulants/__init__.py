"""Second-order cumulant expansion (Gaussian closure, M = 2) of the chain's Lindblad dynamics.

Ferrari et al., SI Eqs. (34) and (37): the field α_ℓ = ⟨a_ℓ⟩ and the normally ordered second
moments N_ℓm = ⟨a_ℓ† a_m⟩, M_ℓm = ⟨a_ℓ a_m⟩ under the Gaussian closure (third and fourth joint
cumulants set to zero); the closed equations and their derivation are in :mod:`.equations`.
δn is Eq. (37): (⟨a†²a²⟩ − n²)/n. At U = 0 the equations are exact.

Numerics (for maps over (L, F), SI Fig. 10):

* the right-hand side :func:`~.equations.rhs` costs O(L²) per call (the dense matrix form of
  the equations is kept as a test oracle, ``tests/oracles/test_cumulants.py``), and the packed
  state holds L + L(L+1) complex variables instead of L + 2L²;
* the time integration is the DOP853 Runge–Kutta pair with the coefficients, error norm
  (E5/E3 estimators, atol + rtol·max(|y|, |y_new|)) and step control of
  ``scipy.integrate.solve_ivp(method="DOP853")``, written in numba so that no Python runs per
  step.  Steps are shortened to land exactly on the ``n_samples`` equally spaced sampling
  times of the averaging window.

The moments ⟨a†a⟩ and ⟨a†²a²⟩ are averaged over the window and δn is formed from the averages
(as in SI Eq. (36)), because the closed dynamics may keep oscillating.  Blow-up (a non-finite
state, or the step size collapsing below ``1e-12·(1 + t)``) and runs longer than ``max_steps``
are reported, never hidden: :func:`steady_state` raises, :func:`phase_map` sets ``ok = False``
with the reason in ``status``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import xarray as xr
from numba import njit
from scipy.integrate._ivp import dop853_coefficients as _dop
from tqdm.auto import tqdm

from replicate import __version__, stats
from replicate.chain import as_chain
from replicate.exact import chain_rates, mandel_q

from .equations import pack, packed_size, rhs, unpack

__all__ = ["steady_state", "phase_map", "integrate", "window_errors", "rhs", "pack", "unpack",
           "packed_size", "STATUS", "OK", "NONFINITE", "STEP_UNDERFLOW", "MAX_STEPS"]

OK, NONFINITE, STEP_UNDERFLOW, MAX_STEPS = 0, 1, 2, 3
STATUS = {OK: "ok", NONFINITE: "non-finite state (blow-up)",
          STEP_UNDERFLOW: "step size underflow (blow-up)", MAX_STEPS: "max_steps exceeded"}

# DOP853 tableau (Hairer, Nørsett & Wanner, Solving ODEs I, Sec. II.10), as used by scipy's
# solve_ivp(method="DOP853"): 12 stages + the FSAL derivative, error estimators E5 and E3.
_NS = _dop.N_STAGES
_A = np.ascontiguousarray(_dop.A[:_NS, :_NS])
_B = np.ascontiguousarray(_dop.B)
_E3 = np.ascontiguousarray(_dop.E3)
_E5 = np.ascontiguousarray(_dop.E5)


@njit(cache=True, error_model="numpy")
def _integrate(L, Delta, J, U, g, f, t_relax, t_avg, n_samples, rtol, atol, max_steps,
               A, B, E3, E5):
    """DOP853 from the vacuum to t_relax + t_avg; sample n_ℓ, ⟨a†²a²⟩_ℓ, α_ℓ in the window.

    Returns (status, n[s, ℓ], n2[s, ℓ], field[s, ℓ], accepted steps, rejected steps).
    """
    ns = A.shape[0]
    size = L + L * (L + 1)
    kk = L * (L + 1) // 2
    N = np.empty((L, L), np.complex128)
    M = np.empty((L, L), np.complex128)
    y = np.zeros(size, np.complex128)
    ynew = np.empty(size, np.complex128)
    K = np.zeros((ns + 1, size), np.complex128)
    tmp = np.empty(size, np.complex128)
    e3 = np.empty(size, np.complex128)
    e5 = np.empty(size, np.complex128)
    diag = np.empty(L, np.int64)  # packed position of N_ℓℓ
    pos = L
    for l in range(L):
        diag[l] = pos
        pos += L - l
    n_s = np.full((n_samples, L), np.nan)
    n2_s = np.full((n_samples, L), np.nan)
    a_s = np.full((n_samples, L), np.nan + 0j)
    dts = t_avg / (n_samples - 1)
    t = 0.0
    h = 1e-2
    rhs(y, K[0], L, Delta, J, U, g, f, N, M)
    isample = 0
    t_next = t_relax
    accepted = 0
    rejected = 0
    status = 0
    while isample < n_samples:
        if accepted + rejected >= max_steps:
            status = 3
            break
        if h < 1e-12 * (1.0 + t):
            status = 2
            break
        clipped = t + h >= t_next
        hh = t_next - t if clipped else h
        for s in range(1, ns):
            tmp[:] = y
            for r in range(s):
                c = hh * A[s, r]
                if c != 0.0:
                    for i in range(size):
                        tmp[i] += c * K[r, i]
            rhs(tmp, K[s], L, Delta, J, U, g, f, N, M)
        ynew[:] = y
        for r in range(ns):
            c = hh * B[r]
            if c != 0.0:
                for i in range(size):
                    ynew[i] += c * K[r, i]
        rhs(ynew, K[ns], L, Delta, J, U, g, f, N, M)
        e3[:] = 0.0
        e5[:] = 0.0
        for r in range(ns + 1):
            for i in range(size):
                e3[i] += E3[r] * K[r, i]
                e5[i] += E5[r] * K[r, i]
        s5 = 0.0
        s3 = 0.0
        for i in range(size):
            sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
            x5 = abs(e5[i]) / sc
            x3 = abs(e3[i]) / sc
            s5 += x5 * x5
            s3 += x3 * x3
        if s5 == 0.0 and s3 == 0.0:
            en = 0.0
        else:
            en = hh * s5 / np.sqrt((s5 + 0.01 * s3) * size)
        if not np.isfinite(en):  # overflow within the step: retry smaller (a true blow-up ends
            h = 0.2 * hh         # in STEP_UNDERFLOW)
            rejected += 1
            continue
        if en < 1.0:
            fac = 10.0 if en == 0.0 else min(10.0, 0.9 * en ** -0.125)
            t = t_next if clipped else t + hh
            y[:] = ynew
            K[0, :] = K[ns]
            accepted += 1
            if clipped:
                for l in range(L):
                    nl = y[diag[l]].real
                    ml = y[diag[l] + kk]
                    al2 = y[l].real ** 2 + y[l].imag ** 2
                    n_s[isample, l] = nl
                    n2_s[isample, l] = ml.real ** 2 + ml.imag ** 2 + 2.0 * nl * nl - 2.0 * al2 * al2
                    a_s[isample, l] = y[l]
                isample += 1
                t_next = t_relax + isample * dts
                h = max(h, hh * fac)  # a step shortened to land on a sample does not shrink h
            else:
                h = hh * fac
        else:
            h = hh * max(0.2, 0.9 * en ** -0.125)
            rejected += 1
    if status == 0:
        for i in range(size):
            if not np.isfinite(y[i].real + y[i].imag):
                status = 1
                break
    return status, n_s, n2_s, a_s, accepted, rejected


def _check_times(t_relax: float, t_avg: float, n_samples: int) -> None:
    if not (np.isfinite(t_relax) and t_relax >= 0):
        raise ValueError(f"t_relax must be finite and >= 0, got {t_relax!r}")
    if not (np.isfinite(t_avg) and t_avg > 0):
        raise ValueError(f"t_avg must be finite and > 0, got {t_avg!r}")
    if int(n_samples) != n_samples or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")


def _attrs(p: dict, **kw: Any) -> dict:
    attrs = {k: v for k, v in p.items() if k not in ("F_site", "gamma_site", "L", "F")}
    attrs.update(method="second-order cumulant expansion (Gaussian closure, M = 2), from vacuum",
                 version=__version__, **kw)
    return attrs


def _check_tol(rtol: float, atol: float, max_steps: int, n_blocks: int = 8) -> None:
    if not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be finite and > 0, got {rtol!r}")
    if not (np.isfinite(atol) and atol > 0):
        raise ValueError(f"atol must be finite and > 0, got {atol!r}")
    if int(max_steps) != max_steps or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    if int(n_blocks) != n_blocks or n_blocks < 2:
        raise ValueError(f"n_blocks must be an integer >= 2, got {n_blocks!r}")


def window_errors(n: np.ndarray, n2: np.ndarray, n_blocks: int) -> tuple[np.ndarray, ...]:
    """Jackknife errors of the window mean n̄, of δn (Eq. 37) and of std_t(n) over contiguous
    time blocks.

    The closed equations are deterministic, but where they keep oscillating (or are chaotic) a
    finite window average has an error; it is estimated from ``n_blocks`` contiguous blocks of the
    samples (``n``, ``n2`` of shape (samples, site)), as batch means.  Zero for a stationary state.
    Returns (n_err, delta_n_err, n_std_err).
    """
    blocks = np.array_split(np.arange(n.shape[0]), n_blocks)
    counts = np.array([b.size for b in blocks], float)
    sums = {"n": np.stack([n[b].sum(0) for b in blocks], -1),
            "n2": np.stack([n2[b].sum(0) for b in blocks], -1),
            "nn": np.stack([(n[b] ** 2).sum(0) for b in blocks], -1)}

    def stat(m):
        return {"n": m["n"], "delta_n": mandel_q(m["n"], m["n2"]),
                "std": np.sqrt(np.maximum(m["nn"] - m["n"] ** 2, 0.0))}

    _, err = stats.jackknife(stat, sums, counts)
    return err["n"], err["delta_n"], err["std"]


def integrate(p: dict, t_relax: float, t_avg: float, n_samples: int, rtol: float, atol: float,
              max_steps: int, n_blocks: int = 8) -> dict[str, Any]:
    """Run one chain (``p`` from :func:`replicate.exact.chain_rates`); window averages per site.

    Returns a dict with ``status`` (see ``STATUS``), ``steps`` and, per site, ``n`` (window
    mean of n_ℓ(t)), ``delta_n`` (Eq. 37 from the window means of n and ⟨a†²a²⟩), ``field``
    (window mean of α_ℓ), ``n_window_std`` (standard deviation of n_ℓ(t) over the window),
    ``n_err``, ``delta_n_err``, ``n_window_std_err`` (:func:`window_errors`) and the samples ``n_series`` (shape
    (n_samples, L)).
    """
    L = p["L"]
    status, n, n2, a, acc, rej = _integrate(
        L, p["Delta"], p["J"], p["U"], np.asarray(p["gamma_site"], float),
        np.asarray(p["F_site"], float), float(t_relax), float(t_avg), int(n_samples),
        float(rtol), float(atol), int(max_steps), _A, _B, _E3, _E5)
    out: dict[str, Any] = {"status": int(status), "steps": int(acc), "rejected": int(rej),
                           "n_series": n}
    if status == OK and not (np.all(np.isfinite(n)) and np.all(np.isfinite(n2))):
        out["status"] = NONFINITE
    if out["status"] != OK:
        return out
    n_bar, n2_bar = n.mean(axis=0), n2.mean(axis=0)
    n_err, dn_err, std_err = window_errors(n, n2, min(int(n_blocks), int(n_samples)))
    out.update(n=n_bar, delta_n=mandel_q(n_bar, n2_bar), field=a.mean(axis=0),
               n_window_std=n.std(axis=0), n_err=n_err, delta_n_err=dn_err,
               n_window_std_err=std_err)
    return out


def steady_state(params: Any, *, t_relax: float = 200.0, t_avg: float = 200.0,
                 n_samples: int = 2001, rtol: float = 1e-7, atol: float = 1e-9,
                 max_steps: int = 10_000_000) -> xr.Dataset:
    """Cumulant-expansion NESS: integrate from the vacuum, then average over a time window.

    Parameters
    ----------
    params : duck-typed ``ChainParams`` (``L, F, Delta, J, U, gamma[, gamma_int, drive]``).
    t_relax : transient discarded (units of 1/γ).
    t_avg, n_samples : averaging window after ``t_relax`` and its number of equally spaced
        samples (see the module docstring).
    rtol, atol, max_steps : DOP853 tolerances and step budget.

    Returns
    -------
    xarray.Dataset over ``site``: ``n``, ``delta_n`` (Eq. 37), ``field``, ``n_window_std``,
    ``n_err``, ``delta_n_err`` (window-average errors over 8 time blocks); attrs include
    ``steps`` (accepted DOP853 steps).  Raises ``RuntimeError`` when the closed equations blow
    up (or exceed ``max_steps``).
    """
    p = chain_rates(params)
    _check_times(t_relax, t_avg, n_samples)
    _check_tol(rtol, atol, max_steps)
    r = integrate(p, t_relax, t_avg, int(n_samples), rtol, atol, max_steps)
    if r["status"] != OK:
        raise RuntimeError(f"cumulant integration failed for L={p['L']}, F={p['F']}: "
                           f"{STATUS[r['status']]}")
    data = {k: ("site", r[k]) for k in ("n", "delta_n", "field", "n_window_std", "n_err",
                                         "delta_n_err")}
    return xr.Dataset(data, coords={"site": np.arange(1, p["L"] + 1)},
                      attrs=_attrs(p, L=p["L"], F=p["F"], t_relax=t_relax, t_avg=t_avg,
                                   n_samples=int(n_samples), rtol=rtol, atol=atol,
                                   integrator="numba DOP853", steps=r["steps"]))


def phase_map(params: Any, L_values: Sequence[int], F_values: Sequence[float], *,
              t_relax: float = 500.0, t_avg: float = 500.0, n_samples: int = 2001,
              rtol: float = 1e-7, atol: float = 1e-9, max_steps: int = 10_000_000,
              n_blocks: int = 8, progress: bool = True) -> xr.Dataset:
    """n_L and δn_L of the cumulant NESS over the (L, F) plane (SI Fig. 10), compiled.

    ``params`` supplies Δ, J, U, γ (and γ_int, drive); its L and F are ignored.  Output:
    ``n_L``, ``delta_n_L``, ``n_L_window_std`` (std of n_L(t) over the window), ``ok``, the
    window-average errors ``n_L_err``, ``delta_n_L_err``, ``n_L_window_std_err``
    (:func:`window_errors` over ``n_blocks`` time blocks), ``status`` (0 = ok, see ``STATUS``),
    ``steps`` and the window samples ``n_L_series`` (dims ``L, F, sample``).  Failed points are
    NaN with ``ok = False``.
    """
    _check_times(t_relax, t_avg, n_samples)
    _check_tol(rtol, atol, max_steps, n_blocks)
    Ls = np.asarray(L_values, int)
    Fs = np.asarray(F_values, float)
    if Ls.ndim != 1 or Fs.ndim != 1 or Ls.size == 0 or Fs.size == 0:
        raise ValueError("L_values and F_values must be non-empty 1-d sequences")
    shape = (Ls.size, Fs.size)
    keys = ("n_L", "delta_n_L", "n_L_window_std", "n_L_err", "delta_n_L_err",
            "n_L_window_std_err")
    out = {k: np.full(shape, np.nan) for k in keys}
    series = np.full(shape + (int(n_samples),), np.nan)
    status = np.zeros(shape, int)
    steps = np.zeros(shape, int)
    grid = [(i, j) for i in range(Ls.size) for j in range(Fs.size)]
    for i, j in tqdm(grid, desc="cumulant (L, F) map", disable=not progress):
        p = chain_rates(as_chain(params).with_(L=int(Ls[i]), F=float(Fs[j])))
        r = integrate(p, t_relax, t_avg, int(n_samples), rtol, atol, max_steps, n_blocks)
        status[i, j], steps[i, j] = r["status"], r["steps"]
        if r["status"] != OK:
            continue
        out["n_L"][i, j], out["delta_n_L"][i, j] = r["n"][-1], r["delta_n"][-1]
        for k in ("window_std", "err", "window_std_err"):
            out["n_L_" + k][i, j] = r["n_" + k][-1]
        out["delta_n_L_err"][i, j] = r["delta_n_err"][-1]
        series[i, j] = r["n_series"][:, -1]
    p0 = chain_rates(as_chain(params).with_(L=int(Ls[0]), F=float(Fs[0])))
    data = {k: (("L", "F"), v) for k, v in out.items()}
    data["ok"] = (("L", "F"), status == OK)
    data["status"] = (("L", "F"), status)
    data["steps"] = (("L", "F"), steps)
    data["n_L_series"] = (("L", "F", "sample"), series)
    times = t_relax + np.arange(int(n_samples)) * (t_avg / (int(n_samples) - 1))
    return xr.Dataset(data, coords={"L": Ls, "F": Fs, "time": ("sample", times)},
                      attrs=_attrs(p0, t_relax=t_relax, t_avg=t_avg, n_samples=int(n_samples),
                                   rtol=rtol, atol=atol, max_steps=int(max_steps),
                                   n_blocks=int(n_blocks), integrator="numba DOP853"))
