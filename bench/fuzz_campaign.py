"""The long fuzz campaign: every hypothesis fuzz/property test, far past its CI budget.

    python bench/fuzz_campaign.py [--examples N] [--only SUBSTRING]

CI runs each test with its own small `max_examples`; the decorator's setting wins over
any profile (so HYPOTHESIS_PROFILE=long alone would not lengthen them). This script
replaces each test's settings with `--examples` (default: the `long` profile's 20 000),
random (not derandomized) seeds, no deadline, and counts the inputs each one really ran
by wrapping its inner test (`test.hypothesis.inner_test`). Prints one line per target
and a total; exits 1 if any target found a failure (hypothesis prints the minimal input).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = [
    "tests.codec.test_fuzz:test_arbitrary_bytes",
    "tests.codec.test_fuzz:test_mutated_frames",
    "tests.codec.test_fuzz:test_ethertype_prefixes",
    "tests.observe.test_properties:test_random_sequences_keep_invariants",
    "tests.observe.test_properties:test_ticks_do_not_change_what_is_reported",
    "tests.fuzz.test_observer_mutations:test_mutated_captures_never_break_the_observer",
    "tests.config.test_lexer:test_token_soup_only_ever_gives_config_errors",
    "tests.config.test_lexer:test_mutated_valid_configs_only_ever_give_config_errors",
    "tests.config.test_lexer:test_random_bytes_only_ever_give_config_errors",
    "tests.vrrp.test_properties:test_one_master_per_vrid_after_healing",
    "tests.fuzz.test_sim_campaign:"
    "test_one_master_within_master_down_after_crashes_and_one_way_loss",
]


def run_target(target: str, examples: int) -> tuple[int, float, bool]:
    """(inputs tried, seconds, passed) for one `module:function` hypothesis test."""
    module_name, func_name = target.split(":")
    test: Any = getattr(importlib.import_module(module_name), func_name)
    inner: Callable[..., Any] = test.hypothesis.inner_test
    count = [0]

    def counting(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return inner(*args, **kwargs)

    test.hypothesis.inner_test = counting
    # Hypothesis keeps a decorated test's settings here; replacing them is how a campaign
    # overrides the per-test CI budget without editing the tests.
    test._hypothesis_internal_use_settings = settings(
        max_examples=examples,
        deadline=None,
        derandomize=False,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    t0 = time.monotonic()
    ok = True
    try:
        test()
    except Exception:
        ok = False
        traceback.print_exc()
    finally:
        test.hypothesis.inner_test = inner
    return count[0], time.monotonic() - t0, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    total, failed = 0, 0
    for target in TARGETS:
        if args.only not in target:
            continue
        tried, secs, ok = run_target(target, args.examples)
        total += tried
        failed += not ok
        status = "ok" if ok else "FAILED"
        print(f"{target.split(':')[1]:<70} {tried:>8} inputs {secs:8.1f} s  {status}", flush=True)
    print(f"{'total':<70} {total:>8} inputs, {failed} failing target(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
