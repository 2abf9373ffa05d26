"""Reviews (only of a COMPLETED job, by its client or hired freelancer, about
the other, rating 1-5, once per reviewer and job) and skill verification
(a level per user and skill, once)."""

from __future__ import annotations

from ..errors import Conflict, Forbidden, ValidationError
from ..models import (
    Job,
    JobStatus,
    Review,
    SkillLevel,
    SkillVerification,
    SyncOperation,
)
from ..models.fields import normalise_skill
from ..support.clock import utcnow
from ..workflow.service import Service, enum_value, text


class ReviewsMixin(Service):
    def leave_review(self, job_id: int, reviewer_id: int, rating: int,
                     comment: str = "") -> Review:
        """The client reviews the freelancer, or the freelancer the client."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValidationError("rating must be a whole number from 1 to 5", field="rating",
                                  rule="range")
        comment = text(comment, "comment", 5_000, required=False)
        with self.store.atomic():
            job = self._get(Job, job_id, lock=True)
            self._user(reviewer_id, "reviewer_id")
            if job.status != JobStatus.COMPLETED:
                raise Conflict(f"job {job.id} is {job.status}: reviews come after completion",
                               field="job_id", rule="state")
            parties = {job.client_id: job.freelancer_id, job.freelancer_id: job.client_id}
            if reviewer_id not in parties:
                raise Forbidden(f"user {reviewer_id} is not a party to job {job.id}",
                                field="reviewer_id", rule="party")
            if Review.select().where((Review.job == job.id)
                                     & (Review.reviewer == reviewer_id)).exists():
                raise Conflict(f"user {reviewer_id} has already reviewed job {job.id}",
                               field="reviewer_id", rule="unique")
            review = Review.create(job=job.id, reviewer=reviewer_id,
                                   reviewee=parties[reviewer_id], rating=rating,
                                   comment=comment)
            self._emit("Review", review.id, SyncOperation.CREATE,
                       {"job_id": job.id, "reviewer_id": reviewer_id,
                        "reviewee_id": review.reviewee_id, "rating": rating})
        return review

    def verify_skill(self, user_id: int, skill: str, level: SkillLevel | str, *,
                     score: int | None = None, verified_by: int | None = None,
                     evidence: str = "") -> SkillVerification:
        """Record a verified skill level (once per user and skill)."""
        name = normalise_skill(text(skill, "skill", 64))
        level = enum_value(SkillLevel, level, "level")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int)
                                  or not 0 <= score <= 100):
            raise ValidationError("score must be a whole number from 0 to 100", field="score",
                                  rule="range")
        evidence = text(evidence, "evidence", 5_000, required=False)
        with self.store.atomic():
            self._user(user_id)
            if verified_by is not None:
                self._user(verified_by, "verified_by")
                if verified_by == user_id:
                    raise Forbidden("nobody verifies their own skills", field="verified_by",
                                    rule="party")
            if SkillVerification.select().where((SkillVerification.user == user_id) & (
                    SkillVerification.skill == name)).exists():
                raise Conflict(f"user {user_id} already has {name!r} verified", field="skill",
                               rule="unique")
            verification = SkillVerification.create(
                user=user_id, skill=name, level=level, score=score, verified_by=verified_by,
                evidence=evidence, verified_at=utcnow())
            self._emit("SkillVerification", verification.id, SyncOperation.CREATE,
                       {"user_id": user_id, "skill": name, "level": str(level)})
        return verification


__all__ = ["ReviewsMixin"]
