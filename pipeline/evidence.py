"""The evidence check (DESIGN §5): every `(t N)` citation must point at a moment of the timeline.

A `yes` whose citations match nothing becomes `inconclusive` (or `no` when inconclusive is not
allowed): the answer to the reference's false positives.
"""

from __future__ import annotations

import re
from typing import Any

CITATION = re.compile(r"\(t\s*(\d+(?:\.\d+)?)\s*s?\)")
LINE_SECOND = re.compile(r"^\[t=(\d+)\]", re.MULTILINE)
TOLERANCE_S = 2
_TEXT_FIELDS = ("reasoning", "summary", "intent", "outcome")


def timeline_seconds(timeline_text: str) -> list[int]:
    """The seconds the model was shown: the `[t=N]` of every rendered line."""
    return sorted({int(second) for second in LINE_SECOND.findall(timeline_text)})


def citations(result: dict[str, Any]) -> list[float]:
    cited: list[float] = []
    for field in _TEXT_FIELDS:
        value = result.get(field)
        if isinstance(value, str):
            cited.extend(float(second) for second in CITATION.findall(value))
    return cited


def supported(second: float, seconds: list[int]) -> bool:
    return any(abs(second - moment) <= TOLERANCE_S for moment in seconds)


def check_evidence(
    scanner_type: str, config: dict, result: dict[str, Any], timeline_text: str
) -> dict[str, Any]:
    """The result after the check (a copy), with the check itself under `evidence`."""
    seconds = timeline_seconds(timeline_text)
    cited = citations(result)
    good = [second for second in cited if supported(second, seconds)]
    check: dict[str, Any] = {
        "citations": cited,
        "supported": good,
        "unsupported": [second for second in cited if second not in good],
        "downgraded_from": None,
    }
    checked = dict(result)
    if scanner_type == "monitor" and result.get("verdict") == "yes" and not good:
        checked["verdict"] = "inconclusive" if config.get("allow_inconclusive") else "no"
        check["downgraded_from"] = "yes"
    checked["evidence"] = check
    return checked
