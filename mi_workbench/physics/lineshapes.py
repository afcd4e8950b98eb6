"""Line shapes written once for NumPy and PyTensor: Lorentzian, Gaussian, Voigt, Faddeeva.

Every function here looks at its arguments: if any of them is a PyTensor variable, the
computation is built with ``pytensor.tensor`` (so PyMC models can use it and differentiate it);
otherwise it runs in NumPy. There is one source of truth for the data generators, the panels'
prior predictive and the models.

The Voigt profile is evaluated through the Faddeeva function ``w(z) = exp(-z^2) erfc(-iz)`` with
Weideman's rational approximation (J. A. C. Weideman, SIAM J. Numer. Anal. 31, 1497 (1994)),
written in real arithmetic (real and imaginary parts kept separately) so that it works on
tensors and has gradients. With the default 24 terms it agrees with ``scipy.special.wofz`` to
about 1e-9 relative in modulus (real part alone: 3e-7 for Im z >= 0.01) in the upper half plane
used by line shapes; more terms are more accurate but make model graphs slower to compile.
"""

from __future__ import annotations

import math
import sys
from functools import lru_cache

import numpy as np

from mi_workbench._checks import check_choice, check_finite_array, check_positive_int

#: Line shapes understood by :func:`peak_profile` (and the peak models).
LINE_SHAPES = ("lorentzian", "gaussian", "voigt")

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


class _NumpyOps:
    """The NumPy side of the namespace the shared formulas are written against."""

    tensor = False
    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    sqrt = staticmethod(np.sqrt)
    maximum = staticmethod(np.maximum)
    where = staticmethod(np.where)
    square = staticmethod(np.square)

    @staticmethod
    def erf(x):
        from scipy.special import erf

        return erf(x)

    @staticmethod
    def asarray(x):
        return np.asarray(x, dtype=float)

    @staticmethod
    def sum(x, axis):
        return np.sum(x, axis=axis)


class _TensorOps:
    """The PyTensor side; created lazily so that NumPy users never import PyTensor."""

    tensor = True

    def __init__(self):
        import pytensor.tensor as pt

        self.exp = pt.exp
        self.expm1 = pt.expm1
        self.sqrt = pt.sqrt
        self.maximum = pt.maximum
        self.where = pt.where
        self.square = pt.sqr
        self.erf = pt.erf
        self.asarray = pt.as_tensor_variable
        self.sum = lambda x, axis: pt.sum(x, axis=axis)


_NUMPY = _NumpyOps()


@lru_cache(maxsize=1)
def _tensor_ops() -> _TensorOps:
    return _TensorOps()


def is_tensor(value: object) -> bool:
    """True if ``value`` is a PyTensor variable (a symbolic tensor of a model)."""
    if "pytensor" not in sys.modules:
        return False
    from pytensor.graph.basic import Variable

    return isinstance(value, Variable)


def array_namespace(*values: object):
    """The operations (``exp``, ``sqrt``, ``where``, ``erf``, ...) suited to ``values``.

    PyTensor's when any value is a PyTensor variable, NumPy's (with SciPy's ``erf``) otherwise.
    """
    return _tensor_ops() if any(is_tensor(v) for v in values) else _NUMPY


@lru_cache(maxsize=8)
def _weideman_coefficients(n_terms: int) -> tuple[float, tuple[float, ...]]:
    """Weideman's (1994) constant L and polynomial coefficients (highest degree first)."""
    m = 2 * n_terms
    k = np.arange(-m + 1, m)
    length = math.sqrt(n_terms / math.sqrt(2.0))
    t = length * np.tan(k * np.pi / m / 2.0)
    f = np.concatenate([[0.0], np.exp(-(t**2)) * (length**2 + t**2)])
    a = np.real(np.fft.fft(np.fft.fftshift(f))) / (2 * m)
    return length, tuple(float(c) for c in a[1 : n_terms + 1][::-1])


def faddeeva(x, y, n_terms: int = 24):
    """Real and imaginary parts of the Faddeeva function ``w(x + iy)`` for ``y >= 0``.

    Weideman's rational approximation, in real arithmetic so that it works on NumPy arrays and
    PyTensor tensors alike (with gradients).

    Parameters
    ----------
    x, y : array_like or pytensor tensor
        Real and imaginary parts of the argument (broadcast together); ``y`` must be >= 0 (the
        half plane used by line shapes; it is not checked for tensors).
    n_terms : int
        Number of terms of the approximation (>= 4); 24 gives ~1e-9 relative accuracy.

    Returns
    -------
    (real, imag) : tuple of arrays or tensors

    Examples
    --------
    >>> re, im = faddeeva(0.0, 1.0)
    >>> round(float(re), 6)  # erfcx(1)
    0.427584
    """
    n_terms = check_positive_int("n_terms", n_terms, minimum=4)
    x, y = _check_values("x", x), _check_values("y", y)
    ops = array_namespace(x, y)
    x, y = ops.asarray(x), ops.asarray(y)
    if not ops.tensor and np.any(y < 0):
        raise ValueError(f"y must be >= 0 (upper half plane), got a minimum of {np.min(y)!r}")
    length, coefficients = _weideman_coefficients(n_terms)
    # A = L - iz = (L + y) - ix; 1/A = ((L + y) + ix) / |A|^2
    denominator = ops.square(length + y) + ops.square(x)
    inv_re = (length + y) / denominator
    inv_im = x / denominator
    # Z = (L + iz) / (L - iz) = ((L - y) + ix) / A
    z_re = (length - y) * inv_re - x * inv_im
    z_im = (length - y) * inv_im + x * inv_re
    p_re = coefficients[0] + 0.0 * z_re
    p_im = 0.0 * z_im
    for c in coefficients[1:]:
        p_re, p_im = p_re * z_re - p_im * z_im + c, p_re * z_im + p_im * z_re
    sq_re = ops.square(inv_re) - ops.square(inv_im)
    sq_im = 2.0 * inv_re * inv_im
    w_re = 2.0 * (p_re * sq_re - p_im * sq_im) + inv_re / _SQRT_PI
    w_im = 2.0 * (p_re * sq_im + p_im * sq_re) + inv_im / _SQRT_PI
    if ops.tensor:
        return _with_analytic_gradient(x, y, w_re, w_im)
    return w_re, w_im


def _with_analytic_gradient(x, y, w_re, w_im):
    """``(w_re, w_im)`` unchanged in value, differentiated by ``w'(z) = 2i/sqrt(pi) - 2 z w``.

    The Faddeeva function is analytic, so its derivative follows from its value. Left to
    itself, PyTensor would differentiate through the 24 Horner steps of the rational
    approximation (a gradient graph ~4x as costly as the function and slow to compile); here
    the Horner result is wrapped in ``zero_grad`` and a term with zero value,
    ``w'(z) (z - zero_grad(z))``, carries the exact derivative: with ``w' = a + ib``,
    ``d Re w / dx = d Im w / dy = a`` and ``d Im w / dx = -d Re w / dy = b``. Derivatives agree
    with those of the approximation to its accuracy (~1e-9 relative).
    """
    from pytensor.gradient import zero_grad

    w_re, w_im = zero_grad(w_re), zero_grad(w_im)
    a = -2.0 * (x * w_re - y * w_im)
    b = 2.0 / _SQRT_PI - 2.0 * (x * w_im + y * w_re)
    a, b = zero_grad(a), zero_grad(b)
    dx, dy = x - zero_grad(x), y - zero_grad(y)  # zero in value, 1 in derivative
    return w_re + a * dx - b * dy, w_im + b * dx + a * dy


def _check_values(name, value):
    """Finite numbers of any shape (energies broadcast against centres); tensors pass through."""
    if is_tensor(value):
        return value
    return check_finite_array(name, value)


def _check_width(name, value, allow_zero=False):
    """Validate a numeric width (tensors pass through unchecked)."""
    if is_tensor(value):
        return value
    array = check_finite_array(name, value)
    if np.any(array < 0) or (not allow_zero and np.any(array == 0)):
        allowed = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {allowed} (a width), got {value!r}")
    return value


def lorentzian(energy, center, gamma):
    """Area-normalised Lorentzian ``(1/pi) gamma / ((E - center)^2 + gamma^2)``.

    ``gamma`` is the half width at half maximum (HWHM), in the units of ``energy``.

    Examples
    --------
    >>> round(float(lorentzian(0.0, 0.0, 1.0)), 6)  # 1 / pi
    0.31831
    """
    gamma = _check_width("gamma", gamma)
    energy, center = _check_values("energy", energy), _check_values("center", center)
    ops = array_namespace(energy, center, gamma)
    delta = ops.asarray(energy) - center
    return gamma / (math.pi * (ops.square(delta) + ops.square(gamma)))


def gaussian(energy, center, sigma):
    """Area-normalised Gaussian with standard deviation ``sigma``.

    Examples
    --------
    >>> round(float(gaussian(0.0, 0.0, 1.0)), 6)  # 1 / sqrt(2 pi)
    0.398942
    """
    sigma = _check_width("sigma", sigma)
    energy, center = _check_values("energy", energy), _check_values("center", center)
    ops = array_namespace(energy, center, sigma)
    delta = ops.asarray(energy) - center
    return ops.exp(-0.5 * ops.square(delta / sigma)) / (_SQRT_2PI * sigma)


def voigt_complex(energy, center, sigma, gamma):
    """Gaussian-broadened complex Lorentzian: ``(absorptive, dispersive)`` parts.

    The absorptive part is the area-normalised Voigt profile (a Lorentzian of HWHM ``gamma``
    convolved with a Gaussian of standard deviation ``sigma``); the dispersive part is the same
    convolution of ``(1/pi) (E - center) / ((E - center)^2 + gamma^2)``, used for asymmetric
    (Toyozawa) lines. Both are ``Re w(z)`` and ``Im w(z)`` over ``sigma sqrt(2 pi)`` with
    ``z = (E - center + i gamma) / (sigma sqrt 2)``.
    """
    sigma = _check_width("sigma", sigma)
    gamma = _check_width("gamma", gamma, allow_zero=True)
    energy, center = _check_values("energy", energy), _check_values("center", center)
    ops = array_namespace(energy, center, sigma, gamma)
    delta = ops.asarray(energy) - center
    scale = _SQRT_2 * sigma
    w_re, w_im = faddeeva(delta / scale, gamma / scale + 0.0 * delta)
    norm = _SQRT_2PI * sigma
    return w_re / norm, w_im / norm


def voigt(energy, center, sigma, gamma):
    """Area-normalised Voigt profile (Gaussian sd ``sigma`` and Lorentzian HWHM ``gamma``).

    Examples
    --------
    >>> from scipy.special import voigt_profile
    >>> bool(abs(voigt(0.3, 0.0, 0.5, 0.2) - voigt_profile(0.3, 0.5, 0.2)) < 1e-8)
    True
    """
    return voigt_complex(energy, center, sigma, gamma)[0]


def peak_profile(energy, center, width, line_shape="lorentzian", gamma=None):
    """A peak of height 1 at ``center``: the building block of K-peak models.

    Parameters
    ----------
    energy : array_like or tensor
    center : float or tensor
    width : float or tensor
        HWHM for ``"lorentzian"``; standard deviation for ``"gaussian"`` and ``"voigt"`` (the
        Gaussian part).
    line_shape : {"lorentzian", "gaussian", "voigt"}
    gamma : float or tensor, optional
        Lorentzian HWHM of a ``"voigt"`` peak (required for it, unused otherwise).

    Examples
    --------
    >>> float(peak_profile(2.0, 2.0, 0.01, "gaussian"))
    1.0
    """
    check_choice("line_shape", line_shape, LINE_SHAPES)
    width = _check_width("width", width)
    energy, center = _check_values("energy", energy), _check_values("center", center)
    ops = array_namespace(energy, center, width, gamma)
    delta = ops.asarray(energy) - center
    if line_shape == "lorentzian":
        return 1.0 / (1.0 + ops.square(delta / width))
    if line_shape == "gaussian":
        return ops.exp(-0.5 * ops.square(delta / width))
    if gamma is None:
        raise ValueError("gamma (the Lorentzian HWHM) is required for line_shape='voigt'")
    gamma = _check_width("gamma", gamma, allow_zero=True)
    scale = _SQRT_2 * width
    y = gamma / scale
    at_x, _ = faddeeva(delta / scale, y + 0.0 * delta)
    at_centre, _ = faddeeva(0.0 * y, y)
    return at_x / at_centre
