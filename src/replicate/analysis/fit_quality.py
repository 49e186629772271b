"""The runs and claims of Ferrari et al. SI Figs. 15 and 17 (how well the local models fit the
steady-state Wigner functions), in one place.

:func:`study` makes what the two figures read, on the chain and steady states of Fig. 4:

- the steady state at the low and the intermediate drive, each site's radial histogram on its
  fit annuli (:func:`replicate.analysis.annuli.steady_state`, or its cached version), and the
  local fits of :func:`replicate.analysis.thermo.local_profile`: at every ``site_stride``-th
  site at the intermediate drive, at the SI 17 sites at the low one;
- raw Wigner samples of the same trajectories at the polar sites (ℓ ≤ ``n_near`` and the SI 15
  showcase sites), kept as their histograms on the fits' annuli
  (:func:`replicate.analysis.thermo.sample_histograms`), and the polar norms on them;
- the engine check: the engine's radial counts against the samples' own histogram, at the polar
  sites where the stored steady state keeps the engine's fine grid.

The showcase sites are ours (:func:`showcase_sites`). :func:`record` checks the claims of
``chapters/ferrari/si_fits.claims.yml`` on a ledger, each against its control, and records the
values: a fit "works" or "fails" by its norm over the noise floor (Eq. 45, notes §3.5).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import xarray as xr

from ..chain import ChainParams
from ..validate import count
from . import annuli, thermo

IMPURITY_FITS = ("gibbs", "two_photon", "scully_lamb")
"""The three ansätze of SI Fig. 15 (the Gaussian U = 0 limit is SI Fig. 17's control)."""


def showcase_sites(L: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Our sites of the panels: SI Fig. 15(b–d) near the drive (ℓ = 2), in the bulk (L/4) and in
    the tail (7L/8); SI Fig. 17 at the low drive (L/2, 3L/4) and at the intermediate drive (L/2,
    prethermal, and L − 5, the thermal domain of our Fig. 4)."""
    if count("L", L) < 6:
        raise ValueError(f"L must be >= 6 for the showcase sites (ℓ = L − 5 ≥ 1), got {L}")
    return (2, L // 4, 7 * L // 8), (L // 2, 3 * L // 4), (L // 2, L - 5)


@dataclass
class Study:
    """The fits of SI Figs. 15 and 17 (module docstring). Dicts are keyed by drive, ``"low"`` and
    ``"inter"``: ``steady`` the stored steady states, ``prof``/``fitted`` the
    :func:`~replicate.analysis.thermo.local_profile` Datasets and fits, ``ratio`` the radial norm
    over its noise floor with its error; ``sampled`` the sample histograms at ``polar_sites``,
    ``polar`` their polar norms; ``mismatch`` the engine check summed over ``fine``."""

    L: int
    show15: tuple[int, ...]
    show17_low: tuple[int, ...]
    show17_int: tuple[int, ...]
    polar_sites: tuple[int, ...]
    steady: dict[str, xr.Dataset]
    prof: dict[str, xr.Dataset]
    fitted: dict[str, dict]
    ratio: dict[str, tuple[xr.DataArray, xr.DataArray]]
    sampled: xr.Dataset
    polar: xr.Dataset
    fine: tuple[int, ...]
    mismatch: int

    def summary(self) -> str:
        """The engine check and the Gibbs polar norms, one line each."""
        gibbs = self.polar["ratio"].sel(model="gibbs").values
        return (f"engine vs sample histograms at ℓ = {list(self.fine)}: {self.mismatch} counts differ\n"
                "polar norm ÷ noise, Gibbs: " + ", ".join(f"{s}: {r:.2f}" for s, r in zip(self.polar_sites, gibbs)))


def study(chain: Callable[[float], ChainParams], *, L: int, F_low: float, F_intermediate: float, U: float,
          energy_scale: float, u_grid: tuple[float, int], fit_bins: int, site_stride: int, n_near: int,
          n_angles: int, run: dict, steady_state: Callable[..., xr.Dataset] = annuli.steady_state,
          sample_histograms: Callable[..., xr.Dataset] = thermo.sample_histograms) -> Study:
    """Run (or read from the store) the steady states and samples of SI Figs. 15/17, and fit them.

    ``chain(F)`` makes the chain of length ``L`` at drive F; ``run`` holds the engine settings
    shared by every run (``n_traj``, ``t_relax``, ``t_avg``, ``sample_every``, ``seed``, ...),
    the same as Fig. 4's so that the store serves both chapters."""
    show15, show17_low, show17_int = showcase_sites(L)
    stride, n_near = count("site_stride", site_stride), count("n_near", n_near)
    if n_near > L:
        raise ValueError(f"n_near must be at most L = {L}, got {n_near}")
    polar_sites = tuple(sorted(set(range(1, n_near + 1)) | set(show15)))
    sites = {"low": sorted(set(show17_low)),
             "inter": sorted(set(range(1, L + 1, stride)) | {L} | set(polar_sites) | set(show17_int))}
    steady, prof, fitted = {}, {}, {}
    for key, F in (("low", F_low), ("inter", F_intermediate)):
        steady[key] = steady_state(chain(F), u_grid=u_grid, bins=fit_bins, **run)
        prof[key], fitted[key] = thermo.local_profile(steady[key], U=U, energy_scale=energy_scale,
                                                      sites=sites[key], bins=fit_bins)
    inter = steady["inter"]
    sampled = sample_histograms(chain(F_intermediate), list(polar_sites), dt=inter.attrs["dt"],
                                u_edges=[fitted["inter"]["gibbs", s].u_edges for s in polar_sites],
                                u_grid=u_grid, wigner_sites=show15, n_angles=n_angles, **run)
    fine = tuple(s for s in polar_sites if s in inter["fine_site"])
    return Study(L, show15, show17_low, show17_int, polar_sites, steady, prof, fitted,
                 {key: thermo.norm_ratio(p) for key, p in prof.items()}, sampled,
                 thermo.polar_profile(sampled, fitted["inter"]), fine,
                 thermo.histogram_mismatch(sampled, inter, fine, u_grid))


def record(ledger: Any, s: Study, *, V_sym: float, n_resamples: int, seed: int) -> None:
    """Check the claims of SI Figs. 15/17 on ``ledger`` (each with its control) and record the
    values; statistics over sites or models get parametric-bootstrap errors.

    - ``near-drive-fails``: the smallest polar norm of the three ansätze at ℓ = 1 (against the
      bulk site L/4); ``bulk-works``: the largest of their medians over the U(1)-symmetric sites
      (against the Gaussian's median); ``tail-works``: their largest radial norm at ℓ = L
      (against the Gaussian's);
    - ``gaussian-low``/``gaussian-fails-int``: the Gaussian at the SI 17 sites of each drive
      (each against the other drive); ``gibbs-int``: the Gibbs fit at the intermediate drive
      (against the Gaussian there);
    - ``engine-histograms``: the engine check (an identity of the engine, no control)."""
    L, imp = s.L, list(IMPURITY_FITS)
    med = thermo.symmetric_median(s.prof["inter"], V_sym=V_sym, models=("gaussian",) + IMPURITY_FITS)
    boot = dict(n_resamples=n_resamples, seed=seed)

    def ext(which, key, model, sites):  # extreme of the radial norm ÷ noise over model(s) and sites
        return thermo.norm_extreme(*s.ratio[key], which, model=model, sites=sites, **boot)

    near = {site: thermo.norm_extreme(s.polar["ratio"], s.polar["ratio_err"], "min", model=imp, sites=[site], **boot)
            for site in (1, L // 4)}
    ledger.check("near-drive-fails", *near[1], control=near[L // 4])
    ledger.check("bulk-works", *thermo.extreme([med[m][0] for m in imp], [med[m][1] for m in imp], "max", **boot),
                 control=med["gaussian"])
    ledger.check("tail-works", *ext("max", "inter", imp, [L]), control=ext("max", "inter", "gaussian", [L]))
    ledger.check("engine-histograms", s.mismatch)
    ledger.check("gaussian-low", *ext("max", "low", "gaussian", s.show17_low),
                 control=ext("max", "inter", "gaussian", s.show17_int))
    ledger.check("gaussian-fails-int", *ext("min", "inter", "gaussian", s.show17_int),
                 control=ext("min", "low", "gaussian", s.show17_low))
    ledger.check("gibbs-int", *ext("max", "inter", "gibbs", s.show17_int),
                 control=ext("max", "inter", "gaussian", s.show17_int))
    for m in imp:
        ledger.value(f"polar-1-{m}", f"polar norm ÷ noise at ℓ = 1, {m}", s.polar["ratio"].sel(model=m, site=1),
                     s.polar["ratio_err"].sel(model=m, site=1))
        ledger.value(f"median-{m}", f"median radial norm ÷ noise over symmetric sites, {m}", *med[m])
    for key, cut in (("low", s.show17_low), ("inter", s.show17_int)):
        for site in cut:
            g = s.prof[key].sel(site=site)
            ledger.value(f"mu_over_T-{key}-{site}", f"Gibbs μ/T at ℓ = {site} ({key} drive)",
                         g["mu_over_T"].sel(model="gibbs"), g["mu_over_T_err"].sel(model="gibbs"))
            ledger.value(f"gauss-{key}-{site}", f"Gaussian norm ÷ noise at ℓ = {site} ({key})",
                         *(x.sel(model="gaussian", site=site) for x in s.ratio[key]))
