"""What each step must answer: the JSON schema sent to the model, and the check of its reply.

A failed check raises `OutputInvalid` with a message written for the model's re-prompt.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pipeline.errors import OutputInvalid

PROBLEM_TYPES = ("bug", "crash", "design_flaw", "ux_friction")
MAX_FREEFORM = 5
MAX_TITLE = 120
MAX_HEADLINE_WORDS = 8
_TEXT = {"type": "string"}
_CONFIDENCE = {"type": "number", "minimum": 0, "maximum": 1}
_WORDS = {"type": "array", "items": {"type": "string"}}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


def response_schema(scanner_type: str, config: dict) -> dict[str, Any]:
    """The JSON schema of the core step; reasoning comes first and confidence last."""
    if scanner_type == "monitor":
        verdicts = ["yes", "no", "inconclusive"] if config.get("allow_inconclusive") else ["yes", "no"]
        return _object(
            {"reasoning": _TEXT, "verdict": {"type": "string", "enum": verdicts}, "confidence": _CONFIDENCE}
        )
    if scanner_type == "classifier":
        tags: dict[str, Any] = {
            "type": "array",
            "items": {"type": "string", "enum": config["tags"]},
            "minItems": 1,
        }
        if not config.get("multi_label", True):
            tags["maxItems"] = 1
        properties: dict[str, Any] = {"reasoning": _TEXT, "tags": tags}
        if config.get("allow_freeform_tags"):
            properties["tags_freeform"] = {**_WORDS, "maxItems": MAX_FREEFORM}
        return _object({**properties, "confidence": _CONFIDENCE})
    if scanner_type == "scorer":
        scale = config["scale"]
        score = {"type": "number", "minimum": scale["min"], "maximum": scale["max"]}
        return _object({"reasoning": _TEXT, "score": score, "confidence": _CONFIDENCE})
    return _object(
        {
            "title": _TEXT,
            "summary": _TEXT,
            "intent": _TEXT,
            "outcome": _TEXT,
            "friction_points": _WORDS,
            "keywords": _WORDS,
            "confidence": _CONFIDENCE,
        }
    )


FINDINGS_SCHEMA = _object(
    {
        "findings": {
            "type": "array",
            "items": _object(
                {
                    "problem_type": {"type": "string", "enum": list(PROBLEM_TYPES)},
                    "start_time": {"type": "integer"},
                    "end_time": {"type": "integer"},
                    "url": _TEXT,
                    "headline": _TEXT,
                    "description": _TEXT,
                    "confidence": _CONFIDENCE,
                }
            ),
        },
    }
)


def _need(data: dict, key: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(key)
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise OutputInvalid(f"field {key!r} is missing or not {getattr(kind, '__name__', 'a number')}")
    return value


def _confidence(data: dict) -> float:
    value = _need(data, "confidence", (int, float))
    if not 0 <= value <= 1 or not math.isfinite(value):
        raise OutputInvalid(f"confidence {value} is outside 0..1")
    return float(value)


def _text(data: dict, key: str) -> str:
    value = _need(data, key, str).strip()
    if not value:
        raise OutputInvalid(f"field {key!r} is empty")
    return value


def _slug(tag: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "_", tag.lower()).strip("_")


def check_output(scanner_type: str, config: dict, data: object) -> dict[str, Any]:
    """The reply as a clean result dict; raises `OutputInvalid` saying what to correct."""
    if not isinstance(data, dict):
        raise OutputInvalid("the reply must be one JSON object")
    checker = {"monitor": _monitor, "classifier": _classifier, "scorer": _scorer}.get(scanner_type, _summary)
    return checker(config, data)


def _monitor(config: dict, data: dict) -> dict[str, Any]:
    verdict = _need(data, "verdict", str)
    allowed = ("yes", "no", "inconclusive") if config.get("allow_inconclusive") else ("yes", "no")
    if verdict not in allowed:
        raise OutputInvalid(f"verdict {verdict!r} is not one of {', '.join(allowed)}; choose one")
    return {"reasoning": _text(data, "reasoning"), "verdict": verdict, "confidence": _confidence(data)}


def _classifier(config: dict, data: dict) -> dict[str, Any]:
    tags = _need(data, "tags", list)
    unknown = [tag for tag in tags if tag not in config["tags"]]
    if not tags or unknown:
        raise OutputInvalid(f"tags must be 1 or more of {', '.join(config['tags'])}; got {tags!r}")
    if not config.get("multi_label", True) and len(tags) != 1:
        raise OutputInvalid("choose exactly one tag")
    freeform = data.get("tags_freeform") or []
    if freeform and not config.get("allow_freeform_tags"):
        raise OutputInvalid("tags_freeform is not allowed for this scanner; leave it out")
    if (
        not isinstance(freeform, list)
        or len(freeform) > MAX_FREEFORM
        or not all(isinstance(t, str) for t in freeform)
    ):
        raise OutputInvalid(f"tags_freeform is a list of at most {MAX_FREEFORM} short strings")
    slugs = [
        slug for slug in dict.fromkeys(_slug(tag) for tag in freeform) if slug and slug not in config["tags"]
    ]
    result = {
        "reasoning": _text(data, "reasoning"),
        "tags": list(dict.fromkeys(tags)),
        "tags_freeform": slugs,
    }
    return {**result, "confidence": _confidence(data)}


def _scorer(config: dict, data: dict) -> dict[str, Any]:
    score, scale = _need(data, "score", (int, float)), config["scale"]
    if not scale["min"] <= score <= scale["max"]:
        raise OutputInvalid(f"score {score} is outside the scale {scale['min']}..{scale['max']}")
    result = {"reasoning": _text(data, "reasoning"), "score": score, "confidence": _confidence(data)}
    return {**result, "label": scale["label"]} if scale.get("label") else result


def _summary(config: dict, data: dict) -> dict[str, Any]:
    title = _text(data, "title")
    if len(title) > MAX_TITLE:
        raise OutputInvalid(f"title is {len(title)} characters; keep it under {MAX_TITLE}")
    lists = {
        key: [str(item).lower() for item in _need(data, key, list)] for key in ("friction_points", "keywords")
    }
    texts = {key: _text(data, key) for key in ("summary", "intent", "outcome")}
    return {"title": title, **texts, **lists, "confidence": _confidence(data)}


def check_findings(data: object) -> list[dict[str, Any]]:
    """The signals turn's findings, each checked; raises `OutputInvalid` for a malformed one."""
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise OutputInvalid('the reply must be {"findings": [...]} (an empty list when nothing is wrong)')
    findings = []
    for index, finding in enumerate(data["findings"]):
        if not isinstance(finding, dict) or finding.get("problem_type") not in PROBLEM_TYPES:
            raise OutputInvalid(f"finding {index}: problem_type must be one of {', '.join(PROBLEM_TYPES)}")
        start, end = _need(finding, "start_time", int), _need(finding, "end_time", int)
        if end < start:
            raise OutputInvalid(f"finding {index}: end_time {end} is before start_time {start}")
        headline = _text(finding, "headline")
        if len(headline.split()) > MAX_HEADLINE_WORDS:
            raise OutputInvalid(f"finding {index}: the headline has more than {MAX_HEADLINE_WORDS} words")
        description = re.sub(r"\s*\(t\s*\d+(?:\.\d+)?\s*s?\)", "", _text(finding, "description"))
        findings.append(
            {
                "problem_type": finding["problem_type"],
                "start_time": start,
                "end_time": end,
                "url": str(finding.get("url") or ""),
                "headline": headline,
                "description": description,
                "confidence": _confidence(finding),
            }
        )
    return findings
