"""The differentially private metrics view: the contribution bound, suppression on the noisy
count, the budget, neighbouring streams (with and without one planted subject) published within
the documented noise bound and with output frequencies consistent with epsilon, and the server.

OpenDP draws from the system's CSPRNG, which cannot be seeded, so every statistical bound here is
a fixed bound whose failure probability is stated beside it (2e-6 at most per run)."""

from __future__ import annotations

import http.client
import math
import threading
from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from scrubber.config.privacy_metrics import PrivateMetricsConfig
from scrubber.privacy.dp_server import serve_private_metrics
from scrubber.privacy.dp_view import PrivateCounts, Release, noise_bound

WINDOW = 60.0
PLANTED_ID = "PX-88231-Q"  # the planted subject's patient id: it must never be published
# At epsilon 10 the noise scale is 0.1: P(noise != 0) is about 1e-4 and P(|noise| > this) is
# below 1e-12, so a count is known to within it.
SHARP = 10.0
SHARP_BOUND = noise_bound(SHARP, 1e-12)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def next_window(self) -> None:
        self.now += WINDOW


def _view(
    routes: tuple[str, ...] = ("orders",),
    types: tuple[str, ...] = ("EMAIL_ADDRESS", "PERSON"),
    **settings: float | int,
) -> tuple[PrivateCounts, Clock]:
    clock = Clock()
    config = PrivateMetricsConfig(enabled=True, window_seconds=WINDOW, **settings)
    return PrivateCounts(config, routes, types, clock=clock), clock


def _release(view: PrivateCounts, clock: Clock) -> Release:
    clock.next_window()
    release = view.latest()
    assert release is not None
    return release


def _samples(view: PrivateCounts) -> dict[tuple[str, str], float]:
    return {
        (sample.name, sample.labels.get("entity_type", "")): sample.value
        for family in text_string_to_metric_families(view.render().decode())
        for sample in family.samples
    }


def test_a_record_counts_once_per_entity_type_however_many_findings_it_holds() -> None:
    view, clock = _view(epsilon_per_release=SHARP, suppress_below=1)
    for _ in range(20):
        view.observe("orders", ["EMAIL_ADDRESS"] * 5 + ["PERSON"])
    counts = _release(view, clock).counts
    assert abs(counts[("orders", "EMAIL_ADDRESS")] - 20) <= SHARP_BOUND  # not 100
    assert abs(counts[("orders", "PERSON")] - 20) <= SHARP_BOUND


def test_undeclared_routes_and_types_are_neither_counted_nor_labelled() -> None:
    view, clock = _view(epsilon_per_release=SHARP, suppress_below=5)
    for _ in range(30):
        view.observe("orders", ["EMAIL_ADDRESS", "NOT_DECLARED"])
        view.observe("other-route", ["EMAIL_ADDRESS"])
    assert set(_release(view, clock).counts) == {("orders", "EMAIL_ADDRESS")}
    text = view.render().decode()
    assert "NOT_DECLARED" not in text
    assert "other-route" not in text


def test_small_counts_are_suppressed_and_only_the_latest_window_is_published() -> None:
    view, clock = _view(epsilon_per_release=SHARP, suppress_below=10)
    for _ in range(30):
        view.observe("orders", ["EMAIL_ADDRESS"])
    for _ in range(3):
        view.observe("orders", ["PERSON"])
    assert view.latest() is None  # the window is still open: nothing is published yet
    assert ("scrubber_dp_entity_records", "EMAIL_ADDRESS") not in _samples(view)
    release = _release(view, clock)
    assert set(release.counts) == {("orders", "EMAIL_ADDRESS")}  # PERSON (3 < 10) is absent
    published = _samples(view)
    assert ("scrubber_dp_entity_records", "PERSON") not in published
    assert abs(published[("scrubber_dp_entity_records", "EMAIL_ADDRESS")] - 30) <= SHARP_BOUND
    assert _release(view, clock).counts == {}  # the next window had no records


def test_suppression_is_decided_on_the_noisy_count() -> None:
    """A true count at the threshold is published in some windows and not in others; what is
    published is never below the threshold. Suppressing on the true count would publish it
    every time. At epsilon 1, P(noise < 0) is 0.27 and P(noise > 0) too: over 200 windows each
    outcome fails to occur with probability below 1e-26."""
    view, clock = _view(epsilon_per_release=1.0, suppress_below=10)
    published: list[int] = []
    for _ in range(200):
        for _ in range(10):
            view.observe("orders", ["PERSON"])
        published.extend(_release(view, clock).counts.values())
    assert 0 < len(published) < 200
    assert min(published) >= 10
    assert max(published) > 10


def test_the_budget_stops_a_series_and_a_horizon_renews_it() -> None:
    view, clock = _view(
        epsilon_per_release=0.5, max_epsilon_per_series=1.0, budget_horizon_seconds=3 * WINDOW,
        suppress_below=1,
    )  # fmt: skip
    spent: list[float] = []
    exhausted: list[bool] = []
    for _ in range(6):
        for _ in range(100):
            view.observe("orders", ["PERSON"])
        release = _release(view, clock)
        spent.append(release.epsilon_spent)
        exhausted.append(release.exhausted)
        samples = _samples(view)
        assert samples[("scrubber_dp_epsilon_spent", "PERSON")] == release.epsilon_spent
        assert samples[("scrubber_dp_budget_exhausted", "PERSON")] == float(release.exhausted)
        # 100 records at epsilon 0.5: below 1 only with probability e^-49.
        assert (("scrubber_dp_entity_records", "PERSON") in samples) is not release.exhausted
    assert spent == [0.5, 1.0, 1.0, 0.5, 1.0, 1.0]
    assert exhausted == [False, False, True, False, False, True]
    assert _samples(view)[("scrubber_dp_epsilon_budget", "")] == 1.0


def test_idle_windows_spend_the_budget_by_the_clock_not_by_traffic() -> None:
    # At scale 2 a true 0 reaches 30 with probability e^-15, a true 50 falls below it with e^-10.
    view, clock = _view(epsilon_per_release=0.5, max_epsilon_per_series=1.5, suppress_below=30)
    for _ in range(50):
        view.observe("orders", ["PERSON"])
    clock.now += 2 * WINDOW  # two windows end unseen: the first one's counts are never shown
    release = view.latest()
    assert release is not None
    assert (release.window, release.epsilon_spent, release.counts) == (1, 1.0, {})
    assert _release(view, clock).epsilon_spent == 1.5
    assert _release(view, clock).exhausted


def test_neighbouring_streams_differ_within_the_noise_bound_and_as_epsilon_allows() -> None:
    """200 windows of 50 records holding each of 100 entity types, beside the same stream with
    one planted subject's record holding all 100 and the rare type no one else has."""
    epsilon, alpha, windows = 1.0, 0.05, 200
    types = tuple(f"TYPE_{n:02}" for n in range(100))
    without, clock_a = _view(types=(*types, "RARE"), epsilon_per_release=epsilon, suppress_below=20)
    planted, clock_b = _view(types=(*types, "RARE"), epsilon_per_release=epsilon, suppress_below=20)
    noise: dict[str, list[int]] = {"without": [], "planted": []}
    gaps: list[int] = []
    for _ in range(windows):
        for _ in range(50):
            without.observe("orders", types)
            planted.observe("orders", types)
        planted.observe("orders", (*types, "RARE"))  # in a record beside PLANTED_ID
        a, b = _release(without, clock_a).counts, _release(planted, clock_b).counts
        # The rare series (true count 0 or 1) is never published: that needs noise >= 19,
        # probability 0.73 e^-19 (4e-9) a window. The common ones (50 or 51) always are.
        assert ("orders", "RARE") not in a
        assert ("orders", "RARE") not in b
        for series in [("orders", t) for t in types]:
            noise["without"].append(a[series] - 50)
            noise["planted"].append(b[series] - 51)
            gaps.append(abs(b[series] - a[series]))
        assert PLANTED_ID not in planted.render().decode()
    samples = len(gaps)
    # The documented bound: |published - true| <= noise_bound(epsilon, alpha) with probability
    # 1 - alpha (3 at epsilon 1, alpha 0.05; the true rate is 0.027). 20000 draws: the rate's
    # standard deviation is 0.0012, so alpha + 0.01 is 8 deviations above it.
    bound = noise_bound(epsilon, alpha)
    for drawn in noise.values():
        assert sum(abs(n) > bound for n in drawn) / samples <= alpha + 0.01
    # So the two published counts differ by at most 1 + 2 bound with probability 1 - 2 alpha.
    assert sum(g > 1 + 2 * bound for g in gaps) / samples <= 2 * alpha
    # Epsilon-DP: each published value is at most e^epsilon times more frequent with the subject
    # than without, and the reverse. Compared on the values seen at least 400 times on both
    # sides (a ratio's log then has a deviation below 0.06), with a margin of 1.5 (7
    # deviations). Half the noise scale (epsilon 2) would give ratios of e^2 = 7.4, past it.
    seen_without = Counter(n + 50 for n in noise["without"])
    seen_planted = Counter(n + 51 for n in noise["planted"])
    common = [v for v in seen_without if min(seen_without[v], seen_planted[v]) >= 400]
    assert len(common) >= 4
    ratios = [seen_planted[v] / seen_without[v] for v in common]
    assert max(ratios) <= math.exp(epsilon) * 1.5
    assert min(ratios) >= math.exp(-epsilon) / 1.5
    # And not more noise than stated: the discrete Laplace's ratio is e^+-epsilon at every value.
    assert max(ratios) >= math.exp(epsilon) / 1.5


def test_observe_and_render_from_several_threads_lose_no_count() -> None:
    view, clock = _view(epsilon_per_release=SHARP, suppress_below=1)

    def feed() -> None:
        for _ in range(1000):
            view.observe("orders", ["PERSON"])

    threads = [threading.Thread(target=feed) for _ in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(50):
        view.render()
    for thread in threads:
        thread.join()
    assert abs(_release(view, clock).counts[("orders", "PERSON")] - 4000) <= SHARP_BOUND


def test_the_server_answers_get_metrics_only() -> None:
    view, clock = _view(epsilon_per_release=SHARP, suppress_below=1)
    for _ in range(25):
        view.observe("orders", ["PERSON"])
    clock.next_window()
    server = serve_private_metrics(view, "127.0.0.1", 0)
    try:
        port = server.server_address[1]

        def ask(method: str, path: str) -> tuple[int, str, str]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request(method, path)
            answer = connection.getresponse()
            body = answer.read().decode()
            connection.close()
            return answer.status, answer.getheader("Content-Type", ""), body

        status, content_type, body = ask("GET", "/metrics")
        assert status == 200
        assert content_type.startswith("text/plain; version=")
        assert 'scrubber_dp_entity_records{entity_type="PERSON",route="orders"}' in body
        assert "scrubber_dp_epsilon_per_release 10.0" in body
        for method, path in [("GET", "/"), ("GET", "/healthz"), ("GET", "/metrics/x"),
                             ("POST", "/metrics"), ("HEAD", "/metrics"), ("PUT", "/metrics")]:  # fmt: skip
            assert ask(method, path)[0] == 404, (method, path)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"epsilon_per_release": 0}, "greater than 0"),
        ({"epsilon_per_release": 50}, "less than or equal to 10"),
        ({"suppress_below": 0}, "greater than or equal to 1"),
        ({"epsilon_per_release": 1, "max_epsilon_per_series": 0.5}, "nothing could ever"),
        ({"budget_horizon_seconds": 3600}, "set max_epsilon_per_series too"),
        ({"max_epsilon_per_series": 5, "budget_horizon_seconds": 90}, "whole number of windows"),
        ({"port": 70000}, "less than or equal to 65535"),
        ({"epsilon": 1}, "Extra inputs are not permitted"),
    ],
)
def test_the_config_refuses_what_could_not_work(settings: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PrivateMetricsConfig(**settings)


def test_the_defaults_are_off_on_a_port_of_their_own() -> None:
    config = PrivateMetricsConfig()
    assert (config.enabled, config.port) == (False, 9401)
    assert config.windows_per_horizon is None
    hourly = PrivateMetricsConfig(max_epsilon_per_series=6, budget_horizon_seconds=3600)
    assert hourly.windows_per_horizon == 60
