"""`sightline reports grouping-quality`: the judge's estimate of how well signals are grouped."""

from __future__ import annotations

import typer
from rich.markup import escape

from cli.context import friendly_errors, out, team_deps
from pipeline.grouping_quality import Estimate
from services.grouping_quality import grouping_quality


@friendly_errors
def grouping_quality_command(
    pairs: int = typer.Option(20, "--pairs", help="Pairs of each kind shown to the judge (1-200)."),
    seed: int = typer.Option(0, "--seed", help="Which same-report pairs are drawn."),
    examples: bool = typer.Option(False, "--examples", help="Print every pair with the judge's answer."),
    team: int = typer.Option(None, "--team", help="Team id (default: the first team)."),
) -> None:
    """Ask the judge "same root cause?" over sampled pairs: precision (same-report pairs judged the
    same) and split rate (near pairs in different reports judged the same). One Gemini call a pair."""
    deps, team_id = team_deps(team)
    quality = grouping_quality(deps, team_id, pairs=pairs, seed=seed)
    out.print(f"{quality.signals} signals in {quality.reports} reports ({escape(quality.model)} vectors)")
    for label, estimate in (("precision", quality.precision), ("split rate", quality.split)):
        out.print(_line(label, estimate), highlight=False)
        if examples:
            for pair, same, reason in estimate.examples:
                verdict = "same" if same else "different"
                out.print(
                    f"  {pair.similarity:.2f} {verdict}: {escape(pair.first.description[:70])!r} / "
                    f"{escape(pair.second.description[:70])!r} ({escape(reason[:100])})"
                )


def _line(label: str, estimate: Estimate) -> str:
    rate = "n/a" if estimate.rate is None else f"{estimate.rate:.0%}"
    answered = estimate.asked - estimate.unanswered
    missing = f", {estimate.unanswered} unanswered" if estimate.unanswered else ""
    return f"{label}: {rate} ({estimate.same} of {answered} {estimate.kind} pairs judged the same{missing})"
