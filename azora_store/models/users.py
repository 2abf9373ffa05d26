"""Users: one row per person, email unique case-insensitively, soft-deleted."""

from __future__ import annotations

from enum import StrEnum

from peewee import AutoField, DateTimeField

from .base import BaseModel
from .fields import CheckedCharField, EmailField, EnumField, created_at, not_blank, updated_at


class UserRole(StrEnum):
    MEMBER = "MEMBER"  # posts jobs, applies, learns
    INSTRUCTOR = "INSTRUCTOR"  # may also publish courses
    ADMIN = "ADMIN"


class User(BaseModel):
    id = AutoField()
    email = EmailField(unique=True)
    full_name = CheckedCharField(max_length=200, rules=[not_blank()])
    role = EnumField(UserRole, default=UserRole.MEMBER)
    created_at = created_at()
    updated_at = updated_at()
    deleted_at = DateTimeField(null=True)

    class Meta:
        table_name = "users"
