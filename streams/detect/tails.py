"""Upper-tail probabilities of count distributions, in log space.

A burst is scored by how unlikely its count is under the expected distribution. The
probabilities of interest are tiny (1e-12 and below), so they are computed as natural
logarithms straight from the regularised incomplete gamma and beta functions (series and
Lentz continued fractions, as in Numerical Recipes §6.2 and §6.4): no underflow, and no
summing of thousands of probability-mass terms when counts are large.

    P(X >= k) for X ~ Poisson(mu)            = P(k, mu)          (lower regularised gamma)
    P(X >= k) for X ~ NegBin(mean mu, size r) = I_x(k, r), x = mu / (mu + r)
"""

from __future__ import annotations

import math

__all__ = ["log_sf_negative_binomial", "log_sf_poisson"]

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 10_000


_POISSON_SIZE = 1e9


def log_sf_poisson(k: int, mu: float) -> float:
    """ln P(X >= k) for X ~ Poisson(mu)."""
    if k <= 0:
        return 0.0
    if mu <= 0:
        return -math.inf
    return _log_gamma_p(float(k), mu)


def log_sf_negative_binomial(k: int, mu: float, size: float) -> float:
    """ln P(X >= k) for a negative binomial with mean ``mu`` and size (dispersion) ``size``.

    Its variance is mu + mu^2 / size; as ``size`` grows it tends to Poisson(mu).
    """
    if k <= 0:
        return 0.0
    if mu <= 0:
        return -math.inf
    if size >= _POISSON_SIZE * max(mu, 1.0):
        # Over-dispersion below a billionth of the mean: Poisson to double precision, while
        # the incomplete beta loses every digit to rounding as size runs towards 1e15.
        return log_sf_poisson(k, mu)
    return _log_beta_i(float(k), size, mu / (mu + size))


def _log_gamma_p(a: float, x: float) -> float:
    """ln of the lower regularised incomplete gamma function P(a, x)."""
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        # Series: P = front * sum_n x^n / (a (a+1) ... (a+n)).
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_ITER):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return log_front + math.log(total)
    # Continued fraction for Q = 1 - P; P is then not small, so 1 - Q loses nothing.
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        b += 2.0
        c, d = _lentz_step(-i * (i - a), b, c, d)
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    q = math.exp(log_front) * h
    return math.log1p(-q) if q < 1.0 else -math.inf


def _log_beta_i(a: float, b: float, x: float) -> float:
    """ln of the regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return -math.inf
    if x >= 1.0:
        return 0.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return log_front + math.log(_beta_cf(a, b, x) / a)
    rest = math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b
    return math.log1p(-rest) if rest < 1.0 else -math.inf


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        c, d = _lentz_step(m * (b - m) * x / ((qam + m2) * (a + m2)), 1.0, c, d)
        h *= d * c
        c, d = _lentz_step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), 1.0, c, d)
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def _lentz_step(a_n: float, b_n: float, c: float, d: float) -> tuple[float, float]:
    """One term a_n / (b_n + ...) of a continued fraction by the modified Lentz method.

    Returns the new ``c`` and the new ``d``, already inverted: the fraction's running value
    is multiplied by their product. Near-zero values are nudged to ``_TINY``.
    """
    d = b_n + a_n * d
    d = _TINY if abs(d) < _TINY else d
    c = b_n + a_n / c
    c = _TINY if abs(c) < _TINY else c
    return c, 1.0 / d
