"""Kinetic equations of many-body reservoir engineering (Ribeiro & Marquardt, PRR 2020).

A 1D open bosonic array (L sites, hopping J) whose sites couple density–density to identical
driven lossy cavities; bosons scatter between band modes at golden-rule rates set by the
cavity noise spectrum.  Time is τ = χ²t/J, energies are measured from the band centre.
"""
from .analysis import (
    band_edge_features,
    be_divergence_minimum,
    curvature_flip_ratio,
    density_scan,
    dos_features,
    energy_per_particle,
    feature_near,
    iso_beta0,
    iso_beta0_scan,
    line_ratio,
    masked_fraction,
    masked_median,
    mode_spacing,
    region_masks,
    series_order,
    spectrum_peak,
    stability_margin,
    temperature_curvature,
    temperature_flatness,
)
from .array import band_energies, mode_functions, overlap, wave_numbers
from .divergence import divergence_map, kl_divergence, kl_ratio, max_relative_deviation
from .equation import classical_rhs, kinetic_jacobian, kinetic_rhs, rate_matrix
from .solve import (
    cavity_rates,
    classical_steady_state_rates,
    evolve,
    evolve_rates,
    steady_state,
    steady_state_rates,
    thermal_steady_state,
)
from .spectrum import (
    beta0,
    beta_eff,
    beta_eff_series,
    cavity_spectrum,
    drive_amplitude_sq,
    thermal_spectrum,
)
from .thermal import (
    beta_extracted,
    beta_local_of_omega,
    beta_of_omega,
    bose_einstein,
    chemical_potential,
    perturbative_steady_state,
)

__all__ = [
    "band_edge_features", "band_energies", "be_divergence_minimum", "beta0", "beta_eff", "beta_eff_series",
    "beta_extracted", "beta_local_of_omega", "beta_of_omega", "bose_einstein", "cavity_rates",
    "cavity_spectrum", "chemical_potential", "classical_rhs", "classical_steady_state_rates",
    "curvature_flip_ratio", "density_scan", "divergence_map", "dos_features", "drive_amplitude_sq", "energy_per_particle",
    "evolve", "evolve_rates", "feature_near", "iso_beta0", "iso_beta0_scan", "kinetic_jacobian", "kinetic_rhs",
    "kl_divergence", "kl_ratio", "line_ratio", "masked_fraction", "masked_median", "max_relative_deviation",
    "mode_functions", "mode_spacing", "overlap", "perturbative_steady_state", "rate_matrix", "region_masks",
    "series_order", "spectrum_peak", "stability_margin", "steady_state", "steady_state_rates",
    "temperature_curvature", "temperature_flatness", "thermal_spectrum", "thermal_steady_state",
    "wave_numbers",
]
