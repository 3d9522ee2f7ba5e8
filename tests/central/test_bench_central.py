"""bench/run central, shrunk: its pushes arrive whole and its table says so."""

from __future__ import annotations

import pytest

from bench import central
from tests.render.camaudit_sample_audit import sample_report

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_the_central_benchmark_runs_small_and_checks_every_row() -> None:
    result = central.run(lambda _: None, sample_report(), collectors=3, rounds_n=2, devices=25)
    assert result.first.exact and result.first.failures == 0
    assert all(p.exact for p in result.later)
    assert result.audits == 6 and result.hosts == 150
    assert not result.repush_changed
    text = central.render(result)
    assert "report --all-sites" in text and "MISS" not in text
