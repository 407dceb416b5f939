"""The inbox sorts, filters and pages in the database by the columns a report keeps from its artefacts.

The expected orders are the documented rules (`pipeline.inbox`) written out here again in Python:
`status` by the pipeline's rank (ready and actionable, ready but not actionable, pending_input,
in_progress, candidate, potential, failed, resolved, suppressed), `priority` P0…P4 then none, any
key descending with `-`, ties newest-updated first and then by id.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import select

from models import ReportStatus, SignalReport, make_engine, session_factory
from models.migrate import upgrade
from pipeline.inbox import inbox_filters
from pipeline.reports import StateRequest
from services import artefacts
from services.reports import change_state, report_page, reports

pytestmark = pytest.mark.db

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
RANKS = ["pending_input", "in_progress", "candidate", "potential", "failed", "resolved", "suppressed"]
PRIORITIES = ["P0", "P1", "P2", "P3", "P4"]
# (status, priority, actionability, signal_count, minutes after START it was last updated): every
# status, ready ones actionable, not actionable and unjudged, priorities with and without, and
# reports updated at the same moment (so only their ids tell them apart).
MIXED = [
    ("ready", "P2", "immediately_actionable", 3, 5),
    ("ready", "P0", "not_actionable", 1, 5),
    ("ready", None, None, 4, 5),
    ("ready", "P2", "requires_human_input", 3, 9),
    ("ready", None, "not_actionable", 2, 1),
    ("pending_input", "P1", None, 7, 5),
    ("in_progress", None, None, 2, 3),
    ("candidate", "P4", None, 3, 5),
    ("candidate", "P2", None, 3, 5),
    ("potential", "P0", None, 8, 0),
    ("potential", None, None, 1, 5),
    ("failed", "P3", None, 2, 2),
    ("resolved", "P1", "immediately_actionable", 5, 8),
    ("suppressed", "P2", "not_actionable", 6, 5),
    ("deleted", "P0", None, 9, 9),
]
ORDERINGS = [
    "status",
    "priority",
    "-updated_at",
    "priority,-signal_count",
    "-status,total_weight",
    "created_at",
]


def add_report(world, status: str, signal_count: int = 1, minutes: int = 0) -> SignalReport:
    with world.deps.transaction() as session:
        report = SignalReport(
            team_id=world.team_id,
            title=f"{status} {signal_count}",
            status=ReportStatus(status),
            total_weight=signal_count / 2,
            signal_count=signal_count,
            created_at=START - timedelta(minutes=signal_count),
            updated_at=START + timedelta(minutes=minutes),
        )
        session.add(report)
    return report


def judge(world, report_id: Any, priority: str | None, actionability: str | None) -> None:
    if priority:
        content = {"priority": priority, "explanation": "x"}
        artefacts.add_artefact(world.deps, world.team_id, str(report_id), "priority_judgment", content)
    if actionability:
        content = {"actionability": actionability, "explanation": "x"}
        artefacts.add_artefact(world.deps, world.team_id, str(report_id), "actionability_judgment", content)


def mixed(world) -> list[dict[str, Any]]:
    """The MIXED reports (deleted ones included) as the rules read them."""
    made = []
    for status, priority, actionability, signal_count, minutes in MIXED:
        report = add_report(world, "ready" if status == "deleted" else status, signal_count, minutes)
        judge(world, report.id, priority, actionability)
        if status == "deleted":
            with world.deps.transaction() as session:
                session.get(SignalReport, report.id).status = ReportStatus.DELETED
        made.append({**vars(report), "status": status, "priority": priority, "actionability": actionability})
    return made


def documented(rows: list[dict[str, Any]], ordering: str) -> list[str]:
    """The ids of `rows` that a list shows (deleted never), in `ordering`, by the documented rules."""

    def rank(row: dict[str, Any]) -> int:
        if row["status"] == "ready":
            return 1 if row["actionability"] == "not_actionable" else 0
        return 2 + RANKS.index(row["status"]) if row["status"] in RANKS else 9

    keys = {
        "status": rank,
        "priority": lambda row: PRIORITIES.index(row["priority"]) if row["priority"] else 5,
        "updated_at": lambda row: row["updated_at"],
        "created_at": lambda row: row["created_at"],
        "total_weight": lambda row: row["total_weight"],
        "signal_count": lambda row: row["signal_count"],
    }
    shown = sorted((row for row in rows if row["status"] != "deleted"), key=lambda row: str(row["id"]))
    shown.sort(key=keys["updated_at"], reverse=True)
    for field in reversed(ordering.split(",")):  # stable sorts: the first key is applied last
        shown.sort(key=keys[field.lstrip("-")], reverse=field.startswith("-"))
    return [str(row["id"]) for row in shown]


def listed(world, ordering: str, limit: int | None = None, offset: int = 0, **filters: Any) -> list[str]:
    asked = inbox_filters(include_all=True, **filters)
    _, views = report_page(world.deps, world.team_id, asked, ordering, limit, offset)
    return [str(view.report.id) for view in views]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_the_database_orders_a_mixed_inbox_by_the_documented_rules(world, ordering):
    rows = mixed(world)
    expected = documented(rows, ordering)

    assert listed(world, ordering) == expected
    pages = [listed(world, ordering, limit=4, offset=offset) for offset in range(0, len(expected), 4)]
    assert [report for page in pages for report in page] == expected  # pages never overlap


def test_ready_and_actionable_leads_and_same_moment_ties_go_by_id(world):
    rows = {(row["status"], row["priority"], row["actionability"]): str(row["id"]) for row in mixed(world)}
    by_status = listed(world, "status")
    ready_at_five = sorted([rows[("ready", "P2", "immediately_actionable")], rows[("ready", None, None)]])
    # Ready and actionable (or unjudged): the one updated latest, then two updated at minute 5 by id.
    assert by_status[:3] == [rows[("ready", "P2", "requires_human_input")], *ready_at_five]
    # Ready but judged not actionable next (newest first), suppressed last.
    assert by_status[3:5] == [
        rows[("ready", "P0", "not_actionable")],
        rows[("ready", None, "not_actionable")],
    ]
    assert by_status[-1] == rows[("suppressed", "P2", "not_actionable")]
    by_priority = listed(world, "priority")
    assert by_priority[:2] == [rows[("ready", "P0", "not_actionable")], rows[("potential", "P0", None)]]
    assert rows[("deleted", "P0", None)] not in by_priority


def test_filters_are_applied_before_the_page_is_cut_and_counted(world):
    rows = mixed(world)
    urgent = [
        row
        for row in rows
        if row["priority"] in ("P0", "P1") and row["status"] not in ("deleted", "suppressed")
    ]
    filters = inbox_filters(priority="P1,P0")
    count, page = report_page(world.deps, world.team_id, filters, "-signal_count", 2, 1)
    expected = [str(row["id"]) for row in sorted(urgent, key=lambda row: -row["signal_count"])]
    assert count == len(urgent) == 4
    assert [str(view.report.id) for view in page] == expected[1:3]
    assert page[0].facts["priority"] in ("P0", "P1") and page[0].artefact_count >= 1
    for pr_or_task in ({"has_implementation_pr": True}, {"task_id": str(uuid.uuid4())}):
        assert report_page(world.deps, world.team_id, inbox_filters(**pr_or_task), "status", 10, 0) == (0, [])


def test_the_reviewers_filter_reads_the_newest_suggestion_and_pages_what_passes(world):
    first, second, third = (add_report(world, "ready", count, minutes=count) for count in (1, 2, 3))
    for report, logins in ((first, ["ada"]), (second, ["bob"]), (third, ["ada", "cy"])):
        content = {"reviewers": [{"github_login": login} for login in logins]}
        artefacts.add_artefact(world.deps, world.team_id, str(report.id), "suggested_reviewers", content)
    later = {"reviewers": [{"github_login": "bob"}]}
    moment = datetime.now(UTC) + timedelta(hours=1)
    artefacts.add_artefact(world.deps, world.team_id, str(third.id), "suggested_reviewers", later, now=moment)

    filters = inbox_filters(suggested_reviewers="bob,nobody")
    count, page = report_page(world.deps, world.team_id, filters, "-updated_at", 1, 1)
    assert count == 2 and [view.report.id for view in page] == [second.id]
    assert listed(world, "-updated_at", suggested_reviewers="ada") == [str(first.id)]  # third's moved on


def test_the_columns_follow_artefact_add_edit_and_delete(world):
    report = add_report(world, "ready")
    other = add_report(world, "ready", minutes=-1)

    def columns() -> tuple[str | None, str | None]:
        with world.db.sessions() as session:
            found = session.get(SignalReport, report.id)
            return found.priority, found.actionability

    def add(kind: str, minutes: int, **content: str) -> str:
        moment = START + timedelta(minutes=minutes)
        content = {**content, "explanation": "x"}
        return str(
            artefacts.add_artefact(world.deps, world.team_id, str(report.id), kind, content, now=moment).id
        )

    older = add("priority_judgment", 1, priority="P2")
    assert columns() == ("P2", None)
    newer = add("priority_judgment", 2, priority="P1")
    add("actionability_judgment", 3, actionability="not_actionable")
    assert columns() == ("P1", "not_actionable")
    assert listed(world, "status") == [str(other.id), str(report.id)]  # not actionable: after the other
    artefacts.edit_artefact(world.deps, world.team_id, newer, {"priority": "P0", "explanation": "worse"})
    assert columns() == ("P0", "not_actionable") and listed(world, "status", priority="P0") == [
        str(report.id)
    ]
    artefacts.delete_artefact(world.deps, world.team_id, newer)
    assert columns() == ("P2", "not_actionable")  # latest-wins: the one before is the value again
    change_state(world.deps, world.team_id, str(report.id), StateRequest("suppressed", reason="other"))
    assert columns() == ("P2", "not_actionable")  # a dismissal says nothing of either
    artefacts.delete_artefact(world.deps, world.team_id, older)
    assert columns()[0] is None
    assert [row[0].id for row in reports(world.deps, world.team_id, include_all=True)] == [
        other.id,
        report.id,
    ]


JSON_TYPE = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def test_migration_0008_fills_the_columns_from_the_newest_judgments(database_url):
    upgrade(database_url, "0007")
    engine = make_engine(database_url)
    reports_table = sa.table(
        "signal_reports",
        sa.column("id", sa.Uuid()),
        *(
            sa.column(name)
            for name in ("team_id", "status", "total_weight", "signal_count", "signals_at_run")
        ),
        sa.column("run_count"),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    artefacts_table = sa.table(
        "report_artefacts",
        sa.column("id", sa.Uuid()),
        sa.column("team_id"),
        sa.column("report_id", sa.Uuid()),
        sa.column("type"),
        sa.column("content", JSON_TYPE),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    judged, legacy, unjudged = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        with engine.begin() as connection:  # the 0007 schema: the models have columns it lacks
            organization = uuid.uuid4()
            connection.execute(
                sa.text(
                    "INSERT INTO organizations (id, name, created_at, updated_at) VALUES (:id, 'o', :at, :at)"
                ),
                {"id": organization.hex, "at": START},
            )
            team_id = connection.execute(
                sa.text(
                    "INSERT INTO teams (organization_id, name, timezone, created_at, updated_at)"
                    " VALUES (:org, 't', 'UTC', :at, :at) RETURNING id"
                ),
                {"org": organization.hex, "at": START},
            ).scalar_one()
            report = {"team_id": team_id, "status": "ready", "total_weight": 1.0, "signal_count": 1}
            report |= {"signals_at_run": 3, "run_count": 0, "created_at": START, "updated_at": START}
            connection.execute(
                reports_table.insert(), [{**report, "id": key} for key in (judged, legacy, unjudged)]
            )
            judgments = [
                (judged, "priority_judgment", {"priority": "P3", "explanation": "x"}, 1),
                (judged, "priority_judgment", {"priority": "P1", "explanation": "x"}, 2),
                (
                    judged,
                    "actionability_judgment",
                    {"actionability": "not_actionable", "explanation": "x"},
                    1,
                ),
                (legacy, "actionability_judgment", {"choice": "requires_human_input"}, 1),
                (legacy, "priority_judgment", {"priority": "urgent"}, 1),
                (unjudged, "note", {"note": "hi"}, 1),
            ]
            connection.execute(
                artefacts_table.insert(),
                [
                    {
                        "id": uuid.uuid4(),
                        "team_id": team_id,
                        "report_id": key,
                        "type": kind,
                        "content": content,
                        "created_at": START + timedelta(minutes=minutes),
                    }
                    for key, kind, content, minutes in judgments
                ],
            )
        upgrade(engine)
        with session_factory(engine)() as session:
            found = {row.id: (row.priority, row.actionability) for row in session.exec(select(SignalReport))}
        assert found == {
            judged: ("P1", "not_actionable"),
            legacy: (None, "requires_human_input"),  # not a priority: sorts and filters like none
            unjudged: (None, None),
        }
    finally:
        engine.dispose()
