"""Local thermometry: single-site models fitted to steady-state Wigner functions (notes §3).

Ferrari et al. (2025) read a temperature and a chemical potential off each site of the chain
by fitting its rotation-invariant Wigner function W_ℓ with local U(1)-symmetric models (Fig. 4,
SI Figs. 15–17):

- :mod:`.models` — Fock populations P(n) of the Gibbs ansatz (Eqs. 8, 9, 48), its U = 0
  Gaussian limit, the 2-photon-decay impurity model (Eqs. 10, 41) and the generalized
  Scully–Lamb model (Eq. 42); detailed balance κ_p/κ_d = e^{μ/T} (Eqs. 11, 44);
- :mod:`.wigner` — W(u) of a Fock-diagonal state and its exact annulus probabilities;
- :mod:`.histogram` — radial histograms (counts per batch of trajectories) from samples or
  from the engine;
- :mod:`.fitting` — Poisson-weighted least-squares fit and the fit-quality norm (Eq. 45);
- :mod:`.thermodynamics` — entropy density and the equipartition temperature (SI Eq. 40);
- :mod:`.sampling` — exact Wigner samples of a known state (tests, calibration);
- :mod:`.lindblad` — the impurity Lindbladians in QuTiP (checks).
"""
from .fitting import FitResult, fit, populations_at
from .histogram import RadialHistogram, as_histogram, coarsen, from_samples, from_xarray
from .models import (
    MODELS,
    PARAMETERS,
    U_SIMULATION,
    Populations,
    detailed_balance_mu_over_T,
    detailed_balance_ratio,
    gaussian_populations,
    gibbs_populations,
    populations,
    scully_lamb_gain,
    scully_lamb_populations,
    thermal_mu_over_T,
    two_photon_populations,
)
from .sampling import wigner_samples
from .thermodynamics import (
    entropy,
    equipartition_temperature,
    fock_populations,
    local_entropy,
    model_entropy,
)
from .wigner import (
    annulus_mean_wigner,
    annulus_probabilities,
    radial_cdf,
    wigner_radial,
)

__all__ = [
    "MODELS",
    "PARAMETERS",
    "U_SIMULATION",
    "FitResult",
    "Populations",
    "RadialHistogram",
    "annulus_mean_wigner",
    "annulus_probabilities",
    "as_histogram",
    "coarsen",
    "detailed_balance_mu_over_T",
    "detailed_balance_ratio",
    "entropy",
    "equipartition_temperature",
    "fit",
    "fock_populations",
    "from_samples",
    "from_xarray",
    "gaussian_populations",
    "gibbs_populations",
    "local_entropy",
    "model_entropy",
    "populations",
    "populations_at",
    "radial_cdf",
    "scully_lamb_gain",
    "scully_lamb_populations",
    "thermal_mu_over_T",
    "two_photon_populations",
    "wigner_radial",
    "wigner_samples",
]
