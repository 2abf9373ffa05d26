"""Per-user counters (migration 0017): kept by triggers through every kind of
change, equal to the user_stats view, read by user_stats, checked by doctor."""

from __future__ import annotations

from decimal import Decimal

import pytest

from azora_store.doctor import diagnose
from azora_store.doctor.user_counters import check_user_counters
from azora_store.errors import NotFound
from azora_store.queries import user_stats
from tests.factories import market_world
from tests.helpers import sql


def assert_counters_match_the_view(store) -> None:
    check = check_user_counters(store, sample=None)
    assert check.mode == "full"
    assert check.counter_rows == check.users
    assert [drift.describe() for drift in check.drifts] == []
    active = sql(store, "SELECT COUNT(*) FROM users WHERE deleted_at IS NULL")[0][0]
    assert check.checked == active


def mixed_workload(store):
    """Workflows (inserts and status changes through the package), then raw SQL
    updates that move rows between users or change what counts, and deletes."""
    m = store.market
    w = market_world(store)
    client, freelancer, rival = w.client.id, w.freelancer.id, w.rival.id
    course = m.create_course(w.admin.id, "SQL")
    m.publish_course(course.id)
    done = m.enrol(freelancer, course.id)
    m.complete_enrollment(done.id)
    dropped = m.enrol(rival, course.id)
    m.drop_enrollment(dropped.id)
    m.release_milestone(w.submitted, idempotency_key="release-1", actor_id=client)
    m.cancel_milestone(w.pending, actor_id=client)
    m.refund_escrow(w.escrow_id, idempotency_key="refund-1", actor_id=client)
    m.complete_job(w.job.id, actor_id=client)
    m.leave_review(w.job.id, client, 4)
    m.leave_review(w.job.id, freelancer, 5)
    second = m.post_job(client, "Write docs", "Markdown", "50.00", "EUR", ["writing"])
    m.apply(second.id, rival, "Me")
    third = m.post_job(client, "Tidy up", "Nothing", "20.00", "USD", ["sql"])
    assert_counters_match_the_view(store)
    before = user_stats(store, freelancer)
    assert (before.jobs_completed, before.reviews_received, before.average_rating,
            before.courses_completed) == (1, 1, Decimal("4.00"), 1)
    assert before.earnings == {"USD": Decimal("100.00")}

    # updates that change what counts, and for whom
    sql(store, "UPDATE enrollments SET status = 'ACTIVE' WHERE id = ?", done.id)
    sql(store, "UPDATE enrollments SET user_id = ? WHERE id = ?", client, dropped.id)
    sql(store, "UPDATE reviews SET rating = 2 WHERE reviewee_id = ?", freelancer)
    sql(store, "UPDATE reviews SET reviewee_id = ? WHERE reviewee_id = ?", rival, client)
    sql(store, "UPDATE applications SET freelancer_id = ? WHERE job_id = ?", w.outsider.id,
        second.id)
    sql(store, "UPDATE jobs SET client_id = ? WHERE id = ?", rival, second.id)
    sql(store, "UPDATE jobs SET deleted_at = created_at WHERE id = ?", third.id)
    sql(store, "UPDATE jobs SET freelancer_id = ? WHERE id = ?", rival, w.job.id)
    sql(store, "UPDATE users SET deleted_at = created_at WHERE id = ?", w.admin.id)
    assert_counters_match_the_view(store)
    sql(store, "UPDATE users SET deleted_at = NULL WHERE id = ?", w.admin.id)
    wallet = sql(store, "SELECT id FROM accounts WHERE owner_id = ? AND kind = 'WALLET'",
                 freelancer)[0][0]
    sql(store, "UPDATE accounts SET owner_id = ? WHERE id = ?", w.admin.id, wallet)
    assert_counters_match_the_view(store)

    # deletes
    sql(store, "DELETE FROM reviews WHERE reviewee_id = ?", freelancer)
    sql(store, "DELETE FROM applications WHERE job_id = ?", second.id)
    sql(store, "DELETE FROM enrollments WHERE user_id = ?", client)
    sql(store, "DELETE FROM job_skills WHERE job_id = ?", third.id)
    sql(store, "DELETE FROM jobs WHERE id = ?", third.id)
    lonely = m.create_user("lonely@example.org", "Lone")
    sql(store, "DELETE FROM users WHERE id = ?", lonely.id)
    return w


def test_counters_equal_the_view_after_every_kind_of_change(store) -> None:
    w = mixed_workload(store)
    assert_counters_match_the_view(store)
    assert sql(store, "SELECT COUNT(*) FROM user_counters WHERE user_id NOT IN "
                      "(SELECT id FROM users)")[0][0] == 0
    moved = user_stats(store, w.admin.id)  # the wallet's releases moved with it
    assert moved.earnings == {"USD": Decimal("100.00")}
    assert user_stats(store, w.rival.id).jobs_completed == 1


def test_a_rolled_back_change_leaves_the_counters(store) -> None:
    w = market_world(store)
    before = user_stats(store, w.freelancer.id).to_json()
    with pytest.raises(RuntimeError), store.atomic():
        sql(store, "DELETE FROM applications WHERE freelancer_id = ?", w.freelancer.id)
        raise RuntimeError("abort")
    assert user_stats(store, w.freelancer.id).to_json() == before
    assert before["applications"] == 1


def test_user_stats_reads_the_counters_and_hides_deleted_users(store) -> None:
    w = market_world(store)
    sql(store, "UPDATE user_counters SET applications = 99 WHERE user_id = ?", w.rival.id)
    assert user_stats(store, w.rival.id).applications == 99
    sql(store, "UPDATE users SET deleted_at = created_at WHERE id = ?", w.outsider.id)
    with pytest.raises(NotFound):
        user_stats(store, w.outsider.id)


@pytest.mark.parametrize("full", [False, True])
def test_doctor_reports_a_drift_and_a_rebuild_repairs_it(store, full) -> None:
    w = market_world(store)
    assert not [p for p in diagnose(store, full_counters=full).problems if "counters" in p]
    sql(store, "UPDATE user_counters SET applications = applications + 1 WHERE user_id = ?",
        w.rival.id)
    sql(store, "DELETE FROM user_counters WHERE user_id = ?", w.admin.id)
    report = diagnose(store, full_counters=full)
    problems = [p for p in report.problems if "counters" in p]
    assert len(problems) == 1
    assert f"user {w.rival.id}: applications 2 != 1" in problems[0]
    assert "4 counter rows for 5 users" in problems[0]
    section = dict(report.sections)["user counters"]
    assert ("compared", "every user (user_counters vs the user_stats view)") in section
    assert store.backend.fill_user_counters() == 5
    assert_counters_match_the_view(store)


def test_a_sample_spreads_over_the_ids(store) -> None:
    m = store.market
    ids = [m.create_user(f"u{k}@example.org", f"U {k}").id for k in range(30)]
    sql(store, "UPDATE user_counters SET jobs_posted = 7 WHERE user_id = ?", ids[-1])
    check = check_user_counters(store, sample=10)
    assert (check.mode, check.checked) == ("sample", 10)
    assert [d.user_id for d in check.drifts] == [ids[-1]]  # the last id is always sampled


def test_the_migration_backfills_and_goes_down(store) -> None:
    mixed_workload(store)
    store.migrations.down(to="0014_search_budget_pairs")
    tables = {name for name in store.backend.schema_snapshot()["tables"]}
    assert "user_counters" not in tables
    store.migrate()
    assert_counters_match_the_view(store)
