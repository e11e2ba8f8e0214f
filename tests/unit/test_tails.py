import math

from hypothesis import given
from hypothesis import strategies as st

from streams.detect.tails import log_sf_negative_binomial, log_sf_poisson


def poisson_sf(k: int, mu: float) -> float:
    return math.fsum(
        math.exp(-mu + i * math.log(mu) - math.lgamma(i + 1)) for i in range(k, k + 2000)
    )


def nb_sf(k: int, mu: float, size: float) -> float:
    p = size / (size + mu)

    def pmf(i: int) -> float:
        log = math.lgamma(i + size) - math.lgamma(size) - math.lgamma(i + 1)
        return math.exp(log + size * math.log(p) + i * math.log1p(-p))

    return math.fsum(pmf(i) for i in range(k, k + 20_000))


@given(st.integers(1, 80), st.floats(0.05, 60))
def test_poisson_tail_matches_summed_pmf(k: int, mu: float) -> None:
    want = poisson_sf(k, mu)
    if want > 1e-250:
        assert math.isclose(math.exp(log_sf_poisson(k, mu)), want, rel_tol=1e-8)


@given(st.integers(1, 60), st.floats(0.05, 30), st.floats(0.5, 50))
def test_negative_binomial_tail_matches_summed_pmf(k: int, mu: float, size: float) -> None:
    want = nb_sf(k, mu, size)
    if want > 1e-250:
        assert math.isclose(math.exp(log_sf_negative_binomial(k, mu, size)), want, rel_tol=1e-7)


def test_tails_stay_finite_far_out_and_at_the_edges() -> None:
    assert log_sf_poisson(0, 3.0) == 0.0
    assert log_sf_poisson(3, 0.0) == -math.inf
    assert -1e5 < log_sf_poisson(13_479, 40.0) < -6e4
    assert -1e4 < log_sf_negative_binomial(13_479, 40.0, 2.0) < -100
    # Large size tends to the Poisson tail.
    assert math.isclose(
        log_sf_negative_binomial(20, 5.0, 1e7), log_sf_poisson(20, 5.0), rel_tol=1e-4
    )
