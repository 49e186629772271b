"""Single-site statistics of the steady state: momentum distributions, kurtosis, spatial domains.

Used by SI Figs. 13 (TWA vs Gross-Pitaevskii) and 14 (equipartition) of Ferrari et al. (2025).

Quadratures (SI §2.9 of the notes): x = (a + a†)/√2, p = (a − a†)/(i√2). Their Weyl symbols are
x = √2 Re α and p = √2 Im α, and so are those of every power p̂^k (a single quadrature is
symmetrically ordered by construction). Hence the p-marginal of the local Wigner function
(SI Eq. 33) is the exact distribution P(p) of p̂ within the TWA, and the moments of the Wigner
samples of √2 Im α are the quantum moments ⟨p̂^k⟩ (vacuum: ⟨p̂²⟩ = ½, excess kurtosis 0).

:func:`replicate.twa.ness` with ``p_grid`` and ``keep_batches=twa.LOCAL_MOMENTS`` keeps what the
SI figures need: per-batch momentum histograms (so P(p) carries an error band) and ⟨p̂³⟩, ⟨p̂⁴⟩ (so
the excess kurtosis has a jackknife error and no binning error).

Domains (main text §II.3.3). A rotation-invariant Wigner function of a classical Gibbs state
W ∝ exp[(μ|α|² − U|α|⁴/2)/T] is ring-shaped (maximum at |α| > 0) when μ > 0 and bell-shaped when
μ < 0. For a rotation-invariant W the excess kurtosis of p is κ = (3/2)(⟨I²⟩/⟨I⟩² − 2), I = |α|²
(:func:`kurtosis_u1`); at μ = 0 the intensity distribution is a half-Gaussian, ⟨I²⟩/⟨I⟩² = π/2,
which gives the boundary :data:`KAPPA_RING` = (3/2)(π/2 − 2) ≈ −0.644 between the prethermal
(ring, μ > 0) and thermal (bell, μ < 0) domains, for any T and U. :func:`classify_domains` uses it.

Errors. Every derived number (a bulk average, a mean over a domain, a logarithmic slope, the
largest rise of a coarse-grained profile) is resampled by :func:`site_jackknife`, a jackknife over
the batches of whole trajectories that ``ness(..., keep_batches=LOCAL_MOMENTS)`` keeps
(``batch_means``), so the correlations between sites are kept. :func:`halves` splits those batches into two independent ensembles: the
domains can be labelled on one half and tested on the other (no circular test).
:func:`classical_tests` and :func:`equipartition_tests` assemble the tests of SI Figs. 13 and 14.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import xarray as xr
from scipy.special import erf

from .. import stats
from ..twa import observables as obs
from .fits import ols
from .spatial import worst

Estimate = tuple[float, float]

KAPPA_RING = 1.5 * (np.pi / 2 - 2)
"""Excess kurtosis of p at the ring/bell boundary (μ = 0 classical Gibbs state), ≈ −0.644."""

DOMAINS = ("nonthermal", "prethermal", "thermal")


def kurtosis_u1(n, delta_n):
    """Excess kurtosis of p for a rotation-invariant local state from n and δn (Eq. 5).

    With I = |α|² (Wigner), ⟨I⟩ = n + ½ and Var(I) = (δn + 1) n + ¼, and a uniform phase gives
    κ = (3/2)[Var(I)/⟨I⟩² − 1]: 0 for any thermal state (δn = n) and the vacuum, → −3/2 for a
    phase-randomised coherent state (δn = 0, n → ∞).
    """
    n, delta_n = np.asarray(n, float), np.asarray(delta_n, float)
    return 1.5 * (((delta_n + 1.0) * n + 0.25) / (n + 0.5) ** 2 - 1.0)


def momentum_marginal(wigner: xr.DataArray) -> xr.DataArray:
    """P(p) from a Wigner histogram W(..., re, im) of :func:`replicate.twa.ness` (``wigner_grid``).

    P(p) = ∫ W(re, p/√2) d(re) / √2 on the points p = √2·im (a density in p); it integrates to the
    fraction of samples inside the histogram square.
    """
    if "re" not in wigner.dims or "im" not in wigner.dims:
        raise ValueError("wigner must have dims 're' and 'im'")
    d_re = float(wigner["re"][1] - wigner["re"][0])
    out = wigner.sum("re") * d_re / np.sqrt(2.0)
    out = out.rename(im="p").assign_coords(p=np.sqrt(2.0) * wigner["im"].values)
    return out


def density_moments(p: np.ndarray, density: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, variance and excess kurtosis of a binned density on equally spaced bin centres ``p``.

    The density is renormalised to 1 along its last axis. Sheppard's corrections for bins of width
    h remove the binning bias: μ₂ = μ₂' − h²/12, μ₄ = μ₄' − h²μ₂'/2 + 7h⁴/240.
    """
    p = np.asarray(p, float)
    d = np.asarray(density, float)
    h = p[1] - p[0]
    w = d / d.sum(-1, keepdims=True)
    mean = (w * p).sum(-1)
    c = p - mean[..., None]
    m2 = (w * c ** 2).sum(-1)
    m4 = (w * c ** 4).sum(-1)
    var = m2 - h * h / 12.0
    mu4 = m4 - 0.5 * h * h * m2 + 7.0 * h ** 4 / 240.0
    return {"p_mean": mean, "p_var": var, "p_kurtosis": mu4 / (var * var) - 3.0}


def gaussian_density(p: np.ndarray, mean: float, var: float, width: float | None = None) -> np.ndarray:
    """Gaussian of the given mean and variance on the bin centres ``p``, averaged over each bin
    (of width ``width``, default the spacing of ``p``), to compare with a histogram."""
    p = np.asarray(p, float)
    h = (p[1] - p[0]) if width is None else width
    s = np.sqrt(2.0 * var)
    return 0.5 * (erf((p + h / 2 - mean) / s) - erf((p - h / 2 - mean) / s)) / h


def classify_domains(V, kappa, *, V_sym: float = 0.9, kappa_c: float = KAPPA_RING,
                     V_err=None, kappa_err=None, n_sigma: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Label each site nonthermal, prethermal or thermal (main text §II.3.3).

    - ``nonthermal``: the U(1) symmetry is still broken by the drive, V < ``V_sym``
      (|⟨e^{iφ}⟩| > 1 − V_sym);
    - ``prethermal``: symmetric and ring-shaped, κ < ``kappa_c`` (Gibbs μ > 0);
    - ``thermal``: symmetric and bell-shaped, κ ≥ ``kappa_c`` (Gibbs μ < 0).

    Returns (labels, ambiguous): ``ambiguous`` marks sites whose V or κ lies within ``n_sigma``
    errors of its threshold (when errors are given).
    """
    V, kappa = np.asarray(V, float), np.asarray(kappa, float)
    if V.shape != kappa.shape:
        raise ValueError("V and kappa must have the same shape")
    if not 0.0 < V_sym <= 1.0:
        raise ValueError(f"V_sym must be in (0, 1], got {V_sym!r}")
    labels = np.where(V < V_sym, DOMAINS[0], np.where(kappa < kappa_c, DOMAINS[1], DOMAINS[2]))
    amb = np.zeros(V.shape, bool)
    if V_err is not None:
        amb |= np.abs(V - V_sym) < n_sigma * np.asarray(V_err, float)
    if kappa_err is not None:
        amb |= (V >= V_sym) & (np.abs(kappa - kappa_c) < n_sigma * np.asarray(kappa_err, float))
    return labels, amb


def domain_sites(labels, sites=None) -> dict[str, np.ndarray]:
    """The sites (1-based unless ``sites`` is given) carrying each label of :data:`DOMAINS`."""
    labels = np.asarray(labels)
    sites = np.arange(1, labels.size + 1) if sites is None else np.asarray(sites)
    return {d: sites[labels == d] for d in DOMAINS}


def log_slope(sites, n, mask=None):
    """Least-squares slope s = d ln n_ℓ / dℓ over ``mask``; the amplitude relaxation length is
    ξ_n = −1/s (s ≥ 0: no decay). The slope, not ξ_n, is returned because it stays finite for a
    flat profile (jackknife-friendly). ``n`` has sites on its first axis (trailing axes, e.g.
    jackknife batches, give one slope each) and must be positive on ``mask``.
    """
    sites, n = np.asarray(sites, float), np.asarray(n, float)
    m = np.ones(sites.shape, bool) if mask is None else np.asarray(mask, bool)
    if m.sum() < 2:
        raise ValueError("log_slope needs at least 2 sites in mask")
    if np.any(n[m] <= 0):
        raise ValueError("n must be positive on mask")
    y = np.log(n[m])
    return ols(sites[m], y)[0]


def site_jackknife(ds: xr.Dataset, stat: Callable[[dict], Mapping[str, float]],
                   batches=None) -> tuple[dict, dict]:
    """Value and jackknife error of ``stat(o)``, ``o`` the observables of
    :func:`replicate.twa.observables.local_observables` (arrays over sites) of the pooled and the
    leave-one-batch-out means of ``ds["batch_means"]`` (``twa.ness(..., keep_batches=twa.LOCAL_MOMENTS)``); ``batches`` restricts
    the ensemble to those batch indices. ``stat`` returns scalars (or arrays) by name."""
    if "batch_means" not in ds:
        raise ValueError("ds needs batch_means (twa.ness with keep_batches=twa.LOCAL_MOMENTS)")
    counts = ds["batch_count"].values
    sel = np.arange(counts.size) if batches is None else np.asarray(batches)
    if sel.size < 2:
        raise ValueError("site_jackknife needs at least 2 batches")
    sums = {str(m): (ds["batch_means"].sel(moment=m).values * counts)[:, sel] for m in ds["moment"].values}
    classical = bool(ds.attrs.get("classical", 0))
    value, err = stats.jackknife(lambda m: stat(obs.local_observables(m, classical)), sums,
                                 counts[sel], vectorized=False)
    return ({k: v if np.ndim(v) else float(v) for k, v in value.items()},
            {k: v if np.ndim(v) else float(v) for k, v in err.items()})


def subset(ds: xr.Dataset, batches) -> xr.Dataset:
    """The observables (``*`` and ``*_err`` over sites, :func:`site_jackknife`) of the ensemble of
    the trajectory batches ``batches`` of ``ds`` only: e.g. one half of the batches, an ensemble
    independent of the other half."""
    value, err = site_jackknife(ds, lambda o: o, batches)
    data = {k: ("site", v) for k, v in value.items()}
    data.update({k + "_err": ("site", e) for k, e in err.items()})
    return xr.Dataset(data, coords={"site": ds["site"].values}, attrs=dict(ds.attrs))


def labels(ds: xr.Dataset, *, V_sym: float = 0.9, kappa_c: float = KAPPA_RING) -> dict[str, np.ndarray]:
    """Domain masks over sites from :func:`classify_domains` of ``ds`` (V, κ and their errors).

    ``nonthermal``, ``prethermal``, ``thermal``: the unambiguous sites of each domain;
    ``bulk``: every symmetric site (prethermal or thermal, ambiguous included);
    ``prethermal_block``: the prethermal sites before the first thermal one; ``thermal_block``:
    every site from the first thermal one on (the lossy right end, where a few sites turn
    ring-like again, stays in the thermal block); ``ambiguous``.
    """
    lab, amb = classify_domains(ds["circular_variance"].values, ds["p_kurtosis"].values, V_sym=V_sym,
                                kappa_c=kappa_c, V_err=ds["circular_variance_err"].values,
                                kappa_err=ds["p_kurtosis_err"].values)
    site = np.arange(1, lab.size + 1)
    th = (lab == "thermal") & ~amb
    first = site[th].min() if th.any() else lab.size + 1
    out = {d: (lab == d) & ~amb for d in DOMAINS}
    out.update(bulk=lab != "nonthermal", ambiguous=amb,
               prethermal_block=out["prethermal"] & (site < first), thermal_block=site >= first)
    return out


def block_rise(values, start: int, width: int) -> float:
    """Largest relative rise between consecutive blocks of ``width`` sites of a profile, from
    site ``start`` (1-based) on: max_b (Ȳ_{b+1} − Ȳ_b)/Ȳ_b over the block means Ȳ_b (a last
    incomplete block is dropped). Negative for a profile that decreases block by block; its
    distance from 0 is the smallest relative decrease."""
    y = np.asarray(values, float)[int(start) - 1:]
    nblk = y.size // int(width)
    if nblk < 2:
        raise ValueError(f"block_rise needs at least two blocks of {width} sites from site {start}")
    m = y[:nblk * width].reshape(nblk, width).mean(1)
    return float(np.max(np.diff(m) / m[:-1]))


def _slope(values, mask) -> float:
    return log_slope(np.arange(1, len(values) + 1), values, mask)


def classical_tests(twa: xr.Dataset, gp: xr.Dataset, control: xr.Dataset, *, sites: tuple[int, int, int],
                    few_sites: int, V_sym: float = 0.9, kappa_c: float = KAPPA_RING) -> dict[str, Estimate]:
    """The tests of SI Fig. 13 (TWA vs Gross-Pitaevskii) as (value, error), key + "_control" for
    the control; ``control`` is a TWA chain at a weaker drive (another chain, no ring domain).

    Domains are the TWA's (:func:`labels`). Keys: ``n-agreement`` (bulk mean n_TWA/n_GP − 1;
    control: n of ``control`` over the same sites ÷ n_GP − 1), ``V-few-sites-<m>`` (min V over
    ℓ − 1 ≥ ``few_sites``; control: V at the driven site), ``V-bulk-<m>`` (bulk mean V; control:
    V at the driven site), ``flat-n-<m>`` (d ln n/dℓ over the TWA's prethermal block; control:
    ``control`` over the same sites), ``domains-GP`` (the smallest margin by which the GP's
    V and κ put the ``sites`` (nonthermal, prethermal, thermal) in those domains:
    V_sym − V, κ_c − κ, κ − κ_c; control: the same margins of ``control``) and
    ``kappa-<domain>`` (κ_TWA − κ_GP at that site; control: κ of ``control`` − κ_GP).
    The ``flat-n`` keys are left out when the TWA has fewer than two prethermal sites.
    The ensembles are independent: differences and ratios use :func:`replicate.stats.difference`
    and :func:`replicate.stats.ratio`.
    """
    mask = labels(twa, V_sym=V_sym, kappa_c=kappa_c)
    bulk, pre = mask["bulk"], mask["prethermal_block"]
    far = np.arange(1, bulk.size + 1) - 1 >= few_sites
    flat = pre.sum() >= 2  # else no prethermal plateau: the flatness tests are left out

    def one(ds):
        return site_jackknife(ds, lambda o: {
            "n_bulk": o["n"][bulk].mean(), "V_far": o["circular_variance"][far].min(),
            "V_bulk": o["circular_variance"][bulk].mean(), **({"slope": _slope(o["n"], pre)} if flat else {}),
            **{f"V_{s}": o["circular_variance"][s - 1] for s in sites}, **{f"k_{s}": o["p_kurtosis"][s - 1] for s in sites}})

    (t, te), (g, ge), (c, ce) = one(twa), one(gp), one(control)
    at = lambda v, e, q: (v[q], e[q])
    out = {}
    for key, (v, e) in (("n-agreement", (t, te)), ("n-agreement_control", (c, ce))):
        r, r_err = stats.ratio(*at(v, e, "n_bulk"), *at(g, ge, "n_bulk"))
        out[key] = (r - 1.0, r_err)
    for name, (v, e) in (("TWA", (t, te)), ("GP", (g, ge))):
        out[f"V-few-sites-{name}"], out[f"V-few-sites-{name}_control"] = at(v, e, "V_far"), at(v, e, f"V_{sites[0]}")
        out[f"V-bulk-{name}"], out[f"V-bulk-{name}_control"] = at(v, e, "V_bulk"), at(v, e, f"V_{sites[0]}")
        if flat:
            out[f"flat-n-{name}"], out[f"flat-n-{name}_control"] = at(v, e, "slope"), at(c, ce, "slope")

    def margin(v, e):
        s_n, s_p, s_t = sites
        return worst([(V_sym - v[f"V_{s_n}"], e[f"V_{s_n}"]), (kappa_c - v[f"k_{s_p}"], e[f"k_{s_p}"]),
                      (v[f"k_{s_t}"] - kappa_c, e[f"k_{s_t}"])])

    out["domains-GP"], out["domains-GP_control"] = margin(g, ge), margin(c, ce)
    for d, s in zip(DOMAINS, sites):
        out[f"kappa-{d}"] = stats.difference(*at(t, te, f"k_{s}"), *at(g, ge, f"k_{s}"))
        out[f"kappa-{d}_control"] = stats.difference(*at(c, ce, f"k_{s}"), *at(g, ge, f"k_{s}"))
    return out


def site_values(data: Mapping[str, xr.Dataset], sites, variables) -> dict[str, tuple[str, float, float]]:
    """The numbers a figure shows, for the regression check: ``variables`` (with their ``*_err``)
    of every Dataset of ``data`` (name → Dataset over ``site``) at ``sites``, as
    {key: (what, value, error)}."""
    return {f"{name}-{var}-site{s}": (f"{var} at ℓ = {s} ({name})", float(ds[var].sel(site=s)),
                                      float(ds[var + "_err"].sel(site=s)))
            for name, ds in data.items() for s in sites for var in variables}


def equipartition_tests(low: xr.Dataset, intermediate: xr.Dataset, *, sites, few_sites: int, block: int,
                        kappa_c: float = KAPPA_RING, V_sym: float = 0.9,
                        seed: int = 0) -> tuple[dict[str, Estimate], dict[str, np.ndarray]]:
    """The tests of SI Fig. 14 (equipartition temperature T^eq ∝ ⟨p̂²⟩) as (value, error), key +
    "_control" for the control, and the domain masks of the intermediate drive.

    The intermediate drive's domains are labelled (:func:`labels`) on the first half of its
    trajectory batches and its κ is tested on the second half, so no κ test uses the numbers
    that chose its sites. Keys: ``T-low-monotonic`` (:func:`block_rise` of ⟨p̂²⟩ at the low drive
    from site ``few_sites`` + 1 on, blocks of ``block`` sites; control: the same profile with
    those sites in a random order, ``seed``), ``gauss-low-<site>`` (κ at the low drive; control:
    the intermediate drive), ``T-int-saturates`` (d ln ⟨p̂²⟩/dℓ over the prethermal block;
    control: the low drive over the same sites), ``T-int-drops`` (slope over the thermal block
    minus slope over the prethermal block; control: the low drive), ``bulk-non-gaussian``
    (mean κ over the prethermal sites, second half; control: the low drive, same sites),
    ``end-bell`` and ``end-maxwell`` (mean κ over the thermal sites, second half; control: the
    prethermal sites, second half). Keys whose domains are missing (fewer than two sites in a
    block, no prethermal or thermal site) are left out.
    """
    nb = intermediate.sizes["batch"]
    first, second = np.arange(nb // 2), np.arange(nb // 2, nb)
    mask = labels(subset(intermediate, first), V_sym=V_sym, kappa_c=kappa_c)
    pre, th, prethermal, thermal = (mask[k] for k in ("prethermal_block", "thermal_block", "prethermal", "thermal"))
    blocks = min(pre.sum(), th.sum()) >= 2          # else the slope tests are left out
    domains = min(prethermal.sum(), thermal.sum()) >= 1  # else the domain κ tests are left out
    shuffle = np.random.default_rng(seed).permutation(np.arange(few_sites, pre.size))

    def stat(o):
        p2, k = o["p2"], o["p_kurtosis"]
        out = {"rise": block_rise(p2, few_sites + 1, block),
               "rise_shuffled": block_rise(np.concatenate([p2[:few_sites], p2[shuffle]]), few_sites + 1, block),
               **{f"k_{s}": k[s - 1] for s in sites}}
        if blocks:
            out.update(pre=_slope(p2, pre), diff=_slope(p2, th) - _slope(p2, pre))
        if domains:
            out.update(k_pre=k[prethermal].mean(), k_th=k[thermal].mean())
        return out

    (lo, loe), (it, ite), (hb, hbe) = (site_jackknife(low, stat), site_jackknife(intermediate, stat),
                                       site_jackknife(intermediate, stat, second))
    at = lambda v, e, q: (v[q], e[q])
    out = {"T-low-monotonic": at(lo, loe, "rise"), "T-low-monotonic_control": at(lo, loe, "rise_shuffled")}
    for s in sites:
        out[f"gauss-low-{s}"], out[f"gauss-low-{s}_control"] = at(lo, loe, f"k_{s}"), at(it, ite, f"k_{s}")
    if blocks:
        out.update({"T-int-saturates": at(it, ite, "pre"), "T-int-saturates_control": at(lo, loe, "pre"),
                    "T-int-drops": at(it, ite, "diff"), "T-int-drops_control": at(lo, loe, "diff")})
    if domains:
        out.update({"bulk-non-gaussian": at(hb, hbe, "k_pre"), "bulk-non-gaussian_control": at(lo, loe, "k_pre"),
                    "end-bell": at(hb, hbe, "k_th"), "end-bell_control": at(hb, hbe, "k_pre"),
                    "end-maxwell": at(hb, hbe, "k_th"), "end-maxwell_control": at(hb, hbe, "k_pre")})
    return out, mask
