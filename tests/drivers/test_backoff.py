import random

from thalex_mm.drivers.backoff import FatalConnectionError, backoff, classify_error


def test_backoff_when_no_jitter_doubles_to_cap():
    it = backoff(random.Random(1), initial_s=0.5, factor=2.0, cap_s=4.0, jitter=0.0)
    assert [next(it) for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_when_jitter_stays_within_band_and_is_reproducible():
    a = backoff(random.Random(7), initial_s=1.0, factor=2.0, cap_s=8.0, jitter=0.2)
    b = backoff(random.Random(7), initial_s=1.0, factor=2.0, cap_s=8.0, jitter=0.2)
    xs = [next(a) for _ in range(10)]
    assert xs == [next(b) for _ in range(10)]
    nominal = [1, 2, 4, 8, 8, 8, 8, 8, 8, 8]
    for x, n in zip(xs, nominal, strict=True):
        assert 0.8 * n <= x <= 1.2 * n


def test_classify_error_when_network_error_retries_and_fatal_raises():
    assert classify_error(ConnectionRefusedError()) is None
    assert classify_error(TimeoutError()) is None
    fatal = FatalConnectionError("bad key")
    assert classify_error(fatal) is fatal
    bug = ValueError("bug")
    assert classify_error(bug) is bug
