"""From a provider's answer to what an observation stores: the checked result, usage and signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.conversation import Answer
from pipeline.evidence import check_evidence

MIN_SIGNAL_CONFIDENCE = 0.4
SIGNAL_WEIGHT = 0.5
SOURCE_PRODUCT, SOURCE_TYPE = "replay_vision", "scanner_finding"
_FINDING_EXTRA = ("problem_type", "start_time", "end_time", "url", "headline", "confidence")


@dataclass
class Outcome:
    scanner_result: dict[str, Any]
    verdict: str | None = None
    score: float | None = None
    tags: list[str] | None = None
    signals: list[dict[str, Any]] = field(default_factory=list)


def signal_rows(
    observation_id: str, session_id: str, snapshot: dict, findings: list[dict]
) -> list[dict[str, Any]]:
    """One signal per finding at or above 0.4 confidence; the index is the finding's own, so stable."""
    rows = []
    for index, finding in enumerate(findings):
        if finding["confidence"] < MIN_SIGNAL_CONFIDENCE:
            continue
        extra = {key: finding[key] for key in _FINDING_EXTRA}
        extra.update(scanner_id=snapshot.get("id"), scanner_name=snapshot.get("name"))
        extra.update(
            scanner_type=snapshot["scanner_type"], observation_id=observation_id, session_id=session_id
        )
        rows.append(
            {
                "source_product": SOURCE_PRODUCT,
                "source_type": SOURCE_TYPE,
                "source_id": f"observation:{observation_id}:{index}",
                "description": finding["description"],
                "weight": SIGNAL_WEIGHT,
                "extra": extra,
                # Heuristic findings know exactly what they detected (pattern and element): grouping
                # joins them by this key instead of by text similarity. Model findings have none.
                "fingerprint": finding.get("fingerprint"),
            }
        )
    return rows


def build_outcome(
    *, observation_id: str, session_id: str, snapshot: dict, timeline: Any, answer: Answer, credits: int
) -> Outcome:
    """Evidence-check the answer and assemble the stored result, with the denormalised columns."""
    scanner_type, config = snapshot["scanner_type"], snapshot["scanner_config"]
    output = check_evidence(scanner_type, config, answer.result, timeline.text)
    signals = (
        signal_rows(observation_id, session_id, snapshot, answer.findings)
        if snapshot.get("emits_signals")
        else []
    )
    result = {
        "model_output": output,
        "signals_count": len(signals),
        "usage": {
            "input_tokens": answer.input_tokens,
            "output_tokens": answer.output_tokens,
            "credits": credits,
            "model_calls": answer.calls,
        },
        "redaction": dict(timeline.manifest),
        "timeline_tokens": timeline.token_estimate,
        "notes": list(answer.notes),
    }
    tags = output.get("tags")
    return Outcome(
        scanner_result=result,
        verdict=output.get("verdict"),
        score=output.get("score"),
        tags=[*tags, *output.get("tags_freeform", [])] if tags is not None else None,
        signals=signals,
    )
