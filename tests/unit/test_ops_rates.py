"""Attempts per minute from the job counters sampled each minute (`pipeline.rates.job_rates`)."""

from __future__ import annotations

from pipeline.rates import job_rates


def test_rates_are_the_counters_differences_per_minute_and_a_reset_counts_from_zero():
    samples = [
        {"at": 0, "jobs": {"observe_session|succeeded": 10}},
        {"at": 60, "jobs": {"observe_session|succeeded": 40, "observe_session|failed": 2}},
        {"at": 180, "jobs": {"observe_session|succeeded": 100, "observe_session|failed": 2}},
        {"at": 240, "jobs": {"observe_session|succeeded": 5}},  # Redis was emptied meanwhile
        {"at": 240, "jobs": {"observe_session|succeeded": 9}},  # the same instant: skipped
    ]
    rates = job_rates(samples)
    assert rates["observe_session"]["succeeded"] == [(60, 30.0), (180, 30.0), (240, 5.0)]
    assert rates["observe_session"]["failed"] == [(60, 2.0), (180, 0.0)]
    assert job_rates([]) == {} and job_rates(samples[:1]) == {}
