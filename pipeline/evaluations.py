"""Evaluations of our own answers, as pure functions: the definition's checks, which observations an
evaluation takes, the deterministic checks, and the judge's question and how its answer is read.

An evaluation is `llm_judge` (`evaluation_config: {prompt, model?}`: a judge model is shown the
scanner's question, our answer and the timeline it read, and asked the prompt) or `heuristic`
(`evaluation_config: {checks: [...]}`, from `CHECKS`). Its output is `boolean` (pass or fail;
`output_config: {allows_na}` lets the judge say "not applicable") or `score`
(`output_config: {min, max, pass_threshold}`; a score at or above the threshold passes). Its
`conditions` select observations: `{scanners: [ids], verdicts: [...], sampling_rate, max_per_day}`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from pipeline.conversation import ModelCall, Turn
from pipeline.errors import InvalidField, OutputInvalid
from pipeline.evidence import citations, supported
from pipeline.sampling import keeps

EVALUATION_TYPES = ("llm_judge", "heuristic")
OUTPUT_TYPES = ("boolean", "score")
MAX_NAME, MAX_PROMPT = 400, 20_000
DEFAULT_MAX_PER_DAY, MAX_PER_DAY = 500, 100_000
SCORE_DEFAULTS = {"min": 0.0, "max": 10.0, "pass_threshold": 5.0}
_TEXT_FIELDS = ("summary", "reasoning", "intent", "outcome")
JUDGE_SYSTEM = (
    "You review another model's answer about one recorded web session. You are given the question it "
    "was asked, its answer, and the session's timeline (one line per moment, `[t=N]` is seconds from "
    "the start). Judge the answer only by the timeline. Respond with raw JSON matching the schema."
)


def validate_evaluation(data: dict[str, Any]) -> dict[str, Any]:
    """A whole definition, checked and with defaults filled in; `InvalidField` naming what is wrong."""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidField("name", f"give a name of 1 to {MAX_NAME} characters")
    kind, output = data.get("evaluation_type"), data.get("output_type")
    if kind not in EVALUATION_TYPES:
        raise InvalidField("evaluation_type", f"{kind!r} is not one of {', '.join(EVALUATION_TYPES)}")
    if output not in OUTPUT_TYPES:
        raise InvalidField("output_type", f"{output!r} is not one of {', '.join(OUTPUT_TYPES)}")
    description = data.get("description") or ""
    if not isinstance(description, str) or len(description) > 4000:
        raise InvalidField("description", "a description is text of at most 4,000 characters")
    for flag in ("enabled", "deleted"):
        if not isinstance(data.get(flag, False), bool):
            raise InvalidField(flag, "true or false")
    return {
        "name": name.strip(),
        "description": description,
        "enabled": bool(data.get("enabled", False)),
        "deleted": bool(data.get("deleted", False)),
        "evaluation_type": kind,
        "evaluation_config": _config(kind, data.get("evaluation_config")),
        "output_type": output,
        "output_config": _output_config(output, data.get("output_config")),
        "conditions": validate_conditions(data.get("conditions")),
    }


def _config(kind: str, config: Any) -> dict[str, Any]:
    if not isinstance(config, dict):
        example = '{"prompt": "..."}' if kind == "llm_judge" else '{"checks": ["cited_moments_exist"]}'
        raise InvalidField("evaluation_config", f"an object is required for {kind}, e.g. {example}")
    if kind == "heuristic":
        checks = config.get("checks")
        if not isinstance(checks, list) or not checks or not all(check in CHECKS for check in checks):
            raise InvalidField("evaluation_config.checks", f"one or more of {', '.join(CHECKS)}")
        return {"checks": list(dict.fromkeys(checks))}
    prompt, model = config.get("prompt"), config.get("model")
    if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > MAX_PROMPT:
        raise InvalidField("evaluation_config.prompt", f"the judge's question, 1 to {MAX_PROMPT} characters")
    if model is not None and (not isinstance(model, str) or not re.fullmatch(r"[\w.\-]{1,100}", model)):
        raise InvalidField("evaluation_config.model", "a Gemini model name, or leave it out for the default")
    return {"prompt": prompt.strip(), **({"model": model} if model else {})}


def _output_config(output: str, config: Any) -> dict[str, Any]:
    config = {} if config is None else config
    if not isinstance(config, dict):
        raise InvalidField("output_config", "an object, or null for the defaults")
    if output == "boolean":
        allows_na = config.get("allows_na", False)
        if not isinstance(allows_na, bool):
            raise InvalidField("output_config.allows_na", "true or false")
        return {"allows_na": allows_na}
    values = {**SCORE_DEFAULTS, **{key: config[key] for key in SCORE_DEFAULTS if key in config}}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidField(f"output_config.{key}", f"{value!r} is not a number")
    if not values["min"] < values["max"] or not values["min"] <= values["pass_threshold"] <= values["max"]:
        raise InvalidField("output_config", "need min < max and min <= pass_threshold <= max")
    return {key: float(value) for key, value in values.items()}


def validate_conditions(conditions: Any) -> dict[str, Any]:
    """`{scanners, verdicts, sampling_rate, max_per_day}` with defaults (every scanner, any verdict,
    every observation, 500 a day); `InvalidField` naming the key."""
    conditions = {} if conditions is None else conditions
    if not isinstance(conditions, dict):
        raise InvalidField("conditions", "an object: {scanners, verdicts, sampling_rate, max_per_day}")
    scanners, verdicts = conditions.get("scanners") or [], conditions.get("verdicts") or []
    for key, values in (("scanners", scanners), ("verdicts", verdicts)):
        if not isinstance(values, list) or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in values):
            raise InvalidField(f"conditions.{key}", "a list of names or ids")
    rate = conditions.get("sampling_rate", 1)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise InvalidField("conditions.sampling_rate", f"{rate!r} is not a number from 0 to 1")
    per_day = conditions.get("max_per_day", DEFAULT_MAX_PER_DAY)
    if isinstance(per_day, bool) or not isinstance(per_day, int) or not 0 <= per_day <= MAX_PER_DAY:
        raise InvalidField("conditions.max_per_day", f"a whole number from 0 to {MAX_PER_DAY}")
    return {
        "scanners": list(dict.fromkeys(scanners)),
        "verdicts": list(dict.fromkeys(verdicts)),
        "sampling_rate": float(rate),
        "max_per_day": per_day,
    }


def selects(conditions: dict[str, Any], evaluation_id: str, observation: Candidate) -> bool:
    """Does the evaluation take this observation: its scanner and verdict, then the sample?"""
    scanners, verdicts = conditions.get("scanners") or [], conditions.get("verdicts") or []
    if scanners and observation.scanner_id not in scanners and observation.scanner_name not in scanners:
        return False
    if verdicts and observation.verdict not in verdicts:
        return False
    return keeps(observation.observation_id, evaluation_id, conditions.get("sampling_rate", 1.0))


@dataclass(frozen=True)
class Candidate:
    observation_id: str
    scanner_id: str
    scanner_name: str
    verdict: str | None


@dataclass(frozen=True)
class Judgement:
    """What an evaluation said: pass, fail or None (not applicable), a score for score outputs."""

    passed: bool | None
    score: float | None
    reasoning: str


# Deterministic checks: each takes the model output, the visited pages and the timeline's seconds
# (None when the timeline cannot be read: the stored evidence check is used instead).
def cited_moments_exist(
    output: dict[str, Any], pages: list[str], seconds: list[int] | None
) -> tuple[bool, str]:
    cited = citations(output)
    if seconds is None:
        missing = list((output.get("evidence") or {}).get("unsupported") or [])
    else:
        missing = [second for second in cited if not supported(second, seconds)]
    if output.get("verdict") == "yes" and not cited:
        return False, "a yes verdict cites no moment"
    if missing:
        return False, f"cited moments not in the timeline: {', '.join(f't {s:g} s' for s in missing)}"
    return True, f"all {len(cited)} cited moments are in the timeline"


def summary_mentions_pages(
    output: dict[str, Any], pages: list[str], seconds: list[int] | None
) -> tuple[bool, str]:
    paths = sorted({urlsplit(page).path.rstrip("/") for page in pages} - {""})
    if not paths:
        return True, "the session visited no page with a path"
    text = " ".join(str(output.get(field) or "") for field in _TEXT_FIELDS).lower()
    named = [path for path in paths if path.lower() in text]
    if not named:
        return False, f"mentions none of the pages visited ({', '.join(paths[:5])})"
    return True, f"mentions {', '.join(named[:5])}"


CHECKS = {"cited_moments_exist": cited_moments_exist, "summary_mentions_pages": summary_mentions_pages}


def run_checks(
    config: dict[str, Any],
    output_type: str,
    output_config: dict[str, Any],
    output: dict[str, Any],
    pages: list[str],
    seconds: list[int] | None,
) -> Judgement:
    """The heuristic evaluation of one answer: pass when every check passes; a score is the share
    of checks passed, on the output's scale."""
    found = [(name, *CHECKS[name](output, pages, seconds)) for name in config["checks"]]
    reasoning = "; ".join(f"{name}: {'pass' if ok else 'fail'} ({why})" for name, ok, why in found)
    share = sum(ok for _, ok, _ in found) / len(found)
    if output_type == "boolean":
        return Judgement(share == 1, None, reasoning)
    low, high = output_config["min"], output_config["max"]
    score = low + share * (high - low)
    return Judgement(score >= output_config["pass_threshold"], score, reasoning)


def judge_schema(output_type: str, output_config: dict[str, Any]) -> dict[str, Any]:
    if output_type == "score":
        bounds = {"minimum": output_config["min"], "maximum": output_config["max"]}
        value: dict[str, Any] = {"type": "number", **bounds}
        key = "score"
    else:
        value = {"type": ["boolean", "null"] if output_config.get("allows_na") else "boolean"}
        key = "result"
    return {
        "type": "object",
        "properties": {"reasoning": {"type": "string"}, key: value},
        "required": ["reasoning", key],
    }


def judge_call(
    model: str,
    prompt: str,
    output_type: str,
    output_config: dict[str, Any],
    question: str,
    answer: dict[str, Any],
    timeline_text: str,
) -> ModelCall:
    """The judge's one request: the question asked, our answer, the timeline, and the judge's prompt."""
    if output_type == "score":
        wanted = f"a score from {output_config['min']:g} to {output_config['max']:g} (higher is better)"
    elif output_config.get("allows_na"):
        wanted = "result true (pass), false (fail) or null (the question does not apply to this answer)"
    else:
        wanted = "result true (pass) or false (fail)"
    text = (
        f"Question the model was asked:\n{question}\n\nIts answer (JSON):\n"
        f"{orjson.dumps(answer).decode()}\n\nTimeline:\n{timeline_text}\n\n"
        f"Your task: {prompt}\nAnswer with `reasoning` (one or two sentences) and {wanted}."
    )
    schema = judge_schema(output_type, output_config)
    return ModelCall(model, JUDGE_SYSTEM, (Turn("user", text),), schema)


def read_judgement(text: str, output_type: str, output_config: dict[str, Any]) -> Judgement:
    """The judge's reply as a `Judgement`; `OutputInvalid` saying what to correct."""
    try:
        data = orjson.loads(text.strip().removeprefix("```json").removesuffix("```"))
    except orjson.JSONDecodeError as exc:
        raise OutputInvalid("the reply is not valid JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("reasoning"), str):
        raise OutputInvalid("the reply must be an object with a `reasoning` string")
    reasoning = data["reasoning"].strip()[:4000]
    if output_type == "score":
        score = data.get("score")
        low, high = output_config["min"], output_config["max"]
        if isinstance(score, bool) or not isinstance(score, int | float) or not low <= score <= high:
            raise OutputInvalid(f"score must be a number from {low:g} to {high:g}")
        return Judgement(score >= output_config["pass_threshold"], float(score), reasoning)
    result = data.get("result", "missing")
    if result is None and output_config.get("allows_na"):
        return Judgement(None, None, reasoning)
    if not isinstance(result, bool):
        raise OutputInvalid("result must be true or false")
    return Judgement(result, None, reasoning)
