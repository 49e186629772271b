"""Kinetic equations of many-body reservoir engineering (Ribeiro & Marquardt, PRR 2020).

A 1D open bosonic array (L sites, hopping J) whose sites couple density–density to identical
driven lossy cavities; bosons scatter between band modes at golden-rule rates set by the
cavity noise spectrum.  Time is τ = χ²t/J, energies are measured from the band centre.
"""
from .array import band_energies, mode_functions, overlap, wave_numbers
from .divergence import divergence_map, kl_divergence, kl_ratio
from .equation import kinetic_jacobian, kinetic_rhs, rate_matrix
from .solve import cavity_rates, evolve, evolve_rates, steady_state, steady_state_rates
from .spectrum import (beta0, beta_eff, beta_eff_series, cavity_spectrum, drive_amplitude_sq,
                       thermal_spectrum)
from .thermal import (beta_extracted, beta_local_of_omega, beta_of_omega, bose_einstein, chemical_potential,
                      perturbative_steady_state)

__all__ = [
    "band_energies", "beta0", "beta_eff", "beta_eff_series", "beta_extracted", "beta_local_of_omega", "beta_of_omega",
    "bose_einstein", "cavity_rates", "cavity_spectrum", "chemical_potential",
    "divergence_map", "drive_amplitude_sq", "evolve", "evolve_rates", "kinetic_jacobian",
    "kinetic_rhs", "kl_divergence", "kl_ratio", "mode_functions", "overlap",
    "perturbative_steady_state", "rate_matrix", "steady_state", "steady_state_rates",
    "thermal_spectrum", "wave_numbers",
]
