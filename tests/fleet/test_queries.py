"""The refresh's queries: a fixed few for any fleet, each narrowed by --fleet-match."""

from __future__ import annotations

import pytest

from hatui.errors import UsageError
from hatui.fleet.queries import fleet_queries, matchers


def test_a_refresh_is_seven_fleet_wide_queries() -> None:
    queries = fleet_queries()
    assert [q.key for q in queries] == [
        "up", "scraped", "live", "last_state", "became_master", "routers", "router_changes",
    ]  # fmt: skip
    assert not any("instance=" in q.expr for q in queries)


def test_the_match_reaches_every_selector() -> None:
    for q in fleet_queries('{job="hatui", env=~"prod.*"}'):
        assert q.expr.count('job="hatui", env=~"prod.*"') == q.expr.count("{"), q.expr


@pytest.mark.parametrize("bad", ["job", 'job="x"', "{job", "up"])
def test_a_selector_must_be_braced(bad: str) -> None:
    with pytest.raises(UsageError, match="--fleet-match"):
        matchers(bad)


def test_empty_and_trailing_comma() -> None:
    assert matchers("") == "" and matchers("{}") == ""
    assert matchers('{job="a",}') == 'job="a"'
