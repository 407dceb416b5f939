"""Sightline tables, the engine and session factory, and Alembic migrations. A leaf: imports nothing of ours."""  # noqa: E501

from models.actions import (
    ActionMode,
    ActionRun,
    ActionRunStatus,
    Delivery,
    DeliveryStatus,
    TriggerType,
    VisionAction,
)
from models.base import MAX_ERROR_LENGTH, as_utc, utcnow
from models.db import make_engine, session_factory, session_scope
from models.evaluations import (
    Evaluation,
    EvaluationResult,
    EvaluationRun,
    EvaluationType,
    OutputType,
    ResultStatus,
)
from models.ingest import IngestBatch, IngestToken
from models.jobs import JobRun, JobStatus
from models.prompts import LlmPrompt, LlmPromptVersion
from models.recording_entries import LogExplanation, RecordingEntry, RecordingEntryIndex
from models.recordings import DeviceType, Recording
from models.scouts import ProjectProfile, ScoutConfig, ScoutOrigin, ScoutRun, ScoutRunStatus
from models.signals import ProcessingState, ReportArtefact, ReportStatus, Signal, SignalReport
from models.sources import RecordingSource, SourceKind
from models.symbol_sets import SymbolSet
from models.tenancy import (
    ApiKey,
    Integration,
    IntegrationKind,
    Organization,
    Role,
    Team,
    TeamMembership,
    User,
    WebSession,
)
from models.translations import Translation
from models.vision import (
    IN_FLIGHT_STATUSES,
    LabelRating,
    Observation,
    ObservationLabel,
    ObservationStatus,
    Provider,
    Scanner,
    ScannerType,
    TriggeredBy,
    UsageReceipt,
)

__all__ = [
    "IN_FLIGHT_STATUSES",
    "MAX_ERROR_LENGTH",
    "ActionMode",
    "ActionRun",
    "ActionRunStatus",
    "ApiKey",
    "Delivery",
    "DeliveryStatus",
    "DeviceType",
    "Evaluation",
    "EvaluationResult",
    "EvaluationRun",
    "EvaluationType",
    "IngestBatch",
    "IngestToken",
    "Integration",
    "IntegrationKind",
    "JobRun",
    "JobStatus",
    "LabelRating",
    "LlmPrompt",
    "LlmPromptVersion",
    "LogExplanation",
    "Observation",
    "ObservationLabel",
    "ObservationStatus",
    "Organization",
    "OutputType",
    "ProcessingState",
    "ProjectProfile",
    "Provider",
    "Recording",
    "RecordingEntry",
    "RecordingEntryIndex",
    "RecordingSource",
    "ReportArtefact",
    "ReportStatus",
    "ResultStatus",
    "Role",
    "Scanner",
    "ScannerType",
    "ScoutConfig",
    "ScoutOrigin",
    "ScoutRun",
    "ScoutRunStatus",
    "Signal",
    "SignalReport",
    "SourceKind",
    "SymbolSet",
    "Team",
    "TeamMembership",
    "Translation",
    "TriggerType",
    "TriggeredBy",
    "UsageReceipt",
    "User",
    "VisionAction",
    "WebSession",
    "as_utc",
    "make_engine",
    "session_factory",
    "session_scope",
    "utcnow",
]
