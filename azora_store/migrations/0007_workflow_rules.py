"""Workflow rules the database enforces by itself, so raw SQL cannot skip them:
- each state machine's status may only move along its graph's edges (a
  trigger per table raises ``azora|invalid_transition|<Entity>|<from>|<to>``);
- the milestones of an escrow never add up to more than it was funded with.

The graphs below are a frozen copy of ``azora_store.workflow.transitions`` as
this migration was written (a test checks that the two agree); a later
change to a graph needs a new migration."""

GRAPHS = (
    ("jobs", "Job", ("OPEN", "IN_PROGRESS", "COMPLETED", "CANCELLED"),
     (("CANCELLED", "OPEN"), ("IN_PROGRESS", "CANCELLED"), ("IN_PROGRESS", "COMPLETED"),
      ("OPEN", "CANCELLED"), ("OPEN", "IN_PROGRESS"))),
    ("applications", "Application", ("PENDING", "ACCEPTED", "REJECTED", "WITHDRAWN"),
     (("PENDING", "ACCEPTED"), ("PENDING", "REJECTED"), ("PENDING", "WITHDRAWN"))),
    ("escrows", "Escrow", ("FUNDED", "FROZEN", "RELEASED", "REFUNDED", "SETTLED"),
     (("FROZEN", "REFUNDED"), ("FROZEN", "RELEASED"), ("FROZEN", "SETTLED"),
      ("FUNDED", "FROZEN"), ("FUNDED", "REFUNDED"), ("FUNDED", "RELEASED"),
      ("FUNDED", "SETTLED"))),
    ("milestones", "Milestone", ("PENDING", "SUBMITTED", "RELEASED", "CANCELLED"),
     (("PENDING", "CANCELLED"), ("PENDING", "SUBMITTED"), ("SUBMITTED", "CANCELLED"),
      ("SUBMITTED", "RELEASED"))),
    ("disputes", "Dispute",
     ("OPEN", "UNDER_REVIEW", "RESOLVED_CLIENT", "RESOLVED_FREELANCER", "RESOLVED_SPLIT"),
     (("OPEN", "RESOLVED_CLIENT"), ("OPEN", "RESOLVED_FREELANCER"), ("OPEN", "RESOLVED_SPLIT"),
      ("OPEN", "UNDER_REVIEW"), ("UNDER_REVIEW", "RESOLVED_CLIENT"),
      ("UNDER_REVIEW", "RESOLVED_FREELANCER"), ("UNDER_REVIEW", "RESOLVED_SPLIT"))),
    ("kyc_verifications", "KYC", ("PENDING", "APPROVED", "REJECTED", "EXPIRED"),
     (("APPROVED", "EXPIRED"), ("EXPIRED", "PENDING"), ("PENDING", "APPROVED"),
      ("PENDING", "EXPIRED"), ("PENDING", "REJECTED"), ("REJECTED", "PENDING"))),
)


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0007_workflow_rules", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0007_workflow_rules", "down"))
