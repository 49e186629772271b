"""Quench scans for the metastability of the RNW (Ferrari et al. 2025, Fig. 7).

A chain quenched from the vacuum under strong drive first goes through a chaotic transient and
then locks into the RNW (:mod:`replicate.analysis.survival` for the onset times). Fig. 7 asks how
this depends on the chain length: the onset time T* grows exponentially with L, beyond a critical
length L* the quantum (TWA) runs stay chaotic, and the histogram over trajectories of the
time-averaged n_L goes from unimodal (RNW) through bimodal to unimodal (chaotic). This module
holds the driver and the statistics that :mod:`survival` and :mod:`bimodality` do not:

* :func:`quench` — one TWA (or classical) quench of a chain, reduced to what Fig. 7 needs: the
  ensemble n_L(t) with its error, the per-trajectory n_L(t) on the time grid, the onset times
  (:func:`survival.onset_times`) and the per-trajectory mean n̄_L over the last ``window``
  (notes §5: the observable of the Fig. 7(c) histograms).
* :func:`crossing_length` — L*, the length at which the converged fraction by the censoring time
  falls to ½: a binomial logistic regression logit p_L = a + b(L − L̄) on the per-length counts
  (Newton / IRLS, Fisher errors), L* = L̄ − a/b, error by the delta method. Model-light: it does
  not assume exponential waiting times (:func:`survival.critical_length` does).
* :func:`rate_ratio` — the bend of ln T*(L): the slope of ln T* over the upper half of the
  lengths divided by the slope over the lower half (weighted least squares on each half), with a
  parametric-bootstrap error. An exponential law gives 1 (a straight line on a log axis); an
  onset limited by a front crossing the chain at a finite speed, T* ≈ (L − L₀)/v, gives
  (L_low − L₀)/(L_high − L₀) < 1; a law faster than exponential gives > 1.
* :func:`length_scan` — the onset statistics along L (survival fit, Kaplan–Meier medians, slope
  ratio, L*), printable as a one-paragraph diagnostic.
* the histograms of n̄_L (Fig. 7(c)) are in :mod:`replicate.analysis.coexistence`.
* :func:`smallest_drop` — the smallest decrease of L* between consecutive drives.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..validate import count, finite_array, positive
from . import survival
from .fits import log_line

__all__ = ["Crossing", "LengthScan", "Quench", "RateRatio", "crossing_length", "length_scan",
           "quench", "rate_ratio", "smallest_drop"]


@dataclass(frozen=True)
class Quench:
    """One quench (module docstring), read from the Dataset of :func:`quench` by :meth:`of`.
    ``n_mean``/``n_err`` (time,): ensemble n_L(t) and its jackknife error; ``nbar`` (traj,): the
    mean n_L of each trajectory over the last ``window``; ``onset``: :class:`survival.Onset`
    (None without a plateau). A run with early stop has onset times only (the rest NaN)."""

    L: int
    F: float
    classical: bool
    times: np.ndarray
    n_mean: np.ndarray
    n_err: np.ndarray
    nbar: np.ndarray
    window: float
    onset: survival.Onset | None
    trajectory_time: float = float("nan")  # simulated time summed over trajectories (early stop: less)

    @classmethod
    def of(cls, ds: xr.Dataset) -> "Quench":
        """The quench of a Dataset returned by :func:`quench` (or read from the results store)."""
        a = ds.attrs
        onset = None
        if "onset" in ds:
            onset = survival.Onset(ds.onset.values, float(a["censor_time"]), float(a["plateau"]),
                                   float(a["tolerance"]), float(a["hold"]))
        return cls(int(a["L"]), float(a["F"]), bool(a["classical"]), ds.time.values,
                   ds.n_mean.values, ds.n_err.values, ds.nbar.values, float(a["window"]), onset,
                   float(a["trajectory_time"]))

    def nbar_median(self) -> tuple[float, float]:
        """Median of n̄_L over the trajectories and std/√N (population std, ddof = 0) as its
        scale: the RNW value n_L^RNW when taken over a converged (classical) ensemble."""
        return float(np.median(self.nbar)), float(np.std(self.nbar) / np.sqrt(self.nbar.size))

    def nbar_mean(self) -> tuple[float, float]:
        """Mean of n̄_L over the trajectories and its standard error (sample std, ddof = 1)."""
        return float(self.nbar.mean()), float(self.nbar.std(ddof=1) / np.sqrt(self.nbar.size))

    def rnw_like(self, tolerance: float) -> np.ndarray:
        """Trajectories whose n̄_L lies within ``tolerance`` (relative) of the onset plateau."""
        if self.onset is None:
            raise ValueError("no plateau: run the quench with plateau=…")
        return np.abs(self.nbar - self.onset.plateau) <= tolerance * self.onset.plateau


def quench(params, *, n_traj: int, t_final: float, sample_every: float, window: float,
           seed: int, classical: bool = False, dt: float | None = None, max_halvings: int = 2,
           plateau: float | str | None = None, hold: float = 100.0, tolerance: float = 0.1,
           smooth: float = 20.0, early_stop: bool = False, check_every: float = 100.0) -> xr.Dataset:
    """Quench ``params`` (a :class:`~replicate.chain.ChainParams`) from the vacuum to ``t_final``,
    following n_L(t) = |α_L|² − ½ of every trajectory every ``sample_every``; reduced to a small
    Dataset (read it with :meth:`Quench.of`; small enough for the results store):
    ``n_mean``, ``n_err`` (time) the ensemble n_L(t) with its jackknife error
    (:func:`replicate.twa.evolve`), ``nbar`` (traj) the per-trajectory mean over the last
    ``window`` (notes §5: the observable of the Fig. 7(c) histograms) and, with a ``plateau``,
    ``onset`` (traj) the onset times of :func:`survival.onset_times` (NaN: censored) with
    ``hold``, ``tolerance``, ``smooth``.

    ``classical=True``: Eq. (35) from the same vacuum distribution of initial conditions
    (``initial_noise=True``), so the classical ensemble has a spread of onset times too.
    ``plateau="self"``: the run's own median n̄_L (the RNW value of a converged ensemble).

    ``early_stop=True`` (needs a numeric ``plateau``): every ``check_every`` the onset criterion
    is applied to the series so far and the trajectories whose onset it already settles are
    retired (:meth:`replicate.twa.engine.Simulation.retire`). An onset found on a prefix of the
    series is the onset on the whole series (the band must hold for ``hold`` after it, inside the
    prefix, and the centred smoothing uses only data up to half its width later), so the onset
    times are bit for bit those of the full run (a test); ``n_mean``, ``n_err`` and ``nbar``
    then need the retired trajectories and are NaN. ``attrs["trajectory_time"]`` is the
    simulated time summed over trajectories (n_traj · t_final without early stop).
    """
    from .. import twa
    from ..twa.engine import Simulation, with_dt_halving
    from ..twa.evolve import step_grid

    t_final = positive("t_final", t_final)
    sample_every = positive("sample_every", sample_every)
    window = positive("window", window)
    if window >= t_final:
        raise ValueError(f"window={window!r} must be shorter than t_final={t_final!r}")
    if isinstance(plateau, str) and plateau != "self":
        raise ValueError(f"plateau must be a number, 'self' or None, got {plateau!r}")
    if plateau is not None and plateau != "self":
        plateau = positive("plateau", plateau)
    if early_stop and not isinstance(plateau, float):
        raise ValueError("early_stop needs a numeric plateau (the onset criterion decides when a "
                         "trajectory may stop)")
    check_every = positive("check_every", check_every)
    times = np.round(np.arange(0.0, t_final + 1e-9, sample_every), 9)
    L = params.L
    half = 0.0 if classical else 0.5
    criterion = dict(window=hold, tolerance=tolerance, smooth=smooth)
    if not early_stop:
        ds = twa.evolve(params, n_traj=n_traj, times=times, dt=dt, seed=seed, classical=classical,
                        initial_noise=True if classical else None, keep_sites=[L],
                        max_halvings=max_halvings)
        n = np.abs(ds["alpha"].values[:, 0, :]) ** 2 - half
        late = times >= t_final - window - 1e-9
        nbar = n[late].mean(0)
        if plateau == "self":
            plateau = float(np.median(nbar))
        T = None if plateau is None else survival.onset_times(times, n, plateau=plateau, **criterion)
        data = {"n_mean": ("time", ds.n.values[:, -1]), "n_err": ("time", ds.n_err.values[:, -1]),
                "nbar": ("traj", nbar)}
        attrs = dict(ds.attrs, trajectory_time=float(n_traj * times[-1]))
    else:
        def run(step: float):
            sim = Simulation(params, n_traj=n_traj, dt=step, seed=seed, classical=classical,
                             integrator=twa.DEFAULT_INTEGRATOR,
                             initial_noise=True if classical else None)
            return sim, _early_stop_onsets(sim, step_grid(times, sim.dt), times, plateau,
                                           every=max(1, round(check_every / sample_every)),
                                           half=half, criterion=criterion)

        sim, (T, spent) = with_dt_halving(run, dt, max_halvings)
        nan = np.full(times.size, np.nan)
        data = {"n_mean": ("time", nan), "n_err": ("time", nan.copy()),
                "nbar": ("traj", np.full(n_traj, np.nan))}
        attrs = dict(sim.attrs(), trajectory_time=spent)
    if T is not None:
        data["onset"] = ("traj", T.T)
        attrs.update(plateau=float(plateau), censor_time=T.censor_time, hold=float(hold),
                     tolerance=float(tolerance), smooth=float(smooth))
    attrs.update(L=int(L), F=float(params.F), classical=int(bool(classical)), window=float(window),
                 early_stop=int(bool(early_stop)))
    return xr.Dataset(data, coords={"time": times, "traj": np.arange(n_traj)}, attrs=attrs)


def _early_stop_onsets(sim, steps: np.ndarray, times: np.ndarray, plateau: float, *, every: int,
                       half: float, criterion: dict) -> tuple[survival.Onset, float]:
    """Walk ``sim`` through ``steps``, recording n_L(t) of the trajectories still running and
    retiring those whose onset is settled every ``every`` samples (:func:`quench`). Returns the
    onsets of all trajectories and the simulated time summed over trajectories."""
    L = sim.params.L
    n = np.full((times.size, sim.n_traj), np.nan)
    T = np.full(sim.n_traj, np.nan)
    spent = 0.0
    shortest = criterion["window"] + criterion["smooth"]  # a prefix shorter cannot settle an onset
    for i in sim.walk(steps):
        if i:
            spent += sim.traj.size * (times[i] - times[i - 1])
        n[i, sim.traj] = np.abs(sim.alpha()[L - 1]) ** 2 - half
        if (i + 1) % every or i == times.size - 1 or times[i] - times[0] <= shortest or not sim.traj.size:
            continue
        found = survival.onset_times(times[:i + 1], n[:i + 1, sim.traj], plateau=plateau, **criterion)
        done = found.converged
        T[sim.traj[done]] = found.T[done]
        sim.retire(done)
    if sim.traj.size:
        T[sim.traj] = survival.onset_times(times, n[:, sim.traj], plateau=plateau, **criterion).T
    censor = survival.censor_time(times, window=criterion["window"], smooth=criterion["smooth"])
    return survival.Onset(T, censor, plateau, criterion["tolerance"], criterion["window"]), spent


@dataclass(frozen=True)
class Crossing:
    """L* (``value`` ± ``error``) of :func:`crossing_length` and the logistic fit: slope ``b``
    (per site, < 0 when the fraction falls with L) ± ``b_err``."""

    value: float
    error: float
    b: float
    b_err: float
    fraction: float

    def __str__(self) -> str:
        return f"L* = {self.value:.2f} ± {self.error:.2f}"

    @property
    def pair(self) -> tuple[float, float]:
        """(value, error), the form ``Ledger.check`` takes for a measurement or its control."""
        return self.value, self.error


def crossing_length(L, events, n, *, fraction: float = 0.5) -> Crossing:
    """Length at which the converged fraction ``events``/``n`` crosses ``fraction`` (module
    docstring). Needs at least two lengths and a fraction that is neither 0 nor 1 everywhere
    (then the logistic slope is finite); with complete separation (all converged up to some L,
    none after) the maximum-likelihood slope is infinite: we then add ½ a success and ½ a failure
    at every length (the Haldane–Anscombe correction), which keeps L* at the separation point."""
    L = finite_array("L", L)
    k = finite_array("events", events, nonnegative=True)
    m = finite_array("n", n, nonnegative=True)
    if L.ndim != 1 or L.size < 2 or k.shape != L.shape or m.shape != L.shape:
        raise ValueError("L, events and n must be 1-d arrays of the same length ≥ 2")
    if np.any(k > m) or np.any(m <= 0):
        raise ValueError("need 0 ≤ events ≤ n and n > 0 at every length")
    fraction = positive("fraction", fraction)
    if fraction >= 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    if np.all(k == 0) or np.all(k == m):
        raise ValueError("the converged fraction is 0 (or 1) at every length: no crossing")
    k, m = k + 0.5, m + 1.0                      # Haldane–Anscombe: finite under separation
    centre = float(np.average(L, weights=m))
    X = np.stack([np.ones_like(L), L - centre], axis=1)
    p0 = k.sum() / m.sum()
    theta = np.array([np.log(p0 / (1 - p0)), 0.0])
    for _ in range(100):
        p = 1 / (1 + np.exp(-(X @ theta)))
        w = m * p * (1 - p)
        step = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (k - m * p))
        theta = theta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    p = 1 / (1 + np.exp(-(X @ theta)))
    cov = np.linalg.inv(X.T @ (X * (m * p * (1 - p))[:, None]))
    a, b = theta
    if not b < 0:
        raise ValueError(f"the converged fraction does not fall with L (logistic slope {b:.3g})")
    target = np.log(fraction / (1 - fraction))
    Ls = centre + (target - a) / b
    g = np.array([-1 / b, -(target - a) / b**2])
    return Crossing(float(Ls), float(np.sqrt(g @ cov @ g)), float(b), float(np.sqrt(cov[1, 1])),
                    float(fraction))


@dataclass(frozen=True)
class RateRatio:
    """Slopes of ln T* over the lower and upper halves of the lengths, their ratio ``value`` ±
    ``error`` (parametric bootstrap), and the lengths of each half."""

    value: float
    error: float
    c_low: float
    c_low_err: float
    c_high: float
    c_high_err: float
    L_low: tuple
    L_high: tuple

    @property
    def pair(self) -> tuple[float, float]:
        """(value, error), the form ``Ledger.check`` takes for a measurement or its control."""
        return self.value, self.error


def rate_ratio(L, T, T_err, *, n_boot: int = 2000, seed: int = 0) -> RateRatio:
    """c_high/c_low for per-length onset times ``T`` ± ``T_err`` (module docstring). The lower
    half is the first ⌈N/2⌉ lengths, the upper half the last ⌈N/2⌉ (they share the middle one
    when N is odd); each needs ≥ 2 lengths, so N ≥ 3. The error is the standard deviation of the
    ratio over ``n_boot`` draws of ln T ~ N(ln T, T_err/T), which keeps the correlation through a
    shared length."""
    L = finite_array("L", L)
    T = finite_array("T", T)
    T_err = finite_array("T_err", T_err)
    if L.ndim != 1 or L.size < 3 or T.shape != L.shape or T_err.shape != L.shape:
        raise ValueError("L, T and T_err must be 1-d arrays of the same length ≥ 3")
    if np.any(T <= 0) or np.any(T_err <= 0) or np.any(np.diff(L) <= 0):
        raise ValueError("need increasing L and T, T_err > 0")
    n_boot = count("n_boot", n_boot, minimum=10)
    h = -(-L.size // 2)
    lo, hi = slice(0, h), slice(L.size - h, L.size)
    fl, fh = log_line(L[lo], T[lo], T_err[lo]), log_line(L[hi], T[hi], T_err[hi])
    if not fl.slope > 0:
        raise ValueError(f"ln T* does not grow over the lower half of the lengths (slope {fl.slope:.3g})")
    rng = np.random.default_rng(seed)
    y = np.log(T) + rng.standard_normal((n_boot, L.size)) * (T_err / T)
    w = (T / T_err) ** 2

    def slopes(part):
        x, ww, yy = L[part], w[part], y[:, part]
        xm = np.sum(ww * x) / ww.sum()
        return np.sum(ww * (x - xm) * yy, axis=1) / np.sum(ww * (x - xm) ** 2)

    r = slopes(hi) / slopes(lo)
    r = r[np.isfinite(r)]
    return RateRatio(float(fh.slope / fl.slope), float(r.std(ddof=1)), float(fl.slope),
                     float(fl.slope_err), float(fh.slope), float(fh.slope_err),
                     tuple(L[lo].tolist()), tuple(L[hi].tolist()))


@dataclass(frozen=True)
class LengthScan:
    """Onset statistics of quenches at several lengths (:func:`length_scan`)."""

    summary: dict                      # L -> survival.OnsetSummary
    L: np.ndarray                      # every length
    events: np.ndarray                 # converged trajectories per length
    exposure: np.ndarray               # total time at risk per length
    n: np.ndarray                      # trajectories per length
    mle: survival.Growth               # exponential-survival fit of T*(L) (Fisher errors)
    c_err: float                       # its rate error × max(1, √(deviance/dof))
    L_med: np.ndarray                  # lengths with a finite Kaplan-Meier median and upper bound
    T_med: np.ndarray                  # those medians
    T_med_err: np.ndarray              # their errors (at least one sampling interval)
    wls: survival.Growth | None        # weighted fit of ln T_med(L) (≥ 2 medians)
    ratio: RateRatio | None            # slope ratio of ln T_med, upper ÷ lower lengths (≥ 3 medians)
    Lstar: Crossing | None             # L* where the converged fraction crosses ½, if it does

    def per_length(self) -> str:
        """Converged/total trajectories and the Kaplan–Meier median onset time at each length."""
        return "  ".join(f"L={L}: {s.events}/{s.n}, T_med={s.median:.0f}"
                         for L, s in self.summary.items())

    def __str__(self) -> str:
        """The fits (survival MLE with its inflated and Fisher errors, WLS on the medians, slope
        ratio, L* when it lies inside the grid) on one line, the per-length counts on the next."""
        m = self.mle
        line = (f"c = {m.c:.3f} ± {self.c_err:.3f}/site (Fisher ± {m.c_err:.3f}, deviance "
                f"{m.statistic:.1f}, {m.dof} dof)")
        if self.wls is not None:
            line += (f"; WLS on medians c = {self.wls.c:.3f} ± {self.wls.c_err:.3f} "
                     f"(χ² {self.wls.statistic:.1f}, {self.wls.dof} dof)")
        if self.ratio is not None:
            line += f"; rate ratio {self.ratio.value:.2f} ± {self.ratio.error:.2f}"
        inside = self.Lstar is not None and self.Lstar.value <= self.L.max()
        line += f"; {self.Lstar}" if inside else "; L* beyond the grid"
        return line + "\n    " + self.per_length()

    def plot(self, ax, *, marker: str = "o", color=None, label: str = "", control: bool = False):
        """Draw the scan on ``ax`` (Fig. 7(b)): the Kaplan–Meier medians with their errors, the
        WLS fit through them (solid, over the lengths with a median), the survival MLE (dotted,
        over every length) and a vertical dash-dotted line at L*. The fits are labelled with their
        rates. ``control=True`` (a control drive): grey unless ``color`` is given, " (control)"
        appended to ``label``, no L* line. Returns the colour used."""
        if control:
            color = "0.5" if color is None else color
            label += " (control)"
        h = ax.errorbar(self.L_med, self.T_med, yerr=self.T_med_err, fmt=marker, ms=4, color=color,
                        label=label)
        col = h[0].get_color()
        if self.wls is not None:
            LM = np.linspace(self.L_med.min(), self.L_med.max(), 50)
            ax.plot(LM, self.wls.T(LM), "-", lw=1, color=col,
                    label=rf"  medians: $c={self.wls.c:.3f}\pm{self.wls.c_err:.3f}$")
        LL = np.linspace(self.L.min(), self.L.max(), 50)
        ax.plot(LL, self.mle.T(LL), ":", lw=0.8, color=col,
                label=rf"  survival MLE: $c={self.mle.c:.3f}\pm{self.c_err:.3f}$")
        if not control and self.Lstar is not None:
            ax.axvline(self.Lstar.value, color=col, ls="-.", lw=0.8)
        return col


def length_scan(runs: dict, *, resolution: float) -> LengthScan:
    """Onset statistics of ``runs`` (L -> :class:`Quench` with onset times) along L.

    The exponential-survival model T* = A e^{cL} (:func:`survival.growth_mle`) is fitted to all
    lengths; when it misfits (deviance > dof) its rate error is inflated by √(deviance/dof). The
    Kaplan–Meier medians (error at least ``resolution``, the time grid) get a weighted
    log-linear fit and, with three or more, the slope ratio of :func:`rate_ratio`. L* comes from
    :func:`crossing_length` when some but not all trajectories converged and the longest chain
    did not converge entirely.
    """
    Ls = sorted(runs)
    if any(runs[L].onset is None for L in Ls):
        raise ValueError("every quench needs onset times (quench with plateau=…)")
    summ = {L: survival.onset_summary(runs[L].onset) for L in Ls}
    L = np.array(Ls, float)
    events = np.array([summ[k].events for k in Ls])
    exposure = np.array([summ[k].exposure for k in Ls])
    n = np.array([summ[k].n for k in Ls])
    mle = survival.growth_mle(L, events, exposure)
    # a deviance of −0.0 (a saturated fit, round-off) must not make the inflation NaN
    c_err = mle.c_err * max(1.0, float(np.sqrt(max(mle.statistic, 0.0) / max(mle.dof, 1))))
    ok = [k for k in Ls if np.isfinite(summ[k].median) and np.isfinite(summ[k].median_high)]
    L_med = np.array(ok, float)
    T_med = np.array([summ[k].median for k in ok])
    T_err = np.array([max(summ[k].median_err, resolution) for k in ok])
    wls = survival.growth_wls(L_med, T_med, T_err) if len(ok) >= 2 else None
    ratio = rate_ratio(L_med, T_med, T_err) if len(ok) >= 3 else None
    crosses = 0 < events.sum() < n.sum() and events[-1] < n[-1]
    Lstar = crossing_length(L, events, n) if crosses else None
    return LengthScan(summ, L, events, exposure, n, mle, c_err, L_med, T_med, T_err, wls, ratio, Lstar)



def smallest_drop(crossings) -> tuple[float, float] | None:
    """min over consecutive pairs of L*_i − L*_{i+1} and its error √(σ_i² + σ_{i+1}²) for
    :class:`Crossing` objects ordered by increasing drive: positive when L* falls at every step.
    None when any crossing is missing (L* outside the length grid) or fewer than two are given."""
    crossings = list(crossings)
    if len(crossings) < 2 or any(c is None for c in crossings):
        return None
    drops = [(a.value - b.value, float(np.hypot(a.error, b.error)))
             for a, b in zip(crossings, crossings[1:])]
    return min(drops)
