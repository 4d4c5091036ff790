"""Micro-benchmark: CPU time to parse (and refuse) attacker-written AIP-160 filters.

``python bench/filtering.py`` prints a Markdown table with, per hostile filter of at most
2 KB (the default ``FilterLimits.max_length``), its length, the median over 7 repeats of
CPU ms per ``parse_filter`` call (``time.process_time``, 20 calls a repeat) and the
outcome (parsed, or the start of the refusal), then the same for a benign filter for
scale.  Only ratios within one run mean anything on a shared machine.
"""

from __future__ import annotations

import statistics
import time

from pkg.errors import InvalidField
from pkg.filtering import parse_filter

CASES = {
    "benign": 'price < 20 categories:"shoes" (state = ACTIVE OR state = DRAFT) running',
    "2 KB of (": "(" * 2048,
    "nested 1000 deep": "(" * 1000 + "a" + ")" * 1000,
    "410 ORs": "a OR " * 409 + "a",
    "2 KB of -": "-" * 2048,
    "unterminated string": 'a = "' + "\\\\" * 1021,
    "1024-part member": "a." * 1023 + "a",
    "a=a=a...": "a=" * 1024,
    "one 2 KB word": "x" * 2048,
    "340 restrictions": "a = 1 " * 340,
    "32 restrictions (limit)": " ".join(f"f{i} = {i}" for i in range(32)),
}
REPEATS, CALLS = 7, 20


def _outcome(text: str) -> str:
    try:
        parse_filter(text)
    except InvalidField as error:
        return "refused: " + error.violations[0].description[:50]
    return "parsed"


def _cpu_ms(text: str) -> float:
    samples = []
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(CALLS):
            try:
                parse_filter(text)
            except InvalidField:
                pass
        samples.append((time.process_time() - started) / CALLS * 1000)
    return statistics.median(samples)


def main() -> None:
    """Print the table."""
    _outcome("warm up")
    print("| filter | chars | CPU ms / parse | outcome |")
    print("|---|---:|---:|---|")
    for name, text in CASES.items():
        print(f"| {name} | {len(text)} | {_cpu_ms(text):.3f} | {_outcome(text)} |")


if __name__ == "__main__":
    main()
