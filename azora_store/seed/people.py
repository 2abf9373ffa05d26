"""Users, courses and enrollments."""

from __future__ import annotations

from collections.abc import Iterator

from .common import (
    DOMAINS,
    END,
    FIRST,
    LAST,
    START,
    _stamp,
    zipf_weights,
)
from .words import SKILLS


class PeopleBuilder:
    """Users, courses and enrollments.

    A part of :class:`~azora_store.seed.Seeder`: it
    reads the draws and settings the Seeder keeps (``self.np``, ``self.scale``...)."""

    def _users(self) -> None:
        np, rng, n = self.np, self.rng("users"), self.scale.users
        created = np.sort(rng.uniform(0, (END - START).total_seconds() * 0.9, n))
        self.user_created = created
        first, last = rng.integers(0, len(FIRST), n), rng.integers(0, len(LAST), n)
        domain = rng.integers(0, len(DOMAINS), n)
        role = rng.choice(np.array(["MEMBER", "INSTRUCTOR", "ADMIN"]), n, p=(0.97, 0.025, 0.005))
        self.instructors = np.flatnonzero(role == "INSTRUCTOR") + 1
        deleted = rng.random(n) < 0.01
        self.user_deleted = deleted
        stamps = _stamp(np, created)
        gone = _stamp(np, created + 86_400 * 30)
        # Python lists, not numpy scalars, in the per-row loops (a third of their time).
        first, last, domain = first.tolist(), last.tolist(), domain.tolist()
        role, deleted = role.tolist(), deleted.tolist()
        names = [name.title() for name in FIRST], [name.title() for name in LAST]

        def chunks() -> Iterator[list[tuple]]:
            for a, b in self._spans(n):
                yield [(i + 1, f"{FIRST[first[i]]}.{LAST[last[i]]}{i + 1}@{DOMAINS[domain[i]]}",
                        f"{names[0][first[i]]} {names[1][last[i]]}", role[i],
                        stamps[i], stamps[i], gone[i] if deleted[i] else None)
                       for i in range(a, b)]

        self._load("users", ("id", "email", "full_name", "role", "created_at", "updated_at",
                             "deleted_at"), chunks(), n)

    def _courses_and_enrollments(self) -> None:
        np, rng = self.np, self.rng("courses")
        count = max(10, self.scale.users // 100)
        instructors = self.instructors if len(self.instructors) else np.array([1])
        teacher = rng.choice(instructors, count)
        status = rng.choice(np.array(["PUBLISHED", "DRAFT", "ARCHIVED"]), count, p=(.9, .05, .05))
        topic = rng.integers(0, 60, count)
        stamp = _stamp(np, rng.uniform(0, (END - START).total_seconds(), count))
        rows = [(i + 1, int(teacher[i]), f"{SKILLS[topic[i]].title()} from scratch, part "
                 f"{i % 7 + 1}", "", str(status[i]), stamp[i], stamp[i]) for i in range(count)]
        self._load("courses", ("id", "instructor_id", "title", "description", "status",
                               "created_at", "updated_at"), iter([rows]), count)

        rng = self.rng("enrollments")
        wanted = self.scale.users // 2
        pairs = np.unique(rng.integers(0, self.scale.users, wanted) * count
                          + rng.choice(count, wanted, p=zipf_weights(count, 0.8)))
        user, course = pairs // count + 1, pairs % count + 1
        n = len(pairs)
        status = rng.choice(np.array(["ACTIVE", "COMPLETED", "DROPPED"]), n, p=(.65, .30, .05))
        progress = np.where(status == "COMPLETED", 100, rng.integers(0, 100, n))
        enrolled = rng.uniform(0, (END - START).total_seconds() * 0.95, n)
        stamps, done = _stamp(np, enrolled), _stamp(np, enrolled + 86_400 * 20)
        self.enrolled = {"user": user, "completed": status == "COMPLETED"}
        user, course, status, progress = (column.tolist()
                                          for column in (user, course, status, progress))

        def chunks() -> Iterator[list[tuple]]:
            for a, b in self._spans(n):
                yield [(i + 1, user[i], course[i], status[i], progress[i],
                        stamps[i], done[i] if status[i] == "COMPLETED" else None, stamps[i])
                       for i in range(a, b)]

        self._load("enrollments", ("id", "user_id", "course_id", "status", "progress",
                                   "enrolled_at", "completed_at", "updated_at"), chunks(), n)
