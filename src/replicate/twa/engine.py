"""Shared set-up of a TWA run: argument checks, initial Wigner samples, chunked time stepping.

Default integrator: ``DEFAULT_INTEGRATOR = "split"`` (:mod:`.kernels.split`), the Strang splitting
into exact flows, weak order 2. It cannot diverge, and a dt beyond its accurate range is a
``ValueError`` before any work (:func:`.kernels.split.check_dt`).

Default time step: ``DEFAULT_DT = 0.005`` (units of 1/γ) for every integrator. The split step is
not more accurate per step than Heun: :func:`replicate.twa.ness.step_error` gives a bias of n_L
of ≈ 11 dt² (split) and ≈ 16 dt² (Heun) for the dimer at F = 10 (n ≈ 46), and ≈ 15–20 dt²
for both at L = 10, F = 12 (the RNW), where the sampling error of n_L is ~10⁻³ at 32
trajectories; only a step of ~0.005 keeps the bias below it there. Its gain is stability:
chaotic runs whose sampling errors are larger can take dt = 0.025 (a divisor of every sampling
interval the chapters use), where Heun diverges on rare self-trapped sites. Chapters choose
their step and check it (``step_error_traj``).

Heun (``integrator="heun"``) amplifies an undamped oscillation
of frequency ω by (ω dt)^4 / 8 per step, so dt must shrink when U|α|² becomes large; 0.005 keeps
ω dt < 0.1 up to ω ≈ 20 (|Δ| + 2J + U n with n ≲ 100 photons). A run that produces a non-finite
value stops with :class:`TWADivergenceError` suggesting a smaller ``dt``. Example: at L = 50, F = 4
(paper parameters) the largest |α|² creeps up from ~150 to ~450 and the run diverges near t ≈ 415
with dt = 0.005, while dt = 0.0025 stays bounded; L = 20, F = 20 and L = 30, F = 6 agree between
the two steps within errors.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import numba
import numpy as np
from tqdm.auto import tqdm

from .. import __version__, provenance
from ..chain import ChainParams
from ..validate import count, positive
from . import kernels
from .kernels import BLOCK, Accumulators
from .kernels.noise import normal_pair_numpy, seed_states, xoshiro_next_numpy
from .kernels.split import CLOSE, OPEN, check_dt as check_split_dt, close_into

DEFAULT_INTEGRATOR = "split"
DEFAULT_DT = 0.005
CHUNK_WORK = 2e7  # lane-site-steps per kernel call of Simulation.run (progress, divergence checks)
PARALLEL_MIN_WORK = 1e6  # lane-site-steps below which a chunk runs serially (~1 ms of work)
T = TypeVar("T")
INTEGRATORS = kernels.INTEGRATORS
_NO_SAMPLES = Accumulators.none().sampler(0)  # the kernel's view for runs that do not sample


class TWADivergenceError(FloatingPointError):
    """A trajectory became non-finite (time step too large for the dynamics)."""


def n_steps(name: str, duration: float, dt: float) -> int:
    """Number of steps of size dt in ``duration`` (must be a multiple of dt to 1e-9)."""
    k = round(duration / dt)
    if abs(k * dt - duration) > 1e-9 * max(1.0, abs(duration)):
        raise ValueError(f"{name}={duration!r} is not a multiple of dt={dt!r}")
    return int(k)


def with_dt_halving(run: Callable[[float], T], dt: float | None, max_halvings: int) -> T:
    """``run(dt)``, rerun from scratch with half the step each time a trajectory diverges
    (:class:`TWADivergenceError`), at most ``max_halvings`` times.

    Heun is unstable once U|α|² dt is no longer small; in the chaotic regime a rare trajectory can
    grow a self-trapped high-density site (n ≳ 150) long after the start. The rerun repeats the
    same noise streams with a finer step; the step used is in the result's ``attrs["dt"]``.
    The split step never diverges (each of its flows is bounded), so for it this is a plain call.
    """
    dt = DEFAULT_DT if dt is None else positive("dt", dt)
    left = count("max_halvings", max_halvings, minimum=0)
    while True:
        try:
            return run(dt)
        except TWADivergenceError:
            if left == 0:
                raise
            dt, left = dt / 2, left - 1


class Simulation:
    """State of ``n_traj`` Wigner trajectories of a chain, stepped by the numba kernels.

    ``n_traj`` is padded to whole blocks of ``BLOCK``; padded lanes are simulated and discarded.
    """

    def __init__(self, params: ChainParams, *, n_traj: int, dt: float | None, seed: int,
                 classical: bool, integrator: str, alpha0=None, noise_substeps: int = 1,
                 initial_noise: bool | None = None) -> None:
        if not isinstance(params, ChainParams):
            raise ValueError(f"params must be a ChainParams, got {type(params).__name__}")
        self.params = params
        self.n_traj = count("n_traj", n_traj)
        self.dt = DEFAULT_DT if dt is None else positive("dt", dt)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        if integrator not in INTEGRATORS:
            raise ValueError(f"integrator must be one of {tuple(INTEGRATORS)}, got {integrator!r}")
        self.integrator = integrator
        if integrator == "split":
            check_split_dt(params, self.dt)  # ValueError before any work
        self.classical = bool(classical)
        self.initial_noise = (not self.classical) if initial_noise is None else bool(initial_noise)
        self.nsub = count("noise_substeps", noise_substeps)
        L = params.L
        self.nblocks = -(-self.n_traj // BLOCK)
        npad = self.nblocks * BLOCK
        self.coefficients = kernels.coefficients(params, self.dt, classical=self.classical,
                                                 noise_substeps=self.nsub)
        # initial state: alpha0 (default 0) + vacuum noise (Re, Im ~ N(0, 1/4)) if initial_noise
        rng_states = seed_states(self.seed, npad)
        self.xr = np.zeros((self.nblocks, L + 2, BLOCK))
        self.xi = np.zeros((self.nblocks, L + 2, BLOCK))
        if alpha0 is not None:
            try:
                a0 = np.asarray(alpha0, dtype=complex)
            except (TypeError, ValueError):
                raise ValueError(f"alpha0 must be a complex array of length L={L}") from None
            if a0.shape != (L,) or not np.all(np.isfinite(a0)):
                raise ValueError(f"alpha0 must be a finite complex array of length L={L}")
            self.xr[:, 1:-1, :] = a0.real[None, :, None]
            self.xi[:, 1:-1, :] = a0.imag[None, :, None]
        if self.initial_noise:
            vr, vi = vacuum_noise(rng_states, L)  # advances the trajectory streams
            self.xr[:, 1:-1, :] += vr.reshape(L, self.nblocks, BLOCK).transpose(1, 0, 2)
            self.xi[:, 1:-1, :] += vi.reshape(L, self.nblocks, BLOCK).transpose(1, 0, 2)
        self.rng = np.ascontiguousarray(rng_states.reshape(self.nblocks, BLOCK, 4).transpose(0, 2, 1))
        self.t = 0.0
        self.ok = np.ones(self.nblocks, dtype=np.bool_)
        self.traj = np.arange(self.n_traj)  # the trajectories still advanced (see retire)
        self._lanes = np.arange(self.n_traj)  # their lanes in the flattened (block, lane) layout
        self.midstep = False  # split step: the state is the mid-step w of an unclosed run
        provenance.note(self.attrs())

    def attrs(self) -> dict:
        out = self.params.as_dict()
        out.update(seed=self.seed, integrator=self.integrator, dt=self.dt, n_traj=self.n_traj,
                   classical=int(self.classical), initial_noise=int(self.initial_noise), block=BLOCK,
                   version=__version__)
        return out

    def retire(self, done: np.ndarray) -> None:
        """Stop advancing the trajectories ``done`` (bool over :attr:`traj`): the others are
        packed into the first blocks (the last one padded with copies of the last trajectory),
        so a run pays only for the trajectories it still needs. Every trajectory carries its
        own noise stream and its lane's arithmetic does not depend on where the lane sits, so
        the trajectories kept evolve bit for bit as without the retirement (a test). For drivers
        that read :meth:`alpha`; ``traj`` then names its columns."""
        done = np.asarray(done, dtype=bool)
        if done.shape != self.traj.shape:
            raise ValueError(f"done must be a bool array over the {self.traj.size} trajectories "
                             f"still running, got shape {done.shape}")
        keep = self._lanes[~done]
        if keep.size == self._lanes.size:
            return
        self.traj = self.traj[~done]
        nblocks = -(-keep.size // BLOCK)
        src = np.concatenate([keep, np.full(nblocks * BLOCK - keep.size, keep[-1] if keep.size else 0,
                                            dtype=keep.dtype)])

        def pack(a: np.ndarray) -> np.ndarray:
            flat = a.transpose(1, 0, 2).reshape(a.shape[1], -1)[:, src]
            return np.ascontiguousarray(flat.reshape(a.shape[1], nblocks, BLOCK).transpose(1, 0, 2))

        self.xr, self.xi, self.rng = pack(self.xr), pack(self.xi), pack(self.rng)
        self.nblocks = nblocks
        self.ok = np.ones(nblocks, dtype=np.bool_)
        self._lanes = np.arange(keep.size)

    @property
    def lanes(self) -> int:
        return self.nblocks * BLOCK

    @property
    def nworkers(self) -> int:
        """Workers of a kernel call: the numba threads, at most one per block."""
        return min(numba.get_num_threads(), self.nblocks)

    def run(self, nsteps: int, *, sampler: Accumulators | None = None, every: int = 0,
            progress: bool = False, desc: str = "TWA", close: bool = True) -> None:
        """Advance all trajectories by ``nsteps``; with ``sampler`` and ``every`` > 0, add a sample
        to its buffers every ``every`` steps (``nsteps`` a multiple of ``every``).

        Runs in chunks (progress bar, divergence check between chunks). ``close=False`` (split
        step) leaves the run open: the state stays mid-step and the next call continues the same
        run, bit for bit as one call would (:meth:`alpha` closes a copy). Heun and Euler have no
        mid-step state; for them it changes nothing.
        """
        if nsteps <= 0:
            return
        if self.nblocks == 0:  # every trajectory retired
            self.t += nsteps * self.dt
            return
        if sampler is None or every <= 0:
            nworkers, view = self.nworkers, _NO_SAMPLES
        else:
            nworkers, view = min(self.nworkers, sampler.nworkers), sampler.sampler(every)
        state = kernels.State(self.xr, self.xi, self.rng, self.ok)
        method = INTEGRATORS[self.integrator]
        # chunk: ~ CHUNK_WORK lane-site-steps, a whole number of samples
        unit = every if every > 0 else 1
        per = max(1, int(CHUNK_WORK / (self.lanes * self.params.L * unit)))
        chunk = per * unit
        done = 0
        with tqdm(total=nsteps, desc=desc, disable=not progress, leave=False) as bar:
            while done < nsteps:
                k = min(chunk, nsteps - done)
                parallel = nworkers > 1 and k * self.lanes * self.params.L >= PARALLEL_MIN_WORK
                kernel = kernels.run if parallel else kernels.run_serial
                # split step: open at the first chunk, close at the last (between chunks the
                # state is mid-step; the chunking leaves the numbers unchanged)
                edges = ((OPEN if done == 0 and not self.midstep else 0)
                         | (CLOSE if done + k == nsteps and close else 0))
                kernel(state, k, method, self.coefficients, view, nworkers, edges)
                done += k
                self.t += k * self.dt
                bar.update(k)
                self.midstep = self.integrator == "split" and not (close and done == nsteps)
                if not self.ok.all():
                    raise TWADivergenceError(
                        f"non-finite Wigner amplitudes before t = {self.t:g} with dt = {self.dt:g} "
                        f"({self.integrator}); rerun with a smaller dt (e.g. dt={self.dt / 2:g})")

    def walk(self, steps: np.ndarray, *, progress: bool = False, desc: str = "TWA"):
        """Advance to each step count of the non-decreasing grid ``steps`` (counted from now),
        yielding its index there: ``for i in sim.walk(steps): measure(i)``."""
        done = 0
        for i, s in enumerate(tqdm(steps, desc=desc, disable=not progress, leave=False)):
            self.run(int(s - done))
            done = int(s)
            yield i

    def alpha(self) -> np.ndarray:
        """Current complex amplitudes of the real trajectories still running, shape (L, len(traj))
        (all n_traj unless some were retired): the whole-step state (of a run left open,
        A(h/2) w computed on a copy, as the kernels' samplers do)."""
        xr, xi = self.xr, self.xi
        if self.midstep:
            xr, xi = np.zeros_like(xr), np.zeros_like(xi)
            for b in range(self.nblocks):
                close_into(self.xr[b], self.xi[b], xr[b], xi[b], self.coefficients)
        xr = xr[:, 1:-1, :].transpose(1, 0, 2).reshape(self.params.L, -1)[:, self._lanes]
        xi = xi[:, 1:-1, :].transpose(1, 0, 2).reshape(self.params.L, -1)[:, self._lanes]
        return xr + 1j * xi


def vacuum_noise(states: np.ndarray, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Vacuum Wigner samples Re α, Im α ~ N(0, 1/4), shape (L, n), from states (n, 4) in place.

    Site by site, one normal pair per trajectory; the states are advanced.
    """
    s = np.ascontiguousarray(states.T)
    re = np.empty((L, s.shape[1]))
    im = np.empty((L, s.shape[1]))
    for l in range(L):
        o1 = xoshiro_next_numpy(s)
        o2 = xoshiro_next_numpy(s)
        a, b = normal_pair_numpy(o1, o2)
        re[l] = 0.5 * a
        im[l] = 0.5 * b
    states[:] = s.T
    return re, im
