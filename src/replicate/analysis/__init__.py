"""Analysis of simulation Datasets: regimes, spatial relaxation, local statistics, OTOC curves.

Functions here take Datasets or arrays produced by the solvers and return numbers with
jackknife errors (:mod:`replicate.stats`); they never run a simulation themselves.
"""
