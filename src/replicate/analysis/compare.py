"""Errors of statistics of map points, and map-vs-map comparisons (Fig. 2, SI Figs. 10 and 12).

**Bootstrap over map points.** A point of a TWA sweep (:func:`replicate.twa.phase_diagram`)
carries its value and a jackknife error over trajectory batches (``*_err``); a statistic of many
points — a maximum, an argmax, a median over a regime, a slope, the position of a transition —
gets its error from :func:`bootstrap`: every point is redrawn from a Gaussian of its value and
error, the whole statistic (regime classification and masks included) is recomputed on each
resample, and the error is the standard deviation of the resamples. Points are redrawn
independently. The sweeps use common random numbers (every point the same seed), which makes
neighbouring points positively correlated in the regular regimes: for a difference of
neighbours the bootstrap error is then conservative, for a mean over many points optimistic.
A jackknife over trajectory batches of the whole map would keep the correlations; it needs the
per-batch values of every point, which the sweeps do not return.

A position on a grid of spacing h (an argmax, a first drive above a threshold) also carries the
quantization error of a uniform position within one step, h/√12 (:func:`quantized`).

**Map comparisons.** :func:`crossing` locates where a map row first crosses a level (linear
interpolation between drives); :func:`onset_mismatch` compares two maps by the largest distance
between their crossings over the rows; :func:`method_comparison` collects the statistics of the
QCE-vs-TWA comparison of SI Fig. 10 and :func:`drive_comparison` those of SI Fig. 12.

**Summaries.** :func:`regime_summary` (Fig. 2 cut), :func:`otoc_site_summary` (SI Fig. 11 maps),
:func:`method_summary` (SI Fig. 10) and :func:`drive_summary` (SI Fig. 12) take the Datasets of
the solvers and return (values, errors) of every statistic a chapter checks.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from .regimes import (POSITIONS, classify, cut_statistics, otoc_site_statistics, region_width,
                      spread_around)

#: fraction of resamples allowed to fail (a statistic undefined on a resample) before giving up
MAX_FAILED = 0.1


def bootstrap(stat: Callable[[dict], Mapping[str, float]],
              data: Mapping[str, tuple[np.ndarray, np.ndarray | None]], *,
              n_resamples: int = 400, seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """Value and parametric-bootstrap error of every entry of ``stat(points)``.

    ``data`` maps names to (values, errors) arrays of the same shape (errors ``None`` for exact
    arrays); ``stat`` takes a dict of arrays and returns a dict of floats. The value is ``stat``
    of the data, the error the standard deviation of ``stat`` over ``n_resamples`` redraws
    (values + errors · N(0, 1)), ignoring resamples where an entry is NaN; a resample on which
    ``stat`` raises ``ValueError`` (e.g. no drive left in a regime) is dropped, and more than
    :data:`MAX_FAILED` of them raise ``ValueError``. An entry that is NaN on more than that
    fraction of the resamples has error NaN.
    """
    if int(n_resamples) != n_resamples or n_resamples < 20:
        raise ValueError(f"n_resamples must be an integer >= 20, got {n_resamples!r}")
    arrays = {}
    for k, (v, e) in data.items():
        v = np.asarray(v, float)
        e = np.zeros_like(v) if e is None else np.asarray(e, float)
        if e.shape != v.shape or np.any(e[np.isfinite(e)] < 0):
            raise ValueError(f"errors of {k!r} must match its values and be >= 0")
        arrays[k] = (v, np.nan_to_num(e))
    full = {k: float(x) for k, x in stat({k: v for k, (v, _) in arrays.items()}).items()}
    rng = np.random.default_rng(seed)
    draws, failed = [], 0
    for _ in range(int(n_resamples)):
        redrawn = {k: v + e * rng.standard_normal(v.shape) for k, (v, e) in arrays.items()}
        try:
            draws.append(stat(redrawn))
        except ValueError:
            failed += 1
    if failed > MAX_FAILED * n_resamples:
        raise ValueError(f"the statistic is undefined on {failed} of {n_resamples} resamples")
    err = {}
    for k in full:
        s = np.array([float(d[k]) for d in draws])
        ok = np.isfinite(s)
        err[k] = float(np.std(s[ok], ddof=1)) if ok.sum() >= (1 - MAX_FAILED) * n_resamples else np.nan
    return full, err


def quantized(error: float, spacing: float, positions: int = 1) -> float:
    """``error`` combined with the quantization error of ``positions`` independent grid
    positions of step ``spacing`` (each uniform within a step: variance h²/12)."""
    if not (np.isfinite(spacing) and spacing > 0):
        raise ValueError(f"spacing must be finite and > 0, got {spacing!r}")
    return float(np.sqrt(error**2 + positions * spacing**2 / 12))


def crossing(F, x, level: float, *, rising: bool = True) -> np.ndarray:
    """First F at which each row of ``x`` (rows × drives, or one row) reaches ``level`` from
    below (``rising``) or from above, interpolated linearly between neighbouring drives; F[0]
    if the row starts there, NaN if it never does."""
    F = np.asarray(F, float)
    x = np.atleast_2d(np.asarray(x, float))
    if F.ndim != 1 or x.shape[1] != F.size or F.size < 2 or np.any(np.diff(F) <= 0):
        raise ValueError("F must be increasing and match the last axis of x")
    y = x - level if rising else level - x
    out = np.full(x.shape[0], np.nan)
    for r, row in enumerate(y):
        hit = np.flatnonzero(row >= 0)
        if hit.size == 0:
            continue
        j = hit[0]
        out[r] = F[0] if j == 0 else F[j - 1] + (F[j] - F[j - 1]) * (-row[j - 1]) / (row[j] - row[j - 1])
    return out


def onset_mismatch(F, a, b, level: float, *, rising: bool = True) -> float:
    """Largest |F_a − F_b| over rows between the crossings (:func:`crossing`) of two maps; a row
    that never crosses is placed one drive step past the grid (a lower bound of its distance);
    rows where neither map crosses count as agreeing."""
    F = np.asarray(F, float)
    beyond = F[-1] + (F[-1] - F[-2])
    ca, cb = (np.nan_to_num(crossing(F, x, level, rising=rising), nan=beyond) for x in (a, b))
    return float(np.max(np.abs(ca - cb)))


def median_relative_deviation(a, b, mask) -> float:
    """Median of |a/b − 1| over the points in ``mask`` (NaN if none)."""
    a, b, mask = np.asarray(a, float), np.asarray(b, float), np.asarray(mask, bool)
    mask = mask & np.isfinite(a) & np.isfinite(b) & (b != 0)
    return float(np.median(np.abs(a[mask] / b[mask] - 1))) if mask.any() else np.nan


def method_comparison(F, qce: Mapping[str, np.ndarray], twa: Mapping[str, np.ndarray],
                      linear_n: np.ndarray, *, D_chaos: float, dn_super: float,
                      n_rnw: float) -> dict[str, float]:
    """The statistics of the QCE-vs-TWA comparison (SI Fig. 10) on maps over (L, F).

    ``qce`` holds ``n``, ``dn``, ``rel_std`` (std_t(n_L)/n_L over the window), ``twa`` holds
    ``n``, ``dn``, ``D``; ``linear_n`` is n_L of the linear chain (U = 0, δn = 0), the control:
    a map that grows with F like the others but has no regime II or III. Regions from the TWA:
    chaotic = D > ``D_chaos``; RNW = n_L > ``n_rnw``, not chaotic and δn_L < 0; regular = the
    remaining points with n_L below ``n_rnw``. Keys (``*_control``: the same on the control):

    - ``onset_II``: :func:`onset_mismatch` of δn_L rising through ``dn_super`` (regime II);
      ``onset_III``: the same for n_L rising through ``n_rnw`` (the jump to the RNW);
    - ``dev_n``, ``dev_dn``: :func:`median_relative_deviation` of QCE from TWA over the chaotic
      points; controls: over the RNW points;
    - ``rnw_dn``: mean QCE δn_L over the RNW points; control: over the chaotic points;
    - ``nonstationary``: median std_t(n_L)/n_L of the QCE over the chaotic points; control:
      over the RNW points.
    """
    chaotic = np.asarray(twa["D"]) > D_chaos  # points where the QCE failed are NaN and ignored
    rnw = (np.asarray(twa["n"]) > n_rnw) & ~chaotic & (np.asarray(twa["dn"]) < 0)
    lin_dn = np.zeros_like(np.asarray(linear_n, float))
    out = {"onset_II": onset_mismatch(F, qce["dn"], twa["dn"], dn_super),
           "onset_II_control": onset_mismatch(F, lin_dn, twa["dn"], dn_super),
           "onset_III": onset_mismatch(F, qce["n"], twa["n"], n_rnw),
           "onset_III_control": onset_mismatch(F, linear_n, twa["n"], n_rnw)}
    for key, m in (("", chaotic), ("_control", rnw)):
        out["dev_n" + key] = median_relative_deviation(qce["n"], twa["n"], m)
        out["dev_dn" + key] = median_relative_deviation(qce["dn"], twa["dn"], m)
        out["nonstationary" + key] = float(np.nanmedian(qce["rel_std"][m])) if m.any() else np.nan
    for key, m in (("", rnw), ("_control", chaotic)):
        out["rnw_dn" + key] = float(np.nanmean(qce["dn"][m])) if m.any() else np.nan
    return out


def drive_comparison(F, boundary: Mapping[str, np.ndarray], uniform: Mapping[str, np.ndarray], *,
                     large_dn: float, chaotic_D: float, margin: float = 1.0) -> dict[str, float]:
    """The statistics of SI Fig. 12: two chains (``n``, ``dn``, ``D`` at the last site over the
    drives ``F``). Leap and crossover by :func:`replicate.analysis.regimes.classify` with
    ``margin`` (as in Fig. 2). Keys (``*_control``: the same on the control):

    - ``leap_difference``: F_leap(uniform) − F_leap(boundary); control: the boundary chain's
      I→II crossover F_c instead of its leap;
    - ``dn_spread``: largest |F − F_leap| of the uniform chain where its δn_L > ``large_dn``;
      control: the same for the boundary chain;
    - ``dn_width``, ``D_width``: width in F of the boundary chain's region with δn_L >
      ``large_dn`` and D_{1,L} > ``chaotic_D``; controls: the uniform chain's;
    - ``D_max``: largest D_{1,L} of the uniform chain; control: of the boundary chain.
    """
    F = np.asarray(F, float)
    rb, ru = classify(F, boundary["n"], margin), classify(F, uniform["n"], margin)
    big = {k: np.asarray(c["dn"]) > large_dn for k, c in (("b", boundary), ("u", uniform))}
    chaos = {k: np.asarray(c["D"]) > chaotic_D for k, c in (("b", boundary), ("u", uniform))}
    return {"leap_difference": ru.F_leap - rb.F_leap, "leap_difference_control": ru.F_leap - rb.F_c,
            "F_leap_boundary": rb.F_leap, "F_leap_uniform": ru.F_leap,
            "dn_spread": spread_around(F, big["u"], ru.F_leap),
            "dn_spread_control": spread_around(F, big["b"], rb.F_leap),
            "dn_width": region_width(F, big["b"]), "dn_width_control": region_width(F, big["u"]),
            "D_width": region_width(F, chaos["b"]), "D_width_control": region_width(F, chaos["u"]),
            "D_max": float(np.max(uniform["D"])), "D_max_control": float(np.max(boundary["D"]))}


def _pair(ds, var: str) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(ds[var].values, float), np.asarray(ds[var + "_err"].values, float)


def _spacing(F) -> float:
    return float(np.max(np.diff(np.asarray(F, float))))


def regime_summary(cut, *, margin: float, window: float = 1.0, n_resamples: int = 400,
                   seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """:func:`replicate.analysis.regimes.cut_statistics` of a cut with :func:`bootstrap` errors.

    ``cut`` is a Dataset over (``F``, ``site``) with ``n``, ``delta_n``, ``D_sat`` and their
    ``*_err`` (:func:`replicate.twa.steady_point` on every drive); n_L, δn_L and D_{1,L} are its
    last site, ``dn_sites`` every site; ``F`` must be the drive magnitude |F|, increasing. Grid
    positions (:data:`~replicate.analysis.regimes.POSITIONS`) get the quantization error of
    :func:`quantized` (one position for F_c and F_leap, two for their differences).
    """
    F = np.asarray(cut["F"].values, float)
    last = cut.isel(site=-1)
    data = {"n": _pair(last, "n"), "dn": _pair(last, "delta_n"), "D": _pair(last, "D_sat"),
            "dn_sites": _pair(cut.transpose("F", "site"), "delta_n")}
    value, err = bootstrap(lambda d: cut_statistics(F, d["n"], d["dn"], d["D"], margin=margin,
                                                    window=window, dn_sites=d["dn_sites"]),
                           data, n_resamples=n_resamples, seed=seed)
    for k in POSITIONS:
        err[k] = quantized(err[k], _spacing(F), 1 if k in ("F_c", "F_leap") else 2)
    return value, err


def otoc_site_summary(maps, *, chaotic: float = 0.5, n_resamples: int = 400,
                      seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """:func:`replicate.analysis.regimes.otoc_site_statistics` of a phase diagram
    (``D_first``, ``D_middle``, ``D_last`` with errors) with :func:`bootstrap` errors."""
    data = {k: _pair(maps, k) for k in ("D_first", "D_middle", "D_last")}
    return bootstrap(lambda d: otoc_site_statistics(d["D_first"], d["D_middle"], d["D_last"],
                                                    chaotic=chaotic),
                     data, n_resamples=n_resamples, seed=seed)


def method_summary(F, qce, twa, linear_n, *, D_chaos: float, dn_super: float, n_rnw: float,
                   n_resamples: int = 400, seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """:func:`method_comparison` of a QCE map (:func:`replicate.cumulants.phase_map`: ``n_L``,
    ``delta_n_L``, ``n_L_window_std`` with errors) and a TWA map (:func:`replicate.twa.phase_diagram`)
    on the same (L, |F|) grid, with :func:`bootstrap` errors (the QCE window-average errors and
    the TWA jackknife errors)."""
    data = {"qn": _pair(qce, "n_L"), "qdn": _pair(qce, "delta_n_L"), "qstd": _pair(qce, "n_L_window_std"),
            "tn": _pair(twa, "n_L"), "tdn": _pair(twa, "delta_n_L"), "tD": _pair(twa, "D_last"),
            "lin": (np.asarray(linear_n, float), None)}

    def stat(d):
        return method_comparison(F, {"n": d["qn"], "dn": d["qdn"], "rel_std": d["qstd"] / d["qn"]},
                                 {"n": d["tn"], "dn": d["tdn"], "D": d["tD"]}, d["lin"],
                                 D_chaos=D_chaos, dn_super=dn_super, n_rnw=n_rnw)

    return bootstrap(stat, data, n_resamples=n_resamples, seed=seed)


def drive_summary(boundary, uniform, *, large_dn: float, chaotic_D: float, margin: float = 1.0,
                  n_resamples: int = 400, seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """:func:`drive_comparison` of two cuts (phase diagrams at one L, ``F`` = |F| increasing,
    ``n_L``, ``delta_n_L``, ``D_last`` with errors) with :func:`bootstrap` errors; positions on
    the drive grid get the quantization error of two grid positions (:func:`quantized`)."""
    F = np.asarray(boundary["F"].values, float)
    data = {f"{c}{k}": _pair(ds, v) for c, ds in (("b", boundary), ("u", uniform))
            for k, v in (("n", "n_L"), ("dn", "delta_n_L"), ("D", "D_last"))}

    def stat(d):
        return drive_comparison(F, {k: d["b" + k] for k in ("n", "dn", "D")},
                                {k: d["u" + k] for k in ("n", "dn", "D")},
                                large_dn=large_dn, chaotic_D=chaotic_D, margin=margin)

    value, err = bootstrap(stat, data, n_resamples=n_resamples, seed=seed)
    for k in value:
        if not k.startswith("D_max"):
            err[k] = quantized(err[k], _spacing(F), 1 if k.startswith("F_leap") else 2)
    return value, err


def twa_minus_exact(twa_site, exact_site) -> dict[str, tuple[float, float]]:
    """TWA against an exact steady state at one site: ``"n"`` → ((n^TWA − n^ex)/n^ex, error) and
    ``"dn"`` → (δn^TWA − δn^ex, error), the errors combining the TWA's sampling error (``n_err``,
    ``delta_n_err``) with the exact side's truncation error (``n_trunc``, ``delta_n_trunc`` of
    :func:`replicate.exact.cutoff_ladder`; zero for a converged :func:`~replicate.exact.steady_state`)
    in quadrature. Both arguments are one site of the Datasets (``.isel(site=-1)``)."""
    t, ex = twa_site, exact_site
    n_ex = float(ex.n)
    tn, tdn = (float(ex.get(v, 0.0)) for v in ("n_trunc", "delta_n_trunc"))
    return {"n": ((float(t.n) - n_ex) / n_ex, float(np.hypot(float(t.n_err), tn)) / n_ex),
            "dn": (float(t.delta_n) - float(ex.delta_n), float(np.hypot(float(t.delta_n_err), tdn)))}
