"""Courses and enrollments.

Courses: DRAFT -> PUBLISHED -> ARCHIVED, created by an INSTRUCTOR or ADMIN.
Enrollments: only in PUBLISHED courses, once per user and course; ACTIVE ->
COMPLETED (progress 100) or DROPPED. (These are not money or hiring state
machines, so they are checked here and have no history table.)
"""

from __future__ import annotations

from typing import Any

from ..errors import Conflict, Forbidden, InvalidTransition, ValidationError
from ..models import (
    Course,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
    SyncOperation,
    UserRole,
)
from ..support.clock import utcnow
from ..workflow.service import Service, text

COURSE_EDGES = {(CourseStatus.DRAFT, CourseStatus.PUBLISHED),
                (CourseStatus.PUBLISHED, CourseStatus.ARCHIVED)}
TEACHERS = (UserRole.INSTRUCTOR, UserRole.ADMIN)


def enrollment_payload(enrollment: Enrollment) -> dict[str, Any]:
    return {"user_id": enrollment.user_id, "course_id": enrollment.course_id,
            "status": str(enrollment.status), "progress": enrollment.progress}


class LearningMixin(Service):
    def create_course(self, instructor_id: int, title: str, description: str = "") -> Course:
        title = text(title, "title", 200)
        description = text(description, "description", 20_000, required=False)
        with self.store.atomic():
            instructor = self._user(instructor_id, "instructor_id")
            if instructor.role not in TEACHERS:
                raise Forbidden(f"user {instructor_id} is not an instructor",
                                field="instructor_id", rule="role")
            course = Course.create(instructor=instructor_id, title=title,
                                   description=description)
            self._emit("Course", course.id, SyncOperation.CREATE,
                       {"title": title, "status": str(course.status)})
        return course

    def _course_to(self, course_id: int, status: CourseStatus) -> Course:
        with self.store.atomic():
            course = self._get(Course, course_id, lock=True)
            if (course.status, status) not in COURSE_EDGES:
                raise InvalidTransition("Course", course.status, status)
            course.status = status
            course.save(only=[Course.status])
            self._emit("Course", course.id, SyncOperation.UPDATE,
                       {"title": course.title, "status": str(status)})
        return course

    def publish_course(self, course_id: int) -> Course:
        return self._course_to(course_id, CourseStatus.PUBLISHED)

    def archive_course(self, course_id: int) -> Course:
        return self._course_to(course_id, CourseStatus.ARCHIVED)

    def enrol(self, user_id: int, course_id: int) -> Enrollment:
        """Enrol in a PUBLISHED course (once)."""
        with self.store.atomic():
            self._user(user_id)
            course = self._get(Course, course_id)
            if course.status != CourseStatus.PUBLISHED:
                raise Conflict(f"course {course.id} is {course.status}: only PUBLISHED courses "
                               "take enrollments", field="course_id", rule="state")
            if Enrollment.select().where((Enrollment.user == user_id)
                                         & (Enrollment.course == course.id)).exists():
                raise Conflict(f"user {user_id} is already enrolled in course {course.id}",
                               field="course_id", rule="unique")
            enrollment = Enrollment.create(user=user_id, course=course.id)
            self._emit("Enrollment", enrollment.id, SyncOperation.CREATE,
                       enrollment_payload(enrollment))
        return enrollment

    def _enrollment_change(self, enrollment_id: int, **changes: Any) -> Enrollment:
        with self.store.atomic():
            enrollment = self._get(Enrollment, enrollment_id, lock=True)
            target = changes.get("status", EnrollmentStatus.ACTIVE)
            if enrollment.status != EnrollmentStatus.ACTIVE:
                raise InvalidTransition("Enrollment", enrollment.status, target,
                                        "only an ACTIVE enrollment changes")
            for name, value in changes.items():
                setattr(enrollment, name, value)
            enrollment.save(only=[Enrollment._meta.fields[name] for name in changes])
            self._emit("Enrollment", enrollment.id, SyncOperation.UPDATE,
                       enrollment_payload(enrollment))
        return enrollment

    def update_progress(self, enrollment_id: int, progress: int) -> Enrollment:
        """Progress 0-100 of an ACTIVE enrollment (completing is a separate step)."""
        if isinstance(progress, bool) or not isinstance(progress, int) or \
                not 0 <= progress <= 100:
            raise ValidationError("progress must be a whole number from 0 to 100",
                                  field="progress", rule="range")
        return self._enrollment_change(enrollment_id, progress=progress)

    def complete_enrollment(self, enrollment_id: int) -> Enrollment:
        return self._enrollment_change(enrollment_id, status=EnrollmentStatus.COMPLETED,
                                       progress=100, completed_at=utcnow())

    def drop_enrollment(self, enrollment_id: int) -> Enrollment:
        return self._enrollment_change(enrollment_id, status=EnrollmentStatus.DROPPED)


__all__ = ["LearningMixin"]
