"""Courses and enrollments (one enrollment per user and course)."""

from __future__ import annotations

from enum import StrEnum

from peewee import AutoField, DateTimeField, ModelIndex, TextField

from .base import BaseModel
from .fields import (
    CheckedCharField,
    CheckedIntegerField,
    EnumField,
    ForeignKey,
    between,
    created_at,
    not_blank,
    updated_at,
)
from .users import User


class CourseStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class EnrollmentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    DROPPED = "DROPPED"


class Course(BaseModel):
    id = AutoField()
    instructor = ForeignKey(User, backref="courses_taught")
    title = CheckedCharField(max_length=200, rules=[not_blank()])
    description = TextField(default="")
    status = EnumField(CourseStatus, default=CourseStatus.DRAFT)
    created_at = created_at()
    updated_at = updated_at()

    class Meta:
        table_name = "courses"


class Enrollment(BaseModel):
    id = AutoField()
    # The unique (user, course) index also serves look-ups by user.
    user = ForeignKey(User, backref="enrollments", index=False)
    course = ForeignKey(Course, backref="enrollments")
    status = EnumField(EnrollmentStatus, default=EnrollmentStatus.ACTIVE)
    progress = CheckedIntegerField(default=0, rules=[between(0, 100)])
    enrolled_at = created_at()
    completed_at = DateTimeField(null=True)
    updated_at = updated_at()

    class Meta:
        table_name = "enrollments"


Enrollment.add_index(ModelIndex(Enrollment, (Enrollment.user, Enrollment.course), unique=True,
                                name="uq_enrollments_user_course"))
