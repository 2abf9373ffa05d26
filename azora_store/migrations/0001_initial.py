"""Initial schema: every table, constraint and index of the design brief.

The models below are a frozen copy of ``azora_store.models`` at this version
(peewee's recommended practice): later model changes get their own migration,
and ``tests/test_migrations.py`` proves the migrated schema equals the models.
"""

from peewee import (
    SQL,
    AutoField,
    BigAutoField,
    BigIntegerField,
    BlobField,
    BooleanField,
    CharField,
    CompositeKey,
    DateTimeField,
    IntegerField,
    JSONField,
    ModelIndex,
    TextField,
)

from azora_store.migrations.frozen import CURRENCIES_V1, FrozenModel, choice
from azora_store.models.fields import (
    BalanceField,
    CheckedCharField,
    CheckedIntegerField,
    CheckedTextField,
    CompositeForeignKey,
    EmailField,
    ForeignKey,
    MoneyField,
    SkillField,
    TableCheck,
    at_least,
    between,
    not_blank,
)

JOB_STATUSES = ("OPEN", "IN_PROGRESS", "COMPLETED", "CANCELLED")
TRANSACTION_KINDS = ("DEPOSIT", "WITHDRAWAL", "ESCROW_FUND", "ESCROW_RELEASE", "ESCROW_REFUND",
                     "FEE")
SYNC_STATUSES = ("PENDING", "PROCESSING", "COMPLETED", "FAILED")


class User(FrozenModel):
    id = AutoField()
    email = EmailField(unique=True)
    full_name = CheckedCharField(max_length=200, rules=[not_blank()])
    role = choice("MEMBER", "INSTRUCTOR", "ADMIN")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    deleted_at = DateTimeField(null=True)

    class Meta:
        table_name = "users"


class Course(FrozenModel):
    id = AutoField()
    instructor = ForeignKey(User)
    title = CheckedCharField(max_length=200, rules=[not_blank()])
    description = TextField()
    status = choice("DRAFT", "PUBLISHED", "ARCHIVED")
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "courses"


class Enrollment(FrozenModel):
    id = AutoField()
    user = ForeignKey(User, index=False)
    course = ForeignKey(Course)
    status = choice("ACTIVE", "COMPLETED", "DROPPED")
    progress = CheckedIntegerField(rules=[between(0, 100)])
    enrolled_at = DateTimeField()
    completed_at = DateTimeField(null=True)
    updated_at = DateTimeField()

    class Meta:
        table_name = "enrollments"


class Job(FrozenModel):
    id = AutoField()
    client = ForeignKey(User)
    freelancer = ForeignKey(User, null=True, index=False, backref="+")
    title = CheckedCharField(max_length=200, rules=[not_blank()])
    description = TextField()
    status = choice(*JOB_STATUSES)
    budget = MoneyField()
    currency = choice(*CURRENCIES_V1)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    closed_at = DateTimeField(null=True)
    deleted_at = DateTimeField(null=True)

    class Meta:
        table_name = "jobs"
        constraints = [
            TableCheck("ck_jobs_freelancer_not_client",
                       "freelancer_id IS NULL OR freelancer_id <> client_id", "freelancer", ""),
            TableCheck("ck_jobs_freelancer_when_hired",
                       "status IN ('OPEN', 'CANCELLED') OR freelancer_id IS NOT NULL",
                       "freelancer", ""),
        ]


class JobSkill(FrozenModel):
    job = ForeignKey(Job, on_delete="CASCADE", index=False)
    skill = SkillField()
    open_created_at = DateTimeField(null=True)
    budget = MoneyField(null=True)
    currency = choice(*CURRENCIES_V1, null=True)

    class Meta:
        table_name = "job_skills"
        primary_key = CompositeKey("job", "skill")


class Application(FrozenModel):
    id = AutoField()
    job = ForeignKey(Job, index=False)
    freelancer = ForeignKey(User)
    cover_letter = TextField()
    bid = MoneyField(null=True)
    status = choice("PENDING", "ACCEPTED", "REJECTED", "WITHDRAWN")
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "applications"


class Escrow(FrozenModel):
    id = AutoField()
    job = ForeignKey(Job, unique=True)
    client = ForeignKey(User)
    freelancer = ForeignKey(User, backref="+")
    amount = MoneyField()
    currency = choice(*CURRENCIES_V1)
    status = choice("FUNDED", "FROZEN", "RELEASED", "REFUNDED", "SETTLED")
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "escrows"
        indexes = ((("status",), False),)
        constraints = [TableCheck("ck_escrows_parties_differ", "client_id <> freelancer_id",
                                  "freelancer", "")]


class Milestone(FrozenModel):
    id = AutoField()
    escrow = ForeignKey(Escrow)
    job = ForeignKey(Job)
    title = CheckedCharField(max_length=200, rules=[not_blank()])
    amount = MoneyField()
    status = choice("PENDING", "SUBMITTED", "RELEASED", "CANCELLED")
    auto_release_at = DateTimeField(null=True)
    submitted_at = DateTimeField(null=True)
    released_at = DateTimeField(null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "milestones"


class Review(FrozenModel):
    id = AutoField()
    job = ForeignKey(Job, index=False)
    reviewer = ForeignKey(User)
    reviewee = ForeignKey(User, index=False, backref="+")
    rating = CheckedIntegerField(rules=[between(1, 5)])
    comment = TextField()
    created_at = DateTimeField()

    class Meta:
        table_name = "reviews"
        constraints = [TableCheck("ck_reviews_not_self", "reviewer_id <> reviewee_id",
                                  "reviewee", "")]


class SkillVerification(FrozenModel):
    id = AutoField()
    user = ForeignKey(User)
    skill = SkillField()
    level = choice("BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT")
    score = CheckedIntegerField(null=True, rules=[between(0, 100)])
    verified_by = ForeignKey(User, null=True, index=False, backref="+")
    evidence = TextField()
    verified_at = DateTimeField(null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "skill_verifications"


class Dispute(FrozenModel):
    id = AutoField()
    job = ForeignKey(Job)
    escrow = ForeignKey(Escrow, index=False)
    opened_by = ForeignKey(User, index=False)
    reason = CheckedTextField(rules=[not_blank()])
    status = choice("OPEN", "UNDER_REVIEW", "RESOLVED_CLIENT", "RESOLVED_FREELANCER",
                    "RESOLVED_SPLIT")
    resolution_note = TextField()
    client_amount = MoneyField(positive=False, null=True)
    freelancer_amount = MoneyField(positive=False, null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    resolved_at = DateTimeField(null=True)

    class Meta:
        table_name = "disputes"
        indexes = ((("status",), False),)


class StateTransition(FrozenModel):
    id = BigAutoField()
    entity_type = choice("JOB", "APPLICATION", "ESCROW", "MILESTONE", "DISPUTE", "KYC")
    entity_id = IntegerField()
    from_state = CharField(max_length=32, null=True)
    to_state = CheckedCharField(max_length=32, rules=[not_blank()])
    actor = ForeignKey(User, null=True, index=False, backref="+")
    reason = TextField()
    created_at = DateTimeField()

    class Meta:
        table_name = "state_transitions"


class Account(FrozenModel):
    id = BigAutoField()
    kind = choice("WALLET", "ESCROW", "PLATFORM", "EXTERNAL")
    owner = ForeignKey(User, null=True, index=False)
    escrow = ForeignKey(Escrow, null=True, unique=True)
    currency = choice(*CURRENCIES_V1)
    balance = BalanceField()
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "accounts"
        constraints = [
            TableCheck("ck_accounts_balance_non_negative",
                       "balance_minor >= 0 OR kind = 'EXTERNAL'", "balance", ""),
            TableCheck("ck_accounts_wallet_owner", "(kind = 'WALLET') = (owner_id IS NOT NULL)",
                       "owner", ""),
            TableCheck("ck_accounts_escrow_link", "(kind = 'ESCROW') = (escrow_id IS NOT NULL)",
                       "escrow", ""),
        ]


class LedgerTransaction(FrozenModel):
    id = BigAutoField()
    kind = choice(*TRANSACTION_KINDS)
    escrow = ForeignKey(Escrow, null=True)
    milestone = ForeignKey(Milestone, null=True, index=False)
    memo = TextField()
    created_at = DateTimeField()

    class Meta:
        table_name = "ledger_transactions"


class Transfer(FrozenModel):
    id = BigAutoField()
    transaction = ForeignKey(LedgerTransaction)
    kind = choice(*TRANSACTION_KINDS)
    from_account = ForeignKey(Account)
    to_account = ForeignKey(Account, index=False, backref="+")
    amount = MoneyField()
    currency = choice(*CURRENCIES_V1)
    created_at = DateTimeField()

    class Meta:
        table_name = "transfers"
        constraints = [
            TableCheck("ck_transfers_distinct_accounts", "from_account_id <> to_account_id",
                       "to_account", ""),
            CompositeForeignKey("fk_transfers_from_currency", ("from_account_id", "currency"),
                                "accounts", ("id", "currency"), "currency", ""),
            CompositeForeignKey("fk_transfers_to_currency", ("to_account_id", "currency"),
                                "accounts", ("id", "currency"), "currency", ""),
        ]


class IdempotencyKey(FrozenModel):
    id = BigAutoField()
    scope = CheckedCharField(max_length=64, rules=[not_blank()])
    key = CheckedCharField(max_length=200, rules=[not_blank()])
    request_hash = CharField(max_length=64)
    response = JSONField()
    created_at = DateTimeField()

    class Meta:
        table_name = "idempotency_keys"


class KYCVerification(FrozenModel):
    id = AutoField()
    user = ForeignKey(User, unique=True)
    status = choice("PENDING", "APPROVED", "REJECTED", "EXPIRED")
    risk_level = choice("LOW", "MEDIUM", "HIGH", null=True)
    document_type = choice("PASSPORT", "NATIONAL_ID", "DRIVERS_LICENSE", "RESIDENCE_PERMIT")
    country = CharField(max_length=2, null=True)
    document_ciphertext = BlobField()
    document_index = CheckedCharField(max_length=64, rules=[not_blank()])
    document_masked = CharField(max_length=32)
    key_id = CharField(max_length=32)
    rejection_reason = TextField()
    reviewer = ForeignKey(User, null=True, index=False, backref="+")
    submitted_at = DateTimeField()
    reviewed_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "kyc_verifications"


class AMLCheck(FrozenModel):
    id = BigAutoField()
    user = ForeignKey(User)
    ledger_transaction = ForeignKey(LedgerTransaction, null=True, index=False)
    score = CheckedIntegerField(rules=[between(0, 100)])
    flagged = BooleanField()
    reason = TextField()
    rule_version = CheckedCharField(max_length=64, rules=[not_blank()])
    provider = CheckedCharField(max_length=64, rules=[not_blank()])
    created_at = DateTimeField()

    class Meta:
        table_name = "aml_checks"


class SecurityEvent(FrozenModel):
    id = BigAutoField()
    user = ForeignKey(User, null=True)
    event_type = CheckedCharField(max_length=64, rules=[not_blank()])
    severity = choice("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")
    ip_address = CharField(max_length=45, null=True)
    user_agent = TextField(null=True)
    details = TextField()
    created_at = DateTimeField()
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64, unique=True)

    class Meta:
        table_name = "security_events"


class ServiceSync(FrozenModel):
    id = BigAutoField()
    service = CheckedCharField(max_length=64, rules=[not_blank()])
    entity_type = CheckedCharField(max_length=64, rules=[not_blank()])
    entity_id = CheckedCharField(max_length=64, rules=[not_blank()])
    operation = choice("CREATE", "UPDATE", "DELETE", "SYNC")
    payload = JSONField()
    status = choice(*SYNC_STATUSES)
    ordering_key = CheckedCharField(max_length=200, rules=[not_blank()])
    dedup_key = CharField(max_length=200, null=True)
    blocked = BooleanField()
    attempts = CheckedIntegerField(rules=[at_least(0)])
    max_attempts = CheckedIntegerField(rules=[at_least(1)])
    available_at = DateTimeField()
    lease_owner = CharField(max_length=100, null=True)
    lease_expires_at = DateTimeField(null=True)
    last_error = TextField(null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    completed_at = DateTimeField(null=True)

    class Meta:
        table_name = "service_sync"


class EventLog(FrozenModel):
    id = BigAutoField()
    event_id = BigIntegerField(unique=True)
    service = CharField(max_length=64)
    entity_type = CharField(max_length=64)
    entity_id = CharField(max_length=64)
    operation = CharField(max_length=16)
    payload = JSONField()
    created_at = DateTimeField()

    class Meta:
        table_name = "event_log"


class SyncCounter(FrozenModel):
    service = CharField(max_length=64)
    status = choice(*SYNC_STATUSES)
    count = BigIntegerField()

    class Meta:
        table_name = "sync_counters"
        primary_key = CompositeKey("service", "status")


class SyncCounterDelta(FrozenModel):
    service = CharField(max_length=64)
    status = choice(*SYNC_STATUSES)
    delta = BigIntegerField()

    class Meta:
        table_name = "sync_counter_deltas"
        primary_key = False


class ConsumedEvent(FrozenModel):
    consumer = CharField(max_length=64)
    event_id = BigIntegerField()
    processed_at = DateTimeField()

    class Meta:
        table_name = "consumed_events"
        primary_key = CompositeKey("consumer", "event_id")


INDEXES = [
    ModelIndex(Enrollment, (Enrollment.user, Enrollment.course), unique=True,
               name="uq_enrollments_user_course"),
    ModelIndex(Job, (Job.status, Job.created_at), name="ix_jobs_status_created"),
    ModelIndex(Job, (Job.freelancer, Job.status), name="ix_jobs_freelancer_status"),
    ModelIndex(JobSkill, (JobSkill.skill, JobSkill.job), name="ix_job_skills_skill_job"),
    ModelIndex(JobSkill, (JobSkill.skill, JobSkill.open_created_at, JobSkill.job, JobSkill.budget,
                          JobSkill.currency), name="ix_job_skills_open",
               where=JobSkill.open_created_at.is_null(False)),
    ModelIndex(Job, (Job.created_at, Job.id, Job.budget, Job.currency), name="ix_jobs_open_recent",
               where=(Job.status == "OPEN") & Job.deleted_at.is_null()),
    ModelIndex(Job, (Job.budget, Job.created_at, Job.id, Job.currency), name="ix_jobs_open_budget",
               where=(Job.status == "OPEN") & Job.deleted_at.is_null()),
    ModelIndex(Job, (Job.id,), name="ix_jobs_open_id",
               where=(Job.status == "OPEN") & Job.deleted_at.is_null()),
    ModelIndex(Application, (Application.job, Application.freelancer), unique=True,
               name="uq_applications_job_freelancer"),
    ModelIndex(Milestone, (Milestone.auto_release_at,), name="ix_milestones_due",
               where=Milestone.status == "SUBMITTED"),
    ModelIndex(Review, (Review.job, Review.reviewer), unique=True,
               name="uq_reviews_job_reviewer"),
    ModelIndex(Review, (Review.reviewee, Review.rating), name="ix_reviews_reviewee"),
    ModelIndex(SkillVerification, (SkillVerification.user, SkillVerification.skill),
               unique=True, name="uq_skill_verifications_user_skill"),
    ModelIndex(Dispute, (Dispute.escrow,), unique=True, name="uq_disputes_active_escrow",
               where=Dispute.status.in_(["OPEN", "UNDER_REVIEW"])),
    ModelIndex(StateTransition, (StateTransition.entity_type, StateTransition.entity_id,
                                 StateTransition.id), name="ix_state_transitions_entity"),
    ModelIndex(Account, (Account.owner, Account.currency), unique=True,
               name="uq_accounts_wallet", where=Account.kind == "WALLET"),
    ModelIndex(Account, (Account.kind, Account.currency), unique=True,
               name="uq_accounts_system", where=Account.kind.in_(["PLATFORM", "EXTERNAL"])),
    ModelIndex(Account, (Account.id, Account.currency), unique=True,
               name="uq_accounts_id_currency"),
    ModelIndex(Transfer, (Transfer.to_account, Transfer.kind, Transfer.amount),
               name="ix_transfers_to_kind_amount"),
    ModelIndex(IdempotencyKey, (IdempotencyKey.scope, IdempotencyKey.key), unique=True,
               name="uq_idempotency_keys_scope_key"),
    ModelIndex(KYCVerification, (KYCVerification.document_index,),
               name="ix_kyc_verifications_document_index"),
    ModelIndex(ServiceSync, (ServiceSync.dedup_key,), unique=True, name="uq_service_sync_dedup",
               where=ServiceSync.dedup_key.is_null(False)),
    ModelIndex(ServiceSync, (ServiceSync.available_at, ServiceSync.id),
               name="ix_service_sync_ready",
               where=(ServiceSync.status == "PENDING") & SQL('"blocked" = false')),
    ModelIndex(ServiceSync, (ServiceSync.ordering_key, ServiceSync.id),
               name="ix_service_sync_unfinished",
               where=ServiceSync.status.in_(["PENDING", "PROCESSING", "FAILED"])),
    ModelIndex(ServiceSync, (ServiceSync.id,), name="ix_service_sync_pending",
               where=ServiceSync.status == "PENDING"),
    ModelIndex(ServiceSync, (ServiceSync.lease_expires_at,), name="ix_service_sync_leases",
               where=ServiceSync.status == "PROCESSING"),
    ModelIndex(ServiceSync, (ServiceSync.ordering_key, ServiceSync.id),
               name="ix_service_sync_blocked", where=SQL('"blocked" = true')),
]

for _index in INDEXES:  # created with their table (the composite FKs need theirs first)
    _index._model.add_index(_index)

TABLES = [User, Course, Enrollment, Job, JobSkill, Application, Escrow, Milestone, Review,
          SkillVerification, Dispute, StateTransition, Account, LedgerTransaction, Transfer,
          IdempotencyKey, KYCVerification, AMLCheck, SecurityEvent, ServiceSync, EventLog,
          SyncCounter, SyncCounterDelta, ConsumedEvent]


def up(migrator, db):
    db.bind(TABLES)
    db.create_tables(TABLES, safe=False)


def down(migrator, db):
    db.bind(TABLES)
    db.drop_tables(list(reversed(TABLES)), safe=False)
