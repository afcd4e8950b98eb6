"""The absorption of the yellow exciton series of Cu2O, for NumPy and PyTensor from one code.

The model, in energy ``E`` (eV), is the sum of

- exciton lines ``n = 2 .. n_max`` (the dipole-allowed P excitons) at
  ``E_n = Eg - Ry / n^2`` with oscillator strengths ``f_n = f0 (n^2 - 1) / n^5``;
- each line an asymmetric (Toyozawa) Lorentzian
  ``X_n(E) = f_n (1/pi) (Gamma + 2 A (E - E_n)) / ((E - E_n)^2 + Gamma^2)`` of HWHM ``Gamma``,
  convolved with a Gaussian of standard deviation ``sigma_inh`` (inhomogeneous broadening): the
  absorptive part becomes a Voigt profile and the dispersive part the imaginary part of the
  Faddeeva function (:func:`mi_workbench.physics.voigt_complex`);
- the excitonic continuum of a dipole-forbidden (second-class) transition (Elliott, Phys. Rev.
  108, 1384 (1957)): the free-particle ``(E - Eg)^{3/2}`` times the Sommerfeld factor
  ``pi beta (1 + beta^2) exp(pi beta) / sinh(pi beta)``, ``beta = sqrt(Ry / (E - Eg))``. With
  ``eps = (E - Eg) / Ry`` this is written in the stable form
  ``X_c = f_c 2 pi (1 + eps) / (1 - exp(-2 pi / sqrt(eps)))``, which is finite at the gap
  (``2 pi f_c``) and grows as ``eps^{3/2}`` far above it. The step at ``Eg`` is smoothed by a
  Gaussian cumulative of width ``sqrt(sigma_inh^2 + Gamma^2)`` (an approximation of the
  broadening of the edge);
- a background ``B(E) = f_b (E - Eg)^{3/2}`` above ``Eg`` (``f_b`` in 1/eV^{3/2}).

The Sommerfeld factor continues the line series: the strengths per unit energy of the lines,
``f_n / (2 Ry / n^3)``, tend to ``f0 / (2 Ry)`` as ``n`` grows, which equals the continuum at
the gap when ``f_c = f0 / (4 pi Ry)`` (:func:`elliott_continuum_strength`).

Energies are in eV throughout. Realistic scale for the yellow series at low temperature:
``Eg ~ 2.1725 eV``, ``Ry ~ 92-98 meV``, linewidths of a few meV (Kazimierczuk et al., Nature
514, 343 (2014); Iwamitsu et al., J. Phys. Soc. Jpn. 85, 094716 (2016) for thin films).
"""

from __future__ import annotations

import math

import numpy as np

from mi_workbench._checks import check_finite_array, check_finite_number, check_positive_int
from mi_workbench.physics.lineshapes import array_namespace, is_tensor, voigt_complex

#: Default highest principal quantum number of the lines (shared by data and models).
N_MAX_DEFAULT = 7

#: Parameters of :func:`cu2o_absorption`, with their units.
CU2O_PARAMETER_UNITS = {
    "Eg": "eV",
    "Ry": "eV",
    "f0": "eV (absorbance x energy)",
    "gamma": "eV",
    "sigma_inh": "eV",
    "asym": "1",
    "f_c": "absorbance",
    "f_b": "absorbance / eV^1.5",
}


def _check_quantum_numbers(n, minimum: int) -> np.ndarray:
    n = check_finite_array("n", n)
    if n.ndim > 1:
        raise ValueError(
            f"n must be a number or a 1-dimensional array of principal quantum numbers, got "
            f"shape {n.shape}"
        )
    if np.any(n != np.round(n)):
        raise ValueError(f"n must hold whole numbers (principal quantum numbers), got {n!r}")
    if np.any(n < minimum):
        raise ValueError(f"n must be >= {minimum} (P excitons start at n = 2), got {n.min()!r}")
    return n


def line_strengths(n, f0=1.0):
    """Oscillator strengths ``f_n = f0 (n^2 - 1) / n^5`` of the P excitons.

    Parameters
    ----------
    n : int or array of int
        Principal quantum numbers (>= 2).
    f0 : float
        Overall strength (>= 0).

    Examples
    --------
    >>> line_strengths([2, 3], f0=1.0).round(5).tolist()
    [0.09375, 0.03292]
    """
    n = _check_quantum_numbers(n, minimum=2)
    f0 = _check_parameter("f0", f0, minimum=0.0)
    return f0 * (1.0 / n**3 - 1.0 / n**5)  # (n^2 - 1) / n^5 without overflow at large n


def line_energies(Eg, Ry, n):
    """Line positions ``E_n = Eg - Ry / n^2`` (eV) for ``n >= 1`` and a Rydberg energy > 0.

    Examples
    --------
    >>> line_energies(2.17, 0.09, [2, 3]).round(4).tolist()
    [2.1475, 2.16]
    """
    Eg = _check_parameter("Eg", Eg)
    Ry = _check_parameter("Ry", Ry, minimum=0.0, strict=True)
    n = _check_quantum_numbers(n, minimum=1)
    return Eg - Ry / n**2


def elliott_continuum_strength(f0, Ry):
    """The ``f_c`` that joins the continuum to the line series at the gap: ``f0 / (4 pi Ry)``.

    Examples
    --------
    >>> round(elliott_continuum_strength(1.0, 0.1), 4)
    0.7958
    """
    f0 = _check_parameter("f0", f0, minimum=0.0)
    Ry = _check_parameter("Ry", Ry, minimum=0.0, strict=True)
    return f0 / (4.0 * math.pi * Ry)


def check_energy_grid(name: str, energy_ev) -> np.ndarray:
    """Return a 1-D, finite, strictly increasing energy grid or raise naming the problem."""
    energy = check_finite_array(name, energy_ev, ndim=1)
    steps = np.diff(energy)
    if np.any(steps == 0):
        i = int(np.flatnonzero(steps == 0)[0])
        raise ValueError(
            f"{name} has a duplicate value {energy[i]!r} at positions {i} and {i + 1}; "
            "energies must be strictly increasing"
        )
    if np.any(steps < 0):
        i = int(np.flatnonzero(steps < 0)[0])
        raise ValueError(
            f"{name} is not sorted: {energy[i]!r} at position {i} is followed by "
            f"{energy[i + 1]!r}; sort the spectrum by energy first"
        )
    return energy


def _check_parameter(name, value, minimum=None, strict=False):
    if is_tensor(value):
        return value
    number = check_finite_number(name, value)
    if minimum is not None and (number < minimum or (strict and number == minimum)):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {relation} {minimum:g}, got {number!r}")
    return number


def cu2o_absorption_components(
    energy_ev,
    Eg,
    Ry,
    f0,
    gamma,
    sigma_inh,
    asym,
    f_c,
    f_b,
    n_max: int = N_MAX_DEFAULT,
) -> dict:
    """The parts of :func:`cu2o_absorption`: ``lines`` (one per n), ``continuum``, ``background``.

    Returns
    -------
    dict
        ``"lines"``: array (n_energy, n_max - 1) (or tensor) of the lines n = 2 .. n_max;
        ``"continuum"`` and ``"background"``: arrays over energy; ``"n"``: the quantum numbers.
    """
    n_max = check_positive_int("n_max", n_max, minimum=2)
    if not is_tensor(energy_ev):
        energy_ev = check_energy_grid("energy_ev", energy_ev)
    Eg = _check_parameter("Eg", Eg)
    Ry = _check_parameter("Ry", Ry, minimum=0.0, strict=True)
    f0 = _check_parameter("f0", f0, minimum=0.0)
    gamma = _check_parameter("gamma", gamma, minimum=0.0, strict=True)
    sigma_inh = _check_parameter("sigma_inh", sigma_inh, minimum=0.0)
    asym = _check_parameter("asym", asym)
    f_c = _check_parameter("f_c", f_c, minimum=0.0)
    f_b = _check_parameter("f_b", f_b, minimum=0.0)

    ops = array_namespace(energy_ev, Eg, Ry, f0, gamma, sigma_inh, asym, f_c, f_b)
    energy = ops.asarray(energy_ev)
    n = np.arange(2, n_max + 1, dtype=float)
    strengths = (n**2 - 1.0) / n**5  # times f0
    centres = Eg - Ry * (1.0 / n**2)  # (n_lines,)
    column = energy[:, None]  # (n_energy, 1)

    if not ops.tensor and sigma_inh == 0.0:  # pure Lorentzian (NumPy only)
        delta = column - centres
        denominator = math.pi * (delta**2 + gamma**2)
        absorptive, dispersive = gamma / denominator, delta / denominator
    else:
        absorptive, dispersive = voigt_complex(column, centres, sigma_inh, gamma)
    lines = f0 * strengths * (absorptive + 2.0 * asym * dispersive)

    above = energy - Eg
    eps = ops.maximum(above / Ry, 1e-12)
    sommerfeld = 2.0 * math.pi * (1.0 + eps) / (-ops.expm1(-2.0 * math.pi / ops.sqrt(eps)))
    edge_width = ops.sqrt(ops.square(sigma_inh) + ops.square(gamma))
    step = 0.5 * (1.0 + ops.erf(above / (math.sqrt(2.0) * edge_width)))
    continuum = f_c * sommerfeld * step
    positive = ops.maximum(above, 0.0)
    background = f_b * positive**1.5
    return {"lines": lines, "continuum": continuum, "background": background, "n": n}


def cu2o_absorption(
    energy_ev,
    Eg,
    Ry,
    f0,
    gamma,
    sigma_inh,
    asym,
    f_c,
    f_b,
    n_max: int = N_MAX_DEFAULT,
):
    """Absorbance of the Cu2O yellow exciton series: lines, excitonic continuum and background.

    Works on NumPy arrays and on PyTensor tensors (any argument symbolic gives a tensor).

    Parameters
    ----------
    energy_ev : 1-D array (strictly increasing) or tensor
        Photon energies in eV.
    Eg : float
        Band gap of the series (eV), ~2.1725 for bulk Cu2O at low temperature.
    Ry : float
        Excitonic Rydberg energy (eV, > 0), ~0.092-0.098.
    f0 : float
        Overall line strength (>= 0); the line n has area ``f0 (n^2 - 1) / n^5`` (absorbance x
        eV).
    gamma : float
        Lorentzian HWHM of the lines (eV, > 0), a few meV.
    sigma_inh : float
        Standard deviation of the Gaussian inhomogeneous broadening (eV, >= 0; 0 gives pure
        Lorentzian lines).
    asym : float
        Toyozawa asymmetry ``A`` of the lines (dimensionless; > 0 moves weight to the high-energy
        side).
    f_c : float
        Strength of the excitonic continuum (>= 0); its value at the gap is ``2 pi f_c``.
    f_b : float
        Strength of the ``(E - Eg)^{3/2}`` background (>= 0, absorbance / eV^1.5).
    n_max : int
        Highest principal quantum number included (>= 2).

    Returns
    -------
    numpy.ndarray or pytensor tensor
        Absorbance over ``energy_ev``.

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.linspace(2.13, 2.19, 5)
    >>> a = cu2o_absorption(energy, 2.1725, 0.0922, 0.1, 0.002, 0.001, 0.1, 0.08, 50.0)
    >>> a.shape
    (5,)
    """
    parts = cu2o_absorption_components(
        energy_ev, Eg, Ry, f0, gamma, sigma_inh, asym, f_c, f_b, n_max=n_max
    )
    ops = array_namespace(parts["continuum"])
    return ops.sum(parts["lines"], axis=1) + parts["continuum"] + parts["background"]
