"""Every figure of both papers and the chapter that regenerates it.

A chapter is a jupytext MyST notebook under ``chapters/``; its id is its path without the
suffix (``chapters/ribeiro/fig2.md`` -> ``ribeiro/fig2``).  ``chapter=None`` marks a figure
that has no chapter yet.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    id: str
    paper: str
    title: str
    chapter: str | None


FERRARI = "Ferrari et al. 2025"
RIBEIRO = "Ribeiro & Marquardt 2020"

FIGURES: tuple[Figure, ...] = (
    Figure("ferrari-fig1", FERRARI, "Model: the chain and Wigner trajectories into the NESS", "ferrari/fig1"),
    Figure("ferrari-fig2", FERRARI, "NESS phase diagram over (L, F): n_L, δn_L, OTOC saturation", "ferrari/fig2"),
    Figure("ferrari-fig3", FERRARI, "Two-stage spatial relaxation in the chaotic regime", "ferrari/fig3"),
    Figure("ferrari-fig4", FERRARI, "Local thermometry along the chain (T, μ, s, μ/T, domains)", "ferrari/fig4"),
    Figure("ferrari-fig5", FERRARI, "Onset of the resonant nonlinear wave after a quench", "ferrari/fig5"),
    Figure("ferrari-fig6", FERRARI, "RNW steady state: circular variance, Wigner arcs, g1", "ferrari/fig6"),
    Figure("ferrari-fig7", FERRARI, "RNW metastability: T* vs L, histograms of n_L", "ferrari/fig7"),
    Figure("ferrari-fig8", FERRARI, "OTOC dynamics: light cone, Lyapunov growth, RNW", "ferrari/fig8"),
    Figure("ferrari-fig9", FERRARI, "SI: TWA vs exact for the dimer (L = 2)", "validation/twa_vs_exact"),
    Figure("ferrari-fig10", FERRARI, "SI: second-order cumulant expansion over (L, F)", "ferrari/si_cumulants"),
    Figure("ferrari-fig11", FERRARI, "SI: OTOC saturation at first, middle and last site", "ferrari/fig2"),
    Figure("ferrari-fig12", FERRARI, "SI: boundary-driven vs uniformly driven chain", "ferrari/si_uniform_drive"),
    Figure("ferrari-fig13", FERRARI, "SI: TWA vs classical (GP) in the chaotic regime", "ferrari/si_classical"),
    Figure("ferrari-fig14", FERRARI, "SI: equipartition temperature and momentum distributions", "ferrari/si_equipartition"),
    Figure("ferrari-fig15", FERRARI, "SI: quality of the local Wigner-function fits", "ferrari/si_fits"),
    Figure("ferrari-fig16", FERRARI, "SI: autocorrelations at prethermal sites", "ferrari/si_autocorrelation"),
    Figure("ferrari-fig17", FERRARI, "SI: cuts of Wigner functions with Gibbs fits", "ferrari/si_fits"),
    Figure("ferrari-fig18", FERRARI, "SI: RNW, classical vs TWA", "ferrari/si_rnw_classical"),
    Figure("ferrari-fig19", FERRARI, "SI: intrinsic loss γ_int", "ferrari/si_intrinsic_loss"),
    Figure("ribeiro-fig1", RIBEIRO, "Setup and the driven-cavity noise spectrum S(ω)", "ribeiro/fig1"),
    Figure("ribeiro-fig2", RIBEIRO, "Steady state vs perturbative vs Bose-Einstein; β(ω); KL map", "ribeiro/fig2"),
    Figure("ribeiro-fig3", RIBEIRO, "Bose enhancement, cooling efficiency, negative temperature", "ribeiro/fig3"),
    Figure("ribeiro-fig4", RIBEIRO, "Transient accumulation and depletion", "ribeiro/fig4"),
    Figure("ribeiro-fig5", RIBEIRO, "KL divergence to Bose-Einstein and the ratio R", "ribeiro/fig5"),
)

BY_ID = {f.id: f for f in FIGURES}


def figure(fig_id: str) -> Figure:
    """The figure with id ``fig_id``; an unknown id is an error listing the valid ones."""
    try:
        return BY_ID[fig_id]
    except KeyError:
        raise ValueError(f"unknown figure id {fig_id!r}; valid ids: {', '.join(BY_ID)}") from None


def chapters() -> list[str]:
    """Chapter ids that exist, in catalogue order, each once."""
    seen: list[str] = []
    for f in FIGURES:
        if f.chapter and f.chapter not in seen:
            seen.append(f.chapter)
    return seen
