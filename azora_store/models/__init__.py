"""All azora_store models, grouped by domain.

``TABLES`` lists the table models in dependency order (parents first);
``VIEWS`` the read-only view models. ``Store`` binds both to its database.
"""

from __future__ import annotations

from .analytics import JobAnalytics, UserCounter, UserStats, ViewModel
from .auth import ApiToken, StoreSecret
from .base import BaseModel
from .compliance import (
    AMLCheck,
    DocumentType,
    KYCStatus,
    KYCVerification,
    RiskLevel,
    SecurityEvent,
    Severity,
)
from .learning import Course, CourseStatus, Enrollment, EnrollmentStatus
from .ledger import (
    Account,
    AccountKind,
    IdempotencyKey,
    LedgerTransaction,
    TransactionKind,
    Transfer,
)
from .marketplace import (
    Application,
    ApplicationStatus,
    Currency,
    Dispute,
    DisputeStatus,
    EntityType,
    Escrow,
    EscrowStatus,
    Job,
    JobSkill,
    JobStatus,
    Milestone,
    MilestoneStatus,
    Review,
    SkillLevel,
    SkillVerification,
    StateTransition,
)
from .sync import (
    ConsumedEvent,
    ConsumerPosition,
    EventLog,
    ServiceSync,
    StoreIdentity,
    SyncCounter,
    SyncCounterDelta,
    SyncOperation,
    SyncStatus,
    SyncThroughput,
)
from .users import User, UserRole

TABLES: tuple[type[BaseModel], ...] = (
    User,
    Course,
    Enrollment,
    Job,
    JobSkill,
    Application,
    Escrow,
    Milestone,
    Review,
    SkillVerification,
    Dispute,
    StateTransition,
    Account,
    LedgerTransaction,
    Transfer,
    IdempotencyKey,
    KYCVerification,
    AMLCheck,
    SecurityEvent,
    ServiceSync,
    EventLog,
    SyncCounter,
    SyncCounterDelta,
    ConsumedEvent,
    StoreIdentity,
    ConsumerPosition,
    ApiToken,
    StoreSecret,
    UserCounter,
    SyncThroughput,
)
VIEWS: tuple[type[ViewModel], ...] = (JobAnalytics, UserStats)
ALL_MODELS: tuple[type[BaseModel], ...] = TABLES + VIEWS

__all__ = [
    "ALL_MODELS", "TABLES", "VIEWS",
    "AMLCheck", "Account", "AccountKind", "ApiToken", "Application", "ApplicationStatus",
    "BaseModel",
    "ConsumedEvent", "ConsumerPosition", "Course", "CourseStatus", "Currency", "Dispute",
    "DisputeStatus",
    "DocumentType", "Enrollment", "EnrollmentStatus", "EntityType", "Escrow", "EscrowStatus",
    "EventLog", "IdempotencyKey", "Job", "JobAnalytics", "JobSkill", "JobStatus",
    "KYCStatus", "KYCVerification", "LedgerTransaction", "Milestone", "MilestoneStatus",
    "Review", "RiskLevel", "SecurityEvent", "ServiceSync", "Severity", "SkillLevel",
    "SkillVerification", "StateTransition", "StoreIdentity", "StoreSecret", "SyncCounter",
    "SyncCounterDelta", "SyncOperation", "SyncStatus", "SyncThroughput",
    "TransactionKind", "Transfer", "User", "UserCounter", "UserRole", "UserStats",
]
