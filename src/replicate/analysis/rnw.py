"""The resonant nonlinear wave (RNW) of the strongly driven chain (Ferrari et al. 2025, Figs. 5, 6, 18, 19).

In regime III the chain forms a finite-momentum condensate: the mean field ⟨a_ℓ⟩ ≈ A_ℓ e^{ikℓ} with
a slowly modulated amplitude, a dominant wavelength λ = 2π/|k| of about 30 sites and a flat bulk
density n_ℓ, both set dynamically and independent of L (notes §4, Fig. 5). The paper gives no
formula for either number; these are our operational definitions:

* :func:`wavenumber` — the spectral peak of a complex profile z_ℓ (ℓ = 1..N):
  k̂ = argmax_k P(k), P(k) = |Σ_ℓ z_ℓ e^{−ikℓ}|². This is the least-squares fit of a plane wave
  A e^{ikℓ} (complex A) to z, since min_A Σ|z_ℓ − A e^{ikℓ}|² = Σ|z_ℓ|² − P(k)/N, and for a
  complex profile there is no mirror peak at −k to leak into the estimate, so it stays unbiased
  when the window holds only about one period (L = 40–80 at λ ≈ 30). The maximum is located on
  a zero-padded FFT grid and refined by Newton steps on the analytic P(k). We prefer it over the
  gradient of the unwrapped phase: near the boundaries, where the circular variance is large,
  one 2π slip of the unwrapping changes the gradient by a whole period, while the spectral peak
  weights every site and degrades smoothly with noise. A flat phase peaks at k = 0.
* :func:`wavelength` — k̂ with a jackknife error over batches of samples (trajectories, or
  contiguous time blocks of a window), λ = 2π/|k̂|, and whether a wave is resolved at all:
  |k̂| > z·σ_k (a finite momentum, not a flat phase) and at least ``min_periods`` periods in the
  analysed window (a longer "wavelength" is a gradient, not a wave); otherwise λ = ∞.
* :func:`bulk_density` — the mean n over the bulk (the chain without ``edges`` boundary sites),
  and its flatness: the least-squares slope over the bulk (with its error, so slope/σ tests a
  gradient), the relative change slope·(N_bulk − 1)/n̄ across the bulk and the relative spread
  std_ℓ(n)/n̄, all with jackknife errors over the same batches (which keeps the correlations
  between sites).

:func:`quench_state` applies both to one evolve run of a quench from the vacuum (Fig. 5): the RNW
onsets, a transient window scaled by the median onset time and the RNW window at the end, the
wavelength and the bulk density in each, and the circular variance of the phase in both.
:func:`quench_run` is that run reduced at once (the Dataset of :meth:`QuenchState.to_dataset`
plus the ensemble n_ℓ(t) and phase for the figure): a few hundred kB where the per-trajectory
field of every site is ~10² MB at the paper's statistics.

Inputs are arrays with the samples on the last axis, (site, sample), as in
:mod:`replicate.stats`: per-trajectory values (``alpha`` or ``n_window`` of an evolve run) or a
time window of ensemble means (``ds.n.sel(time=...).values.T``); in the second case the batches
are contiguous blocks of the window, i.e. batch means over time, which are honest only when a
block is much longer than the correlation time.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import get_type_hints

import numpy as np
import xarray as xr

from .. import stats
from ..twa import evolve
from ..validate import count, positive
from . import survival
from .fits import ols

__all__ = ["BulkDensity", "QuenchState", "Wavelength", "bulk_density", "quench_run", "quench_state",
           "wavelength", "wavenumber"]

N_BATCHES = 32       # as replicate.twa.ness.N_BATCHES
_NEWTON_STEPS = 30


def _samples(name: str, values, *, complex_values: bool) -> np.ndarray:
    """``values`` as a finite (site, sample) array with ≥ 2 samples."""
    a = np.asarray(values)
    if complex_values and not np.iscomplexobj(a):
        raise ValueError(f"{name} must be complex (pass np.exp(1j * phase) for a phase profile)")
    a = a.astype(complex if complex_values else float)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 2:
        raise ValueError(f"{name} must be a (site, sample) array with at least 2 samples, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def _bulk(name: str, a: np.ndarray, edges, minimum: int) -> tuple[np.ndarray, int]:
    """(rows of ``a`` without ``edges = (left, right)`` boundary sites, left); ≥ ``minimum`` rows
    must be left."""
    try:
        left, right = edges
    except (TypeError, ValueError):
        raise ValueError(f"edges must be (left, right), got {edges!r}") from None
    left, right = count("edges left", left, minimum=0), count("edges right", right, minimum=0)
    if a.shape[0] - left - right < minimum:
        raise ValueError(f"edges {edges!r} leave fewer than {minimum} of the {a.shape[0]} sites of {name}")
    return a[left:a.shape[0] - right], left


def wavenumber(z, *, pad: int = 8) -> np.ndarray:
    """Spectral peak k̂ ∈ [−π, π) of complex profiles ``z`` (site, ...) along axis 0.

    k̂ maximises P(k) = |Σ_ℓ z_ℓ e^{−ikℓ}|² (the least-squares plane-wave fit, module
    docstring): the maximum of P on an FFT grid zero-padded to ``pad`` · N points, then Newton
    steps on the analytic P(k), each limited to one grid spacing, until converged. Vectorised
    over trailing axes (one k̂ per column); a profile ∝ e^{ikℓ} gives k exactly.
    """
    pad = count("pad", pad, minimum=1)
    z = np.asarray(z, dtype=complex)
    if z.ndim < 1 or z.shape[0] < 2:
        raise ValueError(f"z must hold at least 2 sites on its first axis, got shape {z.shape}")
    shape, n = z.shape[1:], z.shape[0]
    z = z.reshape(n, -1)
    size = pad * n
    power = np.abs(np.fft.fft(z, size, axis=0)) ** 2
    grid = 2 * np.pi * np.fft.fftfreq(size)
    k = grid[np.argmax(power, axis=0)]
    dk = 2 * np.pi / size
    x = (np.arange(n) - 0.5 * (n - 1))[:, None]        # centred sites: same P(k), tamer derivatives
    for _ in range(_NEWTON_STEPS):
        w = z * np.exp(-1j * k[None, :] * x)
        s0, s1, s2 = w.sum(0), (-1j * x * w).sum(0), (-x * x * w).sum(0)
        d1 = 2 * np.real(np.conj(s0) * s1)
        d2 = 2 * (np.abs(s1) ** 2 + np.real(np.conj(s0) * s2))
        step = np.where(d2 < 0, -d1 / np.where(d2 < 0, d2, -1.0), 0.0)
        step = np.clip(step, -dk, dk)
        k = k + step
        if np.all(np.abs(step) < 1e-13):
            break
    k = np.angle(np.exp(1j * k))                        # back to (−π, π]
    return k.reshape(shape)


@dataclass(frozen=True)
class Wavelength:
    """Dominant wavenumber k (rad/site) and wavelength λ = 2π/|k| (sites) with jackknife errors.

    ``periods`` = N|k|/2π is the number of periods in the analysed window of ``n_sites``;
    ``resolved`` is False for a flat phase or a wave longer than the window (then λ = ∞ and its
    error NaN; k and its error are still reported).
    """

    k: float
    k_err: float
    wavelength: float
    wavelength_err: float
    periods: float
    resolved: bool
    n_sites: int

    @property
    def pair(self) -> tuple[float, float]:
        """(λ, its error), the form ``Ledger.check`` and ``stats.difference`` take."""
        return self.wavelength, self.wavelength_err


def wavelength(z, *, average: str = "profile", edges=(0, 0), n_batches: int = N_BATCHES,
               pad: int = 8, min_periods: float = 1.0, z_score: float = 2.0) -> Wavelength:
    """Dominant wavelength of the complex profiles ``z`` (site, sample) (module docstring).

    Parameters
    ----------
    z : complex (site, sample): the field α_ℓ per trajectory, e^{iφ_ℓ} of the mean phase per
        time sample of a window, or ⟨a_ℓ⟩ per time sample (the amplitude then weights the sites).
    average : ``"profile"`` — k̂ of the sample mean ⟨z_ℓ⟩ (the wavelength of the mean phase
        profile); ``"snapshot"`` — the mean over samples of each sample's k̂. They agree when the
        samples share their global phase (the drive on site 1 pins it); if it differs between
        samples or drifts in time, ⟨z_ℓ⟩ shrinks and the profile estimate loses the averaging
        gain (its error grows by up to √N), while the snapshot average keeps it.
    edges : (left, right) boundary sites left out of the analysis.
    n_batches : contiguous batches of samples for the jackknife (≥ 2).
    pad, min_periods, z_score : FFT zero-padding factor; the resolution rule of the module
        docstring (|k̂| > z_score·σ_k and N|k̂|/2π ≥ min_periods).
    """
    if average not in ("profile", "snapshot"):
        raise ValueError(f"average must be 'profile' or 'snapshot', got {average!r}")
    z, _ = _bulk("z", _samples("z", z, complex_values=True), edges, minimum=2)
    n_batches = count("n_batches", n_batches, minimum=2)
    min_periods = positive("min_periods", min_periods, allow_zero=True)
    z_score = positive("z_score", z_score, allow_zero=True)
    if average == "profile":
        sums, counts = stats.batch_sums(z, n_batches)
        value, err = stats.jackknife(lambda m: {"k": wavenumber(m["z"], pad=pad)}, {"z": sums}, counts)
    else:
        sums, counts = stats.batch_sums(wavenumber(z, pad=pad)[None, :], n_batches)
        value, err = stats.jackknife(lambda m: {"k": m["k"][0]}, {"k": sums}, counts)
    k, k_err = float(value["k"]), float(err["k"])
    n = z.shape[0]
    periods = n * abs(k) / (2 * np.pi)
    resolved = bool(abs(k) > z_score * k_err and periods >= min_periods)
    lam = 2 * np.pi / abs(k) if resolved else float("inf")
    lam_err = 2 * np.pi * k_err / k**2 if resolved else float("nan")
    return Wavelength(k, k_err, lam, lam_err, periods, resolved, n)


@dataclass(frozen=True)
class BulkDensity:
    """Bulk density n̄ and flatness statistics over ``sites`` (first, last; 1-based), each with a
    jackknife error. ``slope`` is per site; ``relative_change`` = slope·(N_bulk − 1)/n̄;
    ``spread`` = std_ℓ(n)/n̄ (biased up by the noise of n_ℓ, by about σ_n/n̄)."""

    mean: float
    mean_err: float
    slope: float
    slope_err: float
    relative_change: float
    relative_change_err: float
    spread: float
    spread_err: float
    sites: tuple[int, int]

    @property
    def mean_pair(self) -> tuple[float, float]:
        """(n̄, its error)."""
        return self.mean, self.mean_err

    @property
    def change_pair(self) -> tuple[float, float]:
        """(relative change across the bulk, its error)."""
        return self.relative_change, self.relative_change_err

    @property
    def slope_z(self) -> float:
        """Slope in units of its error: |slope_z| ≲ 2 is a bulk flat within the noise."""
        return self.slope / self.slope_err


def _density_stats(profile: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, slope, relative change and spread of bulk profiles (site, ...)."""
    x = np.arange(profile.shape[0], dtype=float)
    mean = profile.mean(0)
    slope, _ = ols(x, profile)
    return {"mean": mean, "slope": slope, "relative_change": slope * (x.size - 1) / mean,
            "spread": profile.std(0) / mean}


def bulk_density(n, *, edges=(5, 5), n_batches: int = N_BATCHES) -> BulkDensity:
    """Mean photon number over the bulk and its flatness (module docstring).

    Parameters
    ----------
    n : real (site, sample): photon numbers per trajectory (e.g. ``n_window``) or ensemble means
        per time sample of a window (``ds.n.sel(time=...).values.T``).
    edges : (left, right) boundary sites excluded; the default (5, 5) is our guess at the width
        of the boundary layers (the paper does not give one) — check it on the profile.
    n_batches : contiguous batches of samples for the jackknife (≥ 2).
    """
    n = _samples("n", n, complex_values=False)
    n, left = _bulk("n", n, edges, minimum=3)
    n_batches = count("n_batches", n_batches, minimum=2)
    sums, counts = stats.batch_sums(n, n_batches)
    value, err = stats.jackknife(lambda m: _density_stats(m["n"]), {"n": sums}, counts)
    if not value["mean"] > 0:
        raise ValueError("n must have a positive bulk mean")
    out = {k: float(v) for k, v in value.items()}
    out.update({k + "_err": float(v) for k, v in err.items()})
    return BulkDensity(**out, sites=(left + 1, left + n.shape[0]))


@dataclass(frozen=True)
class QuenchState:
    """One quench run reduced by :func:`quench_state`: the onsets (``onset``, a
    :class:`survival.Onset`) and their median ``T_med`` (the start of the RNW window when fewer
    than half converged), the transient-window mask ``early`` over the run's times, the RNW
    wavelength ``lam``, the bulk densities of the RNW (``rnw``) and transient (``tr``) windows, and
    the site-averaged circular variance V of the phase away from the drive in each window, as
    (value, jackknife error); for plotting, the unwrapped phase of the ensemble-mean field over the
    RNW window (``phase``, per site) and the density profiles of both windows (``n_rnw``,
    ``n_tr``: mean over trajectories and its standard error, per site)."""

    onset: survival.Onset
    T_med: float
    early: np.ndarray
    lam: Wavelength
    rnw: BulkDensity
    tr: BulkDensity
    V_tr: tuple[float, float]
    V_rnw: tuple[float, float]
    phase: np.ndarray
    n_rnw: tuple[np.ndarray, np.ndarray]
    n_tr: tuple[np.ndarray, np.ndarray]

    def to_dataset(self, times, sites) -> xr.Dataset:
        """The state as a Dataset over ``time``, ``site`` and ``traj`` (read back by :meth:`of`):
        the arrays as variables, the scalars of ``lam``, ``rnw``, ``tr`` and ``onset`` as
        attributes named ``<field>.<name>``."""
        attrs = {"T_med": self.T_med, "V_tr": list(self.V_tr), "V_rnw": list(self.V_rnw)}
        for name in ("lam", "rnw", "tr"):
            for f in fields(getattr(self, name)):
                value = getattr(getattr(self, name), f.name)
                attrs[f"{name}.{f.name}"] = list(value) if isinstance(value, tuple) else value
        attrs.update({f"onset.{k}": float(getattr(self.onset, k))
                      for k in ("censor_time", "plateau", "tolerance", "window")})
        attrs["lam.resolved"] = int(self.lam.resolved)
        data = {"onset_T": ("traj", self.onset.T), "early": ("time", self.early.astype(np.int8)),
                "phase": ("site", self.phase), "n_rnw": ("site", self.n_rnw[0]),
                "n_rnw_err": ("site", self.n_rnw[1]), "n_tr": ("site", self.n_tr[0]),
                "n_tr_err": ("site", self.n_tr[1])}
        return xr.Dataset(data, coords={"time": np.asarray(times), "site": np.asarray(sites)}, attrs=attrs)

    @classmethod
    def of(cls, ds: xr.Dataset) -> "QuenchState":
        """The state written by :meth:`to_dataset` (or read from the results store)."""
        a = ds.attrs

        def part(kind, prefix):
            hints = get_type_hints(kind)
            out = {}
            for f in fields(kind):
                v = a[f"{prefix}.{f.name}"]
                out[f.name] = tuple(int(x) for x in v) if hints[f.name] == tuple[int, int] else hints[f.name](v)
            return kind(**out)

        onset = survival.Onset(ds["onset_T"].values, *(float(a[f"onset.{k}"]) for k in
                                                        ("censor_time", "plateau", "tolerance", "window")))
        return cls(onset, float(a["T_med"]), ds["early"].values.astype(bool), part(Wavelength, "lam"),
                   part(BulkDensity, "rnw"), part(BulkDensity, "tr"), tuple(float(x) for x in a["V_tr"]),
                   tuple(float(x) for x in a["V_rnw"]), ds["phase"].values,
                   (ds["n_rnw"].values, ds["n_rnw_err"].values), (ds["n_tr"].values, ds["n_tr_err"].values))

    def __str__(self) -> str:
        return (f"T_med = {self.T_med:.0f}, "
                f"λ = {self.lam.wavelength:.2f} ± {self.lam.wavelength_err:.2f}, "
                f"bulk n = {self.rnw.mean:.2f} ± {self.rnw.mean_err:.2f}, "
                f"change {self.rnw.relative_change:+.4f} (transient {self.tr.relative_change:+.3f})")


def quench_state(ds, *, classical: bool, rnw_from: float, transient: tuple[float, float],
                 edges: int = 5, hold: float = 100.0, smooth: float = 20.0, phase_from: int = 10,
                 n_batches: int = N_BATCHES, min_periods: float = 0.75) -> QuenchState:
    """Reduce an evolve run ``ds`` (``alpha(time, site, traj)`` at every site) of a quench.

    n = |α|² − ½ (TWA) or |α|² (``classical``). The RNW window is t ≥ ``rnw_from``; the plateau
    of the onsets (:func:`survival.onset_times` on n_L, ``hold``, ``smooth``) is the median n_L in
    it. The transient window is t ∈ [``transient[0]``·T_med, ``transient[1]``·T_med]. The
    wavelength (:func:`wavelength` of the trajectory means of α over the RNW window, ``edges``
    boundary sites left out, ``min_periods``) and the bulk densities (:func:`bulk_density` of the
    window-mean n) use the trajectories as samples; V = 1 − |⟨e^{iφ}⟩| over the sites ℓ ≥
    ``phase_from`` and the window's samples, jackknifed over ``n_batches`` batches of trajectories."""
    times = ds["time"].values
    a = ds["alpha"].values                                     # (time, site, traj)
    n = np.abs(a) ** 2 - (0.0 if classical else 0.5)
    late = times >= rnw_from
    T = survival.onset_times(times, n[:, -1], plateau=float(np.median(n[late, -1])), window=hold,
                             smooth=smooth)
    T_med = survival.onset_summary(T).median
    T_med = T_med if np.isfinite(T_med) else rnw_from
    early = (times >= transient[0] * T_med) & (times <= transient[1] * T_med)
    cut = (edges, edges)
    V = {}
    for name, sel in (("tr", early), ("rnw", late)):
        z = a[sel][:, phase_from - 1:] / np.abs(a[sel][:, phase_from - 1:])
        sums, counts = stats.batch_sums(z, n_batches)
        v, e = stats.jackknife(lambda m: {"V": np.mean(1 - np.abs(m["z"]), axis=(0, 1))},
                               {"z": sums}, counts)
        V[name] = (float(v["V"]), float(e["V"]))
    profile = {}
    for name, sel in (("tr", early), ("rnw", late)):
        p = n[sel].mean(0)                                     # (site, traj)
        profile[name] = (p.mean(-1), p.std(-1) / np.sqrt(p.shape[-1]))
    phase = np.unwrap(np.angle(a[late].mean(0).mean(-1)))
    lam = wavelength(a[late].mean(0), edges=cut, min_periods=min_periods)
    return QuenchState(T, float(T_med), early, lam, bulk_density(n[late].mean(0), edges=cut),
                       bulk_density(n[early].mean(0), edges=cut), V["tr"], V["rnw"], phase,
                       profile["rnw"], profile["tr"])


def quench_run(params, *, n_traj: int, times, seed: int, rnw_from: float,
               transient: tuple[float, float], classical: bool = False,
               initial_noise: bool | None = None, dt: float | None = None, max_halvings: int = 0,
               edges: int = 5, hold: float = 100.0, smooth: float = 20.0,
               phase_from: int = 10) -> xr.Dataset:
    """A quench from the vacuum (``twa.evolve(params, ..., keep_sites=all)``) reduced by
    :func:`quench_state` at once (arguments as there; ``edges`` on both sides): the Dataset of
    :meth:`QuenchState.to_dataset` plus the ensemble ``n`` and ``mean_phase`` over (time, site)
    of the evolve run, and its attributes. Read the state back with :meth:`QuenchState.of`."""
    L = int(params.L)
    ds = evolve(params, n_traj=n_traj, times=times, seed=seed, classical=classical,
                initial_noise=initial_noise, dt=dt, max_halvings=max_halvings,
                keep_sites=range(1, L + 1))
    state = quench_state(ds, classical=classical, rnw_from=rnw_from, transient=transient,
                         edges=edges, hold=hold, smooth=smooth, phase_from=phase_from)
    out = state.to_dataset(ds["time"].values, ds["site"].values)
    for name in ("n", "mean_phase"):
        out[name] = ds[name]
    out.attrs = {**ds.attrs, **out.attrs}
    return out
