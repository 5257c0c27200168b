"""The demo cases (cases.demo): every state, overdue at every open stage, true histories, photos, loaded once.

The demo is seeded once for the module (a smaller grid and 120 cases, inside a
transaction rolled back at the end); tests/governance/test_seed_demo.py runs
the real seed_demo path with its 300 cases.
"""

import datetime
import random
from collections import Counter, defaultdict
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.db.models import Count
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image

from cases import demo
from cases.models import OPEN_STATUSES, STAGE_OF_STATUS, Case, CaseEvent, CasePhoto, CaseRequest, Escalation, Status
from governance.demo import seed_demo
from grids.demo import seed_grid

pytestmark = pytest.mark.django_db
COUNT = 120


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        seed_demo(password="demo-pass")
        seed_grid(polygons_per_layer=12)
        began = timezone.now()
        result = demo.seed_cases(count=COUNT)
        yield SimpleNamespace(result=result, media=media, began=began, ended=timezone.now())
        transaction.set_rollback(True)


@pytest.fixture
def cases(loaded):
    return Case.objects.filter(external_system=demo.DEMO_SYSTEM)


def test_the_requested_number_of_cases_over_the_window(loaded, cases):
    assert loaded.result.created == COUNT == cases.count()
    reported = sorted(cases.values_list("created_at", flat=True))
    assert reported[0] >= loaded.began - datetime.timedelta(days=60)
    assert reported[-1] <= loaded.began
    assert reported[-1] - reported[0] > datetime.timedelta(days=40)
    # People report in the day: 07:30–21:00 local time.
    assert all(datetime.time(7, 30) <= timezone.localtime(moment).time() <= datetime.time(21, 0) for moment in reported)
    # Numbers follow the report date, as the service gives them.
    assert all(c.number.startswith(timezone.localtime(c.created_at).strftime("%Y%m%d")) for c in cases)


def test_every_state_and_side_path_is_there(cases):
    assert set(cases.values_list("status", flat=True)) == set(Status.values)
    assert cases.filter(merged_into__isnull=False, status=Status.CLOSED).exists()
    assert cases.filter(rework_count__gt=0).exists()
    assert cases.filter(extension_count__gt=0).exists()
    assert cases.filter(status=Status.DISPATCHED, suspended_at__isnull=False).exists()
    assert cases.filter(status=Status.DISPATCHED, accepted_at__isnull=False).exists()
    assert cases.filter(status=Status.DISPATCHED, accepted_at__isnull=True).exists()
    actions = set(CaseEvent.objects.filter(case__in=cases).values_list("action", flat=True))
    assert {"reopen", "rework", "merge", "absorb", "return", "extend", "suspend", "resume", "callback",
            "callback_attempt", "refuse_return", "refuse_extension", "refuse_suspension"} <= actions  # fmt: skip
    requests = set(CaseRequest.objects.filter(case__in=cases).values_list("kind", "decision"))
    assert requests == {
        (kind, decision) for kind in CaseRequest.Kind.values for decision in CaseRequest.Decision.values
    }
    callbacks = set(cases.filter(callback_at__isnull=False).values_list("callback_solved", "callback_satisfied"))
    assert {(True, True), (True, False), (False, False)} <= callbacks
    assert set(cases.values_list("channel", flat=True)) >= {"grid_worker", "hotline", "api"}


def test_overdue_at_every_open_stage_and_escalated_once(loaded, cases):
    for status in OPEN_STATUSES:
        due = f"{STAGE_OF_STATUS[status]}_due"
        red = cases.filter(status=status, sla_level="red", suspended_at__isnull=True, **{f"{due}__lt": loaded.began})
        assert red.exists(), status
        for case in red:
            assert Escalation.objects.filter(case=case, stage=STAGE_OF_STATUS[status], due=getattr(case, due)).exists()
        # and some in time, for contrast
        assert cases.filter(status=status, **{f"{due}__gt": loaded.ended}).exists(), status
    assert loaded.result.overdue == cases.filter(sla_level="red").count() > 0
    assert loaded.result.escalated == Escalation.objects.filter(case__in=cases).count()
    assert not cases.filter(status__in=[Status.CLOSED, Status.REJECTED], sla_level="red").exists()


def test_some_closed_cases_breached_their_deadlines(cases):
    handled = cases.filter(status=Status.CLOSED, handled_at__isnull=False)
    late = [c for c in handled if c.handled_at > c.handling_due]
    assert 0 < len(late) < handled.count() / 2


def test_every_history_is_one_unbroken_chain(loaded, cases):
    events = defaultdict(list)
    for event in CaseEvent.objects.filter(case__in=cases).order_by("case", "created_at", "pk"):
        events[event.case_id].append(event)
    for case in cases:
        chain = events[case.pk]
        assert (chain[0].action, chain[0].from_status, chain[0].to_status) == ("report", "", Status.REPORTED)
        assert chain[0].created_at == case.created_at
        for before, after in zip(chain, chain[1:], strict=False):
            assert after.from_status == before.to_status, (case.number, before.action, after.action)
            assert after.created_at >= before.created_at
        assert chain[-1].to_status == case.status, case.number
        assert chain[-1].created_at <= loaded.began
        assert case.updated_at <= loaded.began


def test_measure_columns_follow_the_history(cases):
    actions = defaultdict(Counter)
    for case_id, action in CaseEvent.objects.filter(case__in=cases).values_list("case", "action"):
        actions[case_id][action] += 1
    for case in cases:
        done = actions[case.pk]
        if case.status in (Status.DISPATCHED, Status.HANDLED, Status.VERIFIED) or (
            case.status == Status.CLOSED and done["handle"]
        ):
            assert case.dispatched_at and case.response_due, case.number
        assert bool(case.handled_at) == bool(done["handle"]), case.number
        assert bool(case.verified_at and case.verified_by_id) == bool(done["verify"] + done["rework"]), case.number
        assert bool(case.callback_at) == bool(done["callback"]), case.number
        assert case.rework_count == done["rework"]
        assert case.extension_count == done["extend"]
        assert (case.closed_at is not None) == (case.status in (Status.CLOSED, Status.REJECTED)), case.number
        if done["accept"] and case.status == Status.DISPATCHED and not (done["rework"] or done["reopen"]):
            assert case.accepted_at, case.number


def test_photos_are_real_jpegs_with_time_and_place(loaded, cases, settings):
    settings.MEDIA_ROOT = loaded.media
    photos = CasePhoto.objects.filter(case__in=cases).select_related("case")
    assert {p.kind for p in photos} == {CasePhoto.Kind.BEFORE, CasePhoto.Kind.AFTER}
    assert loaded.result.photos == photos.count()
    for photo in photos:
        with photo.image.open("rb") as file, Image.open(file) as image:
            image.load()
            assert image.format == "JPEG" and image.size == (480, 360)
        assert photo.taken_at and photo.taken_at <= photo.created_at
        assert photo.taken_where.distance(photo.case.location) < 1e-5


def test_loading_again_adds_nothing(loaded, cases):
    before = CaseEvent.objects.count()
    again = demo.seed_cases(count=COUNT)
    assert (again.created, again.existing) == (0, COUNT)
    assert cases.count() == COUNT and CaseEvent.objects.count() == before


def test_the_plan_is_reproducible(loaded):
    now = loaded.began.replace(microsecond=0)

    def plan():
        rng = random.Random(7)
        planner = demo.Planner(now=now, days=60, cast=demo.Cast.load())
        return [(s.plan.n, s.at, s.op) for p in planner.plan_all(rng, 50, demo.Places.load()) for s in p.steps]

    assert plan() == plan()


def test_scenario_counts_cover_every_scenario():
    assert len(demo.scenario_counts(300)) == 300
    assert set(demo.scenario_counts(len(demo.SCENARIOS))) == set(demo.SCENARIOS)
    assert Counter(s.name for s in demo.scenario_counts(300))["closed"] > 50


def test_clock_at_moves_now_and_auto_now_then_comes_back():
    moment = timezone.now() - datetime.timedelta(days=3)
    with demo.clock_at(moment):
        assert timezone.now() == moment
    assert timezone.now() - moment > datetime.timedelta(days=2)


def test_department_pages_have_their_own_cases(cases):
    per_department = dict(cases.values_list("department__code").annotate(n=Count("pk")))
    assert per_department.get("CG", 0) >= 10 and per_department.get("SZ", 0) >= 5


def test_each_step_is_done_by_the_demo_person_in_that_role(cases):
    events = CaseEvent.objects.filter(case__in=cases).select_related("actor", "case__department")
    actors = defaultdict(set)
    for event in events:
        actors[event.action].add(event.actor.username if event.actor else None)
    assert actors["register"] == actors["dispatch"] == actors["close"] == {"dispatcher"}
    assert actors["verify"] <= {"gridworker", "gridleader"} and actors["callback"] == {"hotline"}
    # A department's requests come from its admin, or its handler where it has no admin login
    # (the case's department may have changed since: an approved return).
    for event in events.filter(action__startswith="request_"):
        assert event.actor.profile.department_id is not None, event
        assert event.actor.username in ("cg_admin", "sz_admin") or event.actor.username.endswith("_handler")
    handlers = {e.actor.username for e in events if e.action in ("accept", "handle") and e.case.department.code == "CG"}
    assert handlers == {"cg_handler"}
    # Every department has someone: no step of a demo case is done by nobody.
    assert None not in actors["handle"] and None not in actors["accept"]
