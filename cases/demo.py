"""The demo city's cases: a few hundred over the last 60 days, in every state, written by the real services.

Each case follows a scenario, a list of steps (register, dispatch, accept,
handle, verify, close, the callback, the side paths). Its timing is planned
first, with the same stage limits and working calendar the services use, so
a case meant to be overdue at a stage is overdue at that stage; the report
time is then fitted by bisection until the case ends where its scenario says
(done in the past, or still open, in time or overdue). The steps of all cases
then run in the order they happened, each one under `clock_at` (the services
and auto_now read django.utils.timezone.now), so the event log, the stage
deadlines and the measure columns are exactly what the product would have
written. One SLA sweep at the real now sets yellow/red and escalates.

Everything is drawn from one seeded random.Random: the same count, seed and
now give the same cases. Idempotent: demo cases carry external_system="demo",
and when any exist nothing is added (two loads at once: the second fails on
the unique external id of the first case, and rolls back).
"""

import datetime
import functools
import io
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import ExifTags, Image, ImageDraw, ImageFont

import cases.tasks  # noqa: F401  (registers the delivery task that tasks_inline runs)
from cases import services
from cases.models import Case, CasePhoto, CaseRequest, Category, Channel, SlaLevel, Stage
from cases.photos import case_photo_add
from cases.sla import TimeLimit, time_limit
from cases.sweep import sla_sweep
from governance.calendar import Unit, WorkingCalendar, get_calendar
from governance.celery import app as celery_app
from governance.models import DEPARTMENT_ROLES, Department, Role, StaffProfile
from grids.models import Cell, CellAssignment, GridVersion

DEMO_SYSTEM = "demo"
DEMO_SEED = 20261123
DEFAULT_COUNT, DEFAULT_DAYS = 300, 60
# A step not forced late is late this often: most stages are met, some are not.
LATE_SHARE = 0.05
# Steps end this long before now, and "in time" means at least this long before the deadline.
MARGIN = datetime.timedelta(minutes=10)
RECENT_DAYS = 14  # where an open case's report time is first drawn
DRAWS = 128  # random numbers per case, drawn once so that refitting its timing changes nothing else
SPLITS = 64  # where the bisection's draws start (the steps use the first ones, the words the last ones)

DONE, HELD, FRESH, OVERDUE = "done", "held", "fresh", "overdue"


@dataclass(frozen=True)
class DemoCases:
    created: int
    existing: int
    days: int = DEFAULT_DAYS
    photos: int = 0
    overdue: int = 0  # open and red after the sweep
    escalated: int = 0


@contextmanager
def clock_at(moment: datetime.datetime) -> Iterator[None]:
    """django.utils.timezone.now() is `moment` inside the block; auto_now and auto_now_add call it too.

    Process-wide, so only for a single-threaded loader like this one, never in a request or a worker.
    """
    real = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = real


@contextmanager
def tasks_inline() -> Iterator[None]:
    """Celery tasks queued in the block run at once, in this process (task_always_eager). Process-wide too."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def seed_cases(
    *, count: int = DEFAULT_COUNT, days: int = DEFAULT_DAYS, seed: int = DEMO_SEED, now: datetime.datetime | None = None
) -> DemoCases:
    """Add `count` demo cases reported over the last `days` days, unless demo cases exist already.

    Needs the demo people (governance.demo) and an active grid (grids.demo).
    """
    existing = Case.objects.filter(external_system=DEMO_SYSTEM).count()
    if existing:
        return DemoCases(created=0, existing=existing)
    now = (now or timezone.now()).replace(microsecond=0)
    rng = random.Random(seed)
    cast = Cast.load()
    planner = Planner(now=now, days=days, cast=cast)
    plans = planner.plan_all(rng, count, Places.load())
    photos: list[CasePhoto] = []
    try:
        # One transaction: all or nothing (a half-loaded demo would be skipped forever), and on
        # SQLite a few thousand commits would each wait for the disk.
        with transaction.atomic():
            for step in sorted((s for p in plans for s in p.steps), key=lambda s: (s.at, s.plan.n, s.index)):
                with clock_at(step.at):
                    photos += step.run(cast) or []
    except BaseException:
        for photo in photos:  # the rolled-back rows' files
            photo.image.delete(save=False)
        raise
    with tasks_inline():  # the sweep's outbox is delivered here: seed_demo needs no Redis and no worker
        swept = sla_sweep(now=now)  # the history ends at `now`; the sweep judges it there
    overdue = Case.objects.filter(external_system=DEMO_SYSTEM, sla_level=SlaLevel.RED).count()
    return DemoCases(len(plans), 0, days, photos=len(photos), overdue=overdue, escalated=swept.escalated)


# --- who does what -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """The demo logins (governance.demo) in their parts; departments without staff act as nobody."""

    dispatcher: object
    hotline: object
    gridworker: object
    gridleader: object
    handlers: dict  # department id → who accepts and handles
    admins: dict  # department id → who asks for a return, an extension, a suspension

    @classmethod
    def load(cls) -> "Cast":
        named = get_user_model().objects.in_bulk(
            ["dispatcher", "hotline", "gridworker", "gridleader"], field_name="username"
        )
        if len(named) < 4:
            raise LookupError("Demo cases need the demo people: run seed_demo.")
        by_role = {Role.DEPARTMENT_ADMIN: {}, Role.DEPARTMENT_HANDLER: {}}
        staff = StaffProfile.objects.filter(role__in=DEPARTMENT_ROLES, department__isnull=False).order_by("user_id")
        for profile in staff.select_related("user"):
            by_role[profile.role].setdefault(profile.department_id, profile.user)
        admins, handlers = by_role[Role.DEPARTMENT_ADMIN], by_role[Role.DEPARTMENT_HANDLER]
        # Where a department has only one of the two, that one does both.
        return cls(named["dispatcher"], named["hotline"], named["gridworker"], named["gridleader"],
                   handlers=admins | handlers, admins=handlers | admins)  # fmt: skip


@dataclass(frozen=True)
class Places:
    """The active grid's cells, and the few the demo grid worker patrols."""

    cells: list
    patrolled: list

    @classmethod
    def load(cls) -> "Places":
        version = GridVersion.objects.active().first()
        if version is None:
            raise LookupError("Demo cases need an active grid version: run seed_demo.")
        cells = list(Cell.objects.filter(version=version).select_related("community__parent").order_by("code"))
        patrolled_ids = set(
            CellAssignment.objects.filter(cell__version=version, user__username="gridworker").values_list(
                "cell_id", flat=True
            )
        )
        return cls(cells, [c for c in cells if c.pk in patrolled_ids] or cells)

    def point(self, rng: random.Random, *, patrolled: bool = False) -> tuple[Cell, float, float]:
        cell = rng.choice(self.patrolled if patrolled else self.cells)
        return (cell, *inside(cell, rng))


def inside(cell: Cell, rng: random.Random, near: tuple[float, float] | None = None) -> tuple[float, float]:
    """A random point strictly inside the cell (to a phone's 6 decimals), or within ~20 m of `near`."""
    x0, y0, x1, y1 = cell.geometry.extent
    for _ in range(200):
        if near:
            lng, lat = near[0] + rng.uniform(-2e-4, 2e-4), near[1] + rng.uniform(-2e-4, 2e-4)
        else:
            lng, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
        lng, lat = round(lng, 6), round(lat, 6)
        if cell.geometry.contains(Point(lng, lat, srid=cell.geometry.srid)):
            return lng, lat
    if near:
        return near
    centre = cell.geometry.point_on_surface
    return centre.x, centre.y


# --- scenarios -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """Steps after the report; "!" forces a step late. `ends`: DONE (closed or rejected), HELD
    (open, no deadline to meet: suspended), FRESH (open and in time) or OVERDUE (open, past its deadline)."""

    name: str
    weight: int
    ends: str
    steps: str
    channel: str | None = None  # None: drawn
    staffed: bool = False  # needs a department whose people can ask for things

    @property
    def tokens(self) -> list[str]:
        return self.steps.split()


HL, GW = Channel.HOTLINE, Channel.GRID_WORKER
BASE = "register dispatch accept"
SCENARIOS = [
    Scenario("closed", 60, DONE, f"{BASE} handle verify finish"),
    Scenario("closed_handled_late", 8, DONE, f"{BASE} handle! verify finish"),
    Scenario("closed_dispatched_late", 5, DONE, "register dispatch! accept handle verify finish"),
    Scenario("closed_accepted_late", 5, DONE, "register dispatch accept! handle verify finish"),
    Scenario("callback_satisfied", 20, DONE, f"{BASE} handle verify cb_ok", HL),
    Scenario("callback_unsatisfied", 8, DONE, f"{BASE} handle verify cb_unhappy", HL),
    Scenario("callback_missed_then_done", 5, DONE, f"{BASE} handle verify cb_missed cb_ok", HL),
    Scenario("callback_unsolved_redone", 6, DONE, f"{BASE} handle verify cb_unsolved handle verify cb_ok", HL),
    Scenario("callback_late", 3, DONE, f"{BASE} handle verify cb_ok!", HL),
    Scenario("rejected", 14, DONE, "reject"),
    Scenario("merged", 10, DONE, "merge"),
    Scenario("reworked_closed", 10, DONE, f"{BASE} handle rework handle verify finish"),
    Scenario("reopened_closed", 5, DONE, f"{BASE} handle verify close reopen handle verify close", GW),
    Scenario("returned_redispatched", 6, DONE, "register_wrong dispatch return_ok accept handle verify finish",
             staffed=True),
    Scenario("return_refused", 3, DONE, "register dispatch return_no accept handle verify finish", staffed=True),
    Scenario("extended_closed", 7, DONE, f"{BASE} extend_ok handle verify finish", staffed=True),
    Scenario("extension_refused_closed", 3, DONE, f"{BASE} extend_no handle! verify finish", staffed=True),
    Scenario("suspended_resumed_closed", 4, DONE, f"{BASE} suspend_ok resume handle verify finish", staffed=True),
    Scenario("suspension_refused_closed", 2, DONE, f"{BASE} suspend_no handle verify finish", staffed=True),
    Scenario("reported", 8, FRESH, ""),
    Scenario("reported_overdue", 5, OVERDUE, ""),
    Scenario("registered", 6, FRESH, "register"),
    Scenario("registered_overdue", 5, OVERDUE, "register"),
    Scenario("dispatched", 8, FRESH, "register dispatch"),
    Scenario("dispatched_overdue", 3, OVERDUE, "register dispatch"),
    Scenario("accepted", 14, FRESH, BASE),
    Scenario("accepted_overdue", 8, OVERDUE, BASE),
    Scenario("return_pending", 3, FRESH, "register dispatch return_ask", staffed=True),
    Scenario("extension_pending", 4, FRESH, f"{BASE} extend_ask", staffed=True),
    Scenario("extension_pending_overdue", 2, OVERDUE, f"{BASE} extend_ask", staffed=True),
    Scenario("suspension_pending", 2, FRESH, f"{BASE} suspend_ask", staffed=True),
    Scenario("suspended", 4, HELD, f"{BASE} suspend_ok", staffed=True),
    Scenario("extended_open", 3, FRESH, f"{BASE} extend_ok", staffed=True),
    Scenario("reworked_open", 4, FRESH, f"{BASE} handle rework"),
    Scenario("reworked_overdue", 2, OVERDUE, f"{BASE} handle rework"),
    Scenario("reopened_open", 3, FRESH, f"{BASE} handle verify close reopen", GW),
    Scenario("callback_unsolved_open", 3, FRESH, f"{BASE} handle verify cb_unsolved", HL),
    Scenario("handled", 8, FRESH, f"{BASE} handle"),
    Scenario("handled_overdue", 5, OVERDUE, f"{BASE} handle"),
    Scenario("awaiting_callback", 5, FRESH, f"{BASE} handle verify", HL),
    Scenario("callback_overdue", 4, OVERDUE, f"{BASE} handle verify", HL),
    Scenario("callback_missed", 2, FRESH, f"{BASE} handle verify cb_missed", HL),
    Scenario("awaiting_close", 3, FRESH, f"{BASE} handle verify", GW),
]  # fmt: skip
FALLBACK = SCENARIOS[0]


def scenario_counts(count: int) -> list[Scenario]:
    """`count` scenarios: each at least once when count allows, the rest by weight (largest remainders)."""
    floor = 1 if count >= len(SCENARIOS) else 0
    spare = count - floor * len(SCENARIOS)
    total = sum(s.weight for s in SCENARIOS)
    shares = [spare * s.weight / total for s in SCENARIOS]
    counts = [floor + int(share) for share in shares]
    by_remainder = sorted(range(len(SCENARIOS)), key=lambda i: (int(shares[i]) - shares[i], i))
    for i in by_remainder[: count - sum(counts)]:
        counts[i] += 1
    return [s for s, n in zip(SCENARIOS, counts, strict=True) for _ in range(n)]


# --- planning ------------------------------------------------------------------------------


@dataclass
class Step:
    at: datetime.datetime
    op: str
    plan: "Plan"
    index: int
    args: dict = field(default_factory=dict)

    def run(self, cast: Cast) -> list[CasePhoto] | None:
        return OPS[self.op](self.plan, cast, **self.args)


@dataclass
class Plan:
    n: int
    scenario: Scenario
    channel: str
    category: Category
    cell: Cell
    lng: float
    lat: float
    draws: list[float]
    wrong_department: object = None
    steps: list[Step] = field(default_factory=list)
    case: Case | None = None
    pending: dict = field(default_factory=dict)  # request kind → the CaseRequest waiting for a decision
    into: "Plan | None" = None  # for a duplicate: the plan of the case it is merged into

    @property
    def severity(self) -> str:
        return self.category.default_severity

    def draw(self, index: int) -> float:
        return self.draws[index % DRAWS]


@dataclass
class Clock:
    """The planner's view of a case between steps: the stage running and its deadline."""

    at: datetime.datetime
    stage: str | None
    due: datetime.datetime | None
    dispatched: datetime.datetime | None = None
    suspended: datetime.datetime | None = None
    closed: datetime.datetime | None = None


class Planner:
    def __init__(self, *, now: datetime.datetime, days: int, cast: Cast):
        self.now, self.days, self.cast = now, days, cast
        self.calendar: WorkingCalendar = get_calendar()
        self.return_window = services.return_window()
        self._limits: dict[tuple, TimeLimit] = {}
        categories = list(Category.objects.filter(is_active=True).select_related("default_department"))
        if not categories:
            raise LookupError("Demo cases need the category taxonomy (cases migration 0005).")
        staffed = [c for c in categories if c.default_department_id in cast.admins]
        # Departments with demo logins get most of the cases: their admin pages are the ones shown.
        self.categories = categories + staffed * 2
        self.staffed = staffed or categories

    def plan_all(self, rng: random.Random, count: int, places: Places) -> list["Plan"]:
        scenarios = scenario_counts(count)
        rng.shuffle(scenarios)
        plans, merges = [], []
        for n, scenario in enumerate(scenarios, start=1):
            (merges if "merge" in scenario.tokens else plans).append(self.plan(rng, n, scenario, places))
        for plan in merges:
            self.plan_merge(rng, plan, plans, places)
        return sorted(plans + merges, key=lambda p: p.n)

    def plan(self, rng: random.Random, n: int, scenario: Scenario, places: Places) -> Plan:
        for _ in range(8):
            plan = self.draw_case(rng, n, scenario, places)
            if "merge" in scenario.tokens or self.fit(plan):  # a duplicate's time follows its first report's
                return plan
        plan = self.draw_case(rng, n, FALLBACK, places)
        if not self.fit(plan):
            raise RuntimeError(f"Demo case {n}: no timing fits in {self.days} days.")
        return plan

    def draw_case(self, rng: random.Random, n: int, scenario: Scenario, places: Places) -> Plan:
        channel = scenario.channel or rng.choices([GW, HL, Channel.API], weights=[6, 3, 1])[0]
        category = rng.choice(self.staffed if scenario.staffed else self.categories)
        cell, lng, lat = places.point(rng, patrolled=channel == GW and rng.random() < 0.3)
        plan = Plan(n, scenario, channel, category, cell, lng, lat, [rng.random() for _ in range(DRAWS)])
        if "register_wrong" in scenario.tokens:
            others = [d for d in self.cast.admins if d != category.default_department_id]
            plan.wrong_department = rng.choice(others) if others else None
            if plan.wrong_department is None:
                plan.scenario = FALLBACK
        return plan

    # --- fitting the report time --------------------------------------------------------

    def fit(self, plan: Plan) -> bool:
        """Bisect the report time until the case ends as its scenario says; False if nothing fits."""
        earliest, latest = self.now - datetime.timedelta(days=self.days), self.now
        window = self.days if plan.scenario.ends == DONE else min(RECENT_DAYS, self.days)
        moment = self.now - datetime.timedelta(days=window) * plan.draw(0)
        for attempt in range(40):
            steps, clock = self.schedule(plan, daytime(moment, self.calendar.tz))
            verdict = self.verdict(plan.scenario.ends, steps[-1].at, clock)
            if verdict == 0:
                plan.steps = steps
                return True
            earliest, latest = (earliest, moment) if verdict < 0 else (moment, latest)
            # A drawn split, not the middle: halving from the same 60 days would pile reports on one day.
            moment = earliest + (latest - earliest) * (0.15 + 0.7 * plan.draw(SPLITS + attempt))
        return False

    def verdict(self, ends: str, last: datetime.datetime, clock: Clock) -> int:
        """0 if it fits, -1 if the report must move earlier, +1 if later."""
        if ends in (DONE, HELD):
            return -1 if last > self.now - MARGIN else 0
        if last > self.now - MARGIN or (ends == OVERDUE and clock.due >= self.now - MARGIN):
            return -1
        return 1 if ends == FRESH and clock.due <= self.now + MARGIN else 0

    # --- the timing of each step ---------------------------------------------------------

    def schedule(self, plan: Plan, reported: datetime.datetime) -> tuple[list[Step], Clock]:
        steps = [Step(reported, "report", plan, 0)]
        clock = Clock(reported, Stage.REGISTRATION, self.deadline(plan, Stage.REGISTRATION, reported))
        cursor = 1
        for token in plan.scenario.tokens:
            name = token.rstrip("!")
            # Each token uses four draws, whatever branch it takes, so refitting never shifts the others.
            draws = [plan.draw(cursor + i) for i in range(4)]
            cursor += 4
            late = token.endswith("!") or draws[0] < LATE_SHARE
            for at, op, args in getattr(self, f"_{name}")(plan, clock, late, draws[1:]):
                steps.append(Step(at.replace(microsecond=0), op, plan, len(steps), args))
        return steps, clock

    def deadline(self, plan: Plan, stage: str, start: datetime.datetime) -> datetime.datetime:
        limit = self.limit(plan, stage)
        return limit.deadline(timezone.localtime(start), self.calendar)

    def limit(self, plan: Plan, stage: str) -> TimeLimit:
        key = (stage, plan.category.pk, plan.severity)
        if key not in self._limits:
            self._limits[key] = time_limit(stage=stage, category=plan.category, severity=plan.severity)
        return self._limits[key]

    def natural(self, plan: Plan, stage: str) -> bool:
        return self.limit(plan, stage).unit in (Unit.MINUTES, Unit.HOURS)

    def next(self, plan: Plan, clock: Clock, late: bool, draw: float, *, due=None, natural=None) -> datetime.datetime:
        """When the step that ends the running stage happens: in time, or past the deadline."""
        due = due or clock.due
        natural = self.natural(plan, clock.stage) if natural is None else natural
        if late:
            start = max(clock.at, due)
            if natural:
                return start + datetime.timedelta(minutes=30 + draw * 20 * 60)
            return self.calendar.add_working(start, datetime.timedelta(hours=0.5 + draw * 14))
        return self.within(clock.at, due, 0.05 + 0.8 * draw * draw, natural)

    def within(self, start, due, share: float, natural: bool) -> datetime.datetime:
        if due <= start:
            return start + datetime.timedelta(minutes=5)
        if natural:
            return start + (due - start) * share
        return self.calendar.add_working(start, self.calendar.working_between(start, due) * share)

    def later(self, start, draw: float, low_hours: float, high_hours: float) -> datetime.datetime:
        """A delay in working time: people do this during office hours."""
        return self.calendar.add_working(start, datetime.timedelta(hours=low_hours + draw * (high_hours - low_hours)))

    def enter(self, plan: Plan, clock: Clock, at, stage: str | None) -> None:
        clock.at, clock.stage = at, stage
        clock.due = self.deadline(plan, stage, at) if stage else None

    def _register(self, plan, clock, late, draws):
        at = self.next(plan, clock, late, draws[0])
        self.enter(plan, clock, at, Stage.DISPATCH)
        yield at, "register", {}

    def _register_wrong(self, plan, clock, late, draws):
        at = self.next(plan, clock, late, draws[0])
        self.enter(plan, clock, at, Stage.DISPATCH)
        yield at, "register", {"department_id": plan.wrong_department}

    def _reject(self, plan, clock, late, draws):
        at = self.next(plan, clock, late, draws[0])
        self.enter(plan, clock, at, None)
        yield at, "reject", {"reason": pick(REJECT_REASONS, draws[1])}

    def _dispatch(self, plan, clock, late, draws):
        at = self.next(plan, clock, late, draws[0])
        self.enter(plan, clock, at, Stage.HANDLING)
        clock.dispatched = at
        yield at, "dispatch", {}

    def _accept(self, plan, clock, late, draws):
        response_due = self.calendar.add(clock.dispatched, *self.return_window)
        clock.at = self.next(plan, clock, late, draws[0], due=response_due, natural=False)
        yield clock.at, "accept", {}

    def _handle(self, plan, clock, late, draws):
        at = self.next(plan, clock, late, draws[0])
        self.enter(plan, clock, at, Stage.VERIFICATION)
        yield at, "handle", {"note": pick(HANDLE_NOTES, draws[1]), "photo": draws[2] < 0.4}

    def _verify(self, plan, clock, late, draws):
        at = self.next(plan, clock, late, draws[0])
        self.enter(plan, clock, at, Stage.CALLBACK)
        yield at, "verify", {"passed": True, "supervisor": draws[1] < 0.25}

    def _rework(self, plan, clock, late, draws):
        at = self.next(plan, clock, late, draws[0])
        self.enter(plan, clock, at, Stage.HANDLING)
        yield at, "verify", {"passed": False, "supervisor": draws[1] < 0.25, "reason": pick(REWORK_REASONS, draws[2])}

    def _close(self, plan, clock, late, draws):
        at = self.later(clock.at, draws[0], 0.05, 1.5)
        self.enter(plan, clock, at, None)
        clock.closed = at
        yield at, "close", {}

    def _finish(self, plan, clock, late, draws):
        if plan.channel == HL:
            return self._cb_ok(plan, clock, late, draws)
        return self._close(plan, clock, late, draws)

    def _callback(self, plan, clock, late, draws, *, solved: bool, satisfied: bool, note: str = ""):
        at = self.next(plan, clock, late, draws[0])
        self.enter(plan, clock, at, None if solved else Stage.HANDLING)
        clock.closed = at if solved else None
        yield at, "callback", {"reached": True, "solved": solved, "satisfied": satisfied, "note": note}

    def _cb_ok(self, plan, clock, late, draws):
        return self._callback(plan, clock, late, draws, solved=True, satisfied=True)

    def _cb_unhappy(self, plan, clock, late, draws):
        return self._callback(plan, clock, late, draws, solved=True, satisfied=False,
                              note=pick(UNHAPPY_NOTES, draws[1]))  # fmt: skip

    def _cb_unsolved(self, plan, clock, late, draws):
        return self._callback(plan, clock, late, draws, solved=False, satisfied=False,
                              note=pick(UNSOLVED_NOTES, draws[1]))  # fmt: skip

    def _cb_missed(self, plan, clock, late, draws):
        clock.at = self.within(clock.at, clock.due, 0.1 + 0.3 * draws[0], False)
        yield clock.at, "callback", {"reached": False, "note": pick(MISSED_NOTES, draws[1])}

    def _reopen(self, plan, clock, late, draws):
        at = self.later(clock.closed, draws[0], 7, 35)
        self.enter(plan, clock, at, Stage.HANDLING)
        yield at, "reopen", {"reason": pick(REOPEN_REASONS, draws[1])}

    # Side paths: a request, and (unless it is left waiting) the command centre's decision.

    def _ask(self, plan, clock, draws, kind: str, *, decide: bool | None, **args):
        if kind == CaseRequest.Kind.RETURN:  # only while the return window is open
            closes = self.calendar.add(clock.dispatched, *self.return_window)
            clock.at = self.within(clock.dispatched, closes, 0.1 + 0.7 * draws[0], False)
        else:
            clock.at = self.within(clock.at, clock.due, 0.3 + 0.6 * draws[0], self.natural(plan, clock.stage))
        yield clock.at, "ask", {"kind": kind, "reason": pick(REASONS[kind], draws[1]), **args}
        if decide is None:
            return
        clock.at = self.later(clock.at, draws[2], 0.1, 2)
        note = "" if decide else pick(REFUSALS[kind], draws[1])
        yield clock.at, "decide", {"kind": kind, "approve": decide, "note": note}
        if decide and kind == CaseRequest.Kind.RETURN:  # re-dispatched at once: a fresh handling clock
            self.enter(plan, clock, clock.at, Stage.HANDLING)
            clock.dispatched = clock.at
        elif decide and kind == CaseRequest.Kind.EXTENSION:
            clock.due = self.calendar.add(clock.due, args["amount"], Unit.WORKING_DAYS)
        elif decide and kind == CaseRequest.Kind.SUSPENSION:
            clock.suspended = clock.at

    def _return_ask(self, plan, clock, late, draws):
        return self._ask(plan, clock, draws, CaseRequest.Kind.RETURN, decide=None)

    def _return_ok(self, plan, clock, late, draws):
        return self._ask(plan, clock, draws, CaseRequest.Kind.RETURN, decide=True)

    def _return_no(self, plan, clock, late, draws):
        return self._ask(plan, clock, draws, CaseRequest.Kind.RETURN, decide=False)

    def _extend(self, plan, clock, draws, decide):
        amount = 2 + int(draws[2] * 3)
        return self._ask(plan, clock, draws, CaseRequest.Kind.EXTENSION, decide=decide, amount=amount)

    def _extend_ask(self, plan, clock, late, draws):
        return self._extend(plan, clock, draws, None)

    def _extend_ok(self, plan, clock, late, draws):
        return self._extend(plan, clock, draws, True)

    def _extend_no(self, plan, clock, late, draws):
        return self._extend(plan, clock, draws, False)

    def _suspend_ask(self, plan, clock, late, draws):
        return self._ask(plan, clock, draws, CaseRequest.Kind.SUSPENSION, decide=None)

    def _suspend_ok(self, plan, clock, late, draws):
        return self._ask(plan, clock, draws, CaseRequest.Kind.SUSPENSION, decide=True)

    def _suspend_no(self, plan, clock, late, draws):
        return self._ask(plan, clock, draws, CaseRequest.Kind.SUSPENSION, decide=False)

    def _resume(self, plan, clock, late, draws):
        at = self.later(clock.at, draws[0], 7, 35)
        # As case_resume credits the pause: natural time, or only the working time it covered.
        if self.natural(plan, clock.stage):
            clock.due += at - clock.suspended
        else:
            clock.due = self.calendar.add_working(clock.due, self.calendar.working_between(clock.suspended, at))
        clock.at, clock.suspended = at, None
        yield at, "resume", {}

    # --- merges: a second report of a problem already open --------------------------------------

    def plan_merge(self, rng: random.Random, plan: Plan, plans: list[Plan], places: Places) -> None:
        candidates = [p for p in plans if p.scenario.tokens[:1] == ["register"]]
        for _ in range(40):
            target = rng.choice(candidates)
            ends = [s.at for s in target.steps if s.op == "close" or (s.op == "callback" and s.args.get("solved"))]
            reported = target.steps[0].at + datetime.timedelta(minutes=15 + 105 * rng.random())
            merged = reported + datetime.timedelta(minutes=10 + 50 * rng.random())
            in_the_day = timezone.localtime(reported).time() <= datetime.time(21)
            if in_the_day and merged < min(ends, default=self.now) - MARGIN and merged < self.now - MARGIN:
                break
        else:
            plan.scenario = FALLBACK
            if not self.fit(plan):
                raise RuntimeError(f"Demo case {plan.n}: no timing fits in {self.days} days.")
            return
        plan.channel, plan.category, plan.cell, plan.into = rng.choice([HL, GW]), target.category, target.cell, target
        plan.lng, plan.lat = inside(target.cell, rng, near=(target.lng, target.lat))
        plan.steps = [Step(reported, "report", plan, 0), Step(merged, "merge", plan, 1)]


def daytime(moment: datetime.datetime, tz) -> datetime.datetime:
    """Squeeze the local day into 07:30–21:00, when people report; monotonic, so bisection still works."""
    local = moment.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    seconds = (local - midnight).total_seconds()
    return midnight + datetime.timedelta(hours=7.5, seconds=seconds * 13.5 / 24)


def pick(options, draw: float):
    return options[int(draw * len(options)) % len(options)]


# --- running the steps (under the moved clock) --------------------------------------------------


def _report(plan: Plan, cast: Cast) -> list[CasePhoto]:
    reporter = {GW: cast.gridworker, HL: cast.hotline}.get(plan.channel)
    citizen = citizen_of(plan) if plan.channel != GW else ("", "")
    plan.case = services.case_report(
        channel=plan.channel, description=describe(plan), lng=plan.lng, lat=plan.lat, address=address_of(plan),
        reporter=reporter, category=plan.category, citizen_name=citizen[0], citizen_phone=citizen[1],
        external_system=DEMO_SYSTEM, external_id=f"{plan.n:05d}",
    )  # fmt: skip
    if plan.channel == GW and plan.draw(DRAWS - 1) < 0.4:
        return [add_photo(plan, CasePhoto.Kind.BEFORE, reporter)]
    return []


def _register(plan: Plan, cast: Cast, department_id=None) -> None:
    department = plan.category.default_department
    if department_id is not None:
        department = Department.objects.get(pk=department_id)
    services.case_register(case=plan.case, actor=cast.dispatcher, category=plan.category, department=department)


def _reject(plan: Plan, cast: Cast, reason: str) -> None:
    services.case_reject(case=plan.case, actor=cast.dispatcher, reason=reason)


def _dispatch(plan: Plan, cast: Cast) -> None:
    services.case_dispatch(case=plan.case, actor=cast.dispatcher)


def _accept(plan: Plan, cast: Cast) -> None:
    services.case_accept(case=plan.case, actor=cast.handlers.get(plan.case.department_id))


def _handle(plan: Plan, cast: Cast, note: str, photo: bool) -> list[CasePhoto]:
    handler = cast.handlers.get(plan.case.department_id)
    services.case_handle(case=plan.case, actor=handler, note=note)
    # The after-photo comes from the department's phone: only where the department has a demo login.
    return [add_photo(plan, CasePhoto.Kind.AFTER, handler)] if photo and handler else []


def _verify(plan: Plan, cast: Cast, passed: bool, supervisor: bool, reason: str = "") -> None:
    actor = cast.gridleader if supervisor else cast.gridworker
    services.case_verify(case=plan.case, actor=actor, passed=passed, reason=reason)


def _close(plan: Plan, cast: Cast) -> None:
    services.case_close(case=plan.case, actor=cast.dispatcher)


def _callback(plan: Plan, cast: Cast, reached: bool, note: str, solved=None, satisfied=None) -> None:
    services.case_callback(case=plan.case, actor=cast.hotline, reached=reached, solved=solved, satisfied=satisfied,
                           note=note)  # fmt: skip


def _reopen(plan: Plan, cast: Cast, reason: str) -> None:
    services.case_reopen(case=plan.case, actor=cast.dispatcher, reason=reason)


def _ask(plan: Plan, cast: Cast, kind: str, reason: str, amount=None) -> None:
    actor = cast.admins[plan.case.department_id]
    if kind == CaseRequest.Kind.RETURN:
        request = services.case_request_return(case=plan.case, actor=actor, reason=reason)
    elif kind == CaseRequest.Kind.EXTENSION:
        request = services.case_request_extension(case=plan.case, actor=actor, reason=reason, amount=amount,
                                                  unit=Unit.WORKING_DAYS.value)  # fmt: skip
    else:
        request = services.case_request_suspension(case=plan.case, actor=actor, reason=reason)
    plan.pending[kind] = request


def _decide(plan: Plan, cast: Cast, kind: str, approve: bool, note: str) -> None:
    redispatch = plan.category.default_department if approve and kind == CaseRequest.Kind.RETURN else None
    services.case_decide_request(request=plan.pending.pop(kind), actor=cast.dispatcher, approve=approve, note=note,
                                 department=redispatch)  # fmt: skip
    plan.case.refresh_from_db()  # a return changed its department


def _resume(plan: Plan, cast: Cast) -> None:
    services.case_resume(case=plan.case, actor=cast.admins[plan.case.department_id])


def _merge(plan: Plan, cast: Cast) -> None:
    services.case_merge(case=plan.case, into=plan.into.case, actor=cast.dispatcher, reason=MERGE_REASON)


OPS: dict[str, Callable] = {
    "report": _report, "register": _register, "reject": _reject, "dispatch": _dispatch, "accept": _accept,
    "handle": _handle, "verify": _verify, "close": _close, "callback": _callback, "reopen": _reopen, "ask": _ask,
    "decide": _decide, "resume": _resume, "merge": _merge,
}  # fmt: skip


# --- photos ------------------------------------------------------------------------------------

KIND_COLOURS = {CasePhoto.Kind.BEFORE: (176, 84, 52), CasePhoto.Kind.AFTER: (58, 128, 84)}


def add_photo(plan: Plan, kind: str, user) -> CasePhoto:
    """A small JPEG, with the EXIF time and place a phone would write, added through the real service."""
    taken = timezone.localtime(timezone.now()) - datetime.timedelta(minutes=3)
    jpeg = photo_bytes(plan, kind, taken)
    upload = SimpleUploadedFile(f"{kind}.jpg", jpeg, content_type="image/jpeg")
    return case_photo_add(case=plan.case, kind=kind, upload=upload, user=user)


def photo_bytes(plan: Plan, kind: str, taken: datetime.datetime) -> bytes:
    image = Image.new("RGB", (480, 360), KIND_COLOURS[kind])
    draw = ImageDraw.Draw(image)
    rng = random.Random(plan.n)
    for _ in range(6):  # something to look at besides the caption
        x, y = rng.randrange(0, 420), rng.randrange(120, 320)
        shade = tuple(min(255, c + rng.randrange(20, 70)) for c in KIND_COLOURS[kind])
        draw.rectangle((x, y, x + rng.randrange(30, 90), y + rng.randrange(20, 50)), fill=shade)
    font = caption_font()
    lines = [f"{kind.upper()}  {plan.case.number}", f"{plan.category.kind} {plan.category.code}",
             taken.strftime("%Y-%m-%d %H:%M"), f"{plan.lng:.6f}, {plan.lat:.6f}"]  # fmt: skip
    for row, text in enumerate(lines):
        draw.text((16, 14 + row * 30), text, fill="white", font=font)
    exif = Image.Exif()
    exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    exif_ifd[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif_ifd[ExifTags.Base.OffsetTimeOriginal] = taken.strftime("%z")[:3] + ":" + taken.strftime("%z")[3:]
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({ExifTags.GPS.GPSMapDatum: "WGS-84", ExifTags.GPS.GPSLatitudeRef: "N",
                ExifTags.GPS.GPSLatitude: dms(plan.lat), ExifTags.GPS.GPSLongitudeRef: "E",
                ExifTags.GPS.GPSLongitude: dms(plan.lng)})  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


@functools.cache
def caption_font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=26)


def dms(value: float) -> tuple[float, float, float]:
    degrees, rest = divmod(abs(value) * 3600, 3600)
    minutes, seconds = divmod(rest, 60)
    return float(degrees), float(minutes), round(seconds, 3)


# --- words: Chinese demo content that matches the category ------------------------------------

ROADS = ["中山东路", "解放南路", "江东北路", "百丈路", "宁穿路", "兴宁路", "贸城中路", "福明路", "民安路",
         "惊驾路", "姚隘路", "桑田路", "沧海路", "世纪大道", "彩虹北路", "东湖路", "学院路", "湖滨路"]  # fmt: skip
LANDMARKS = ["附近", "路口", "公交站旁", "小区南门", "菜场门口", "学校东侧", "地铁站出口", "便利店门口", "停车场内",
             "沿街商铺前", "桥下", "绿化带旁"]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林"
# Per category (kind, code): what people actually write. Others use the taxonomy's own description.
DETAILS = {
    ("event", "0101"): ["一楼住户在绿化带上违规搭建彩钢棚", "屋顶新搭了一间阳光房，疑似未经审批"],
    ("event", "0102"): ["路边堆着几袋生活垃圾，已经有异味", "垃圾桶旁散落大量垃圾，一直没人清运"],
    ("event", "0103"): ["空地上堆了大量建筑垃圾，好几天了", "渣土堆积成堆，下雨后流到路面"],
    ("event", "0104"): ["路面上有大片油污，行人容易滑倒", "人行道上泥浆很多，没人清扫"],
    ("event", "0105"): ["有人在人行道上堆放砖块和沙子", "广场一角堆满了杂物"],
    ("event", "0106"): ["路边丢弃了一张旧沙发和几个床垫", "有人把旧冰箱扔在垃圾房外"],
    ("event", "0107"): ["墙面被人用喷漆乱涂乱画", "配电箱上被刻画涂写"],
    ("event", "0109"): ["河面漂着很多塑料瓶和泡沫", "河水发黑发臭，岸边有垃圾"],
    ("event", "0108"): ["楼道里堆满了纸箱和旧家具", "楼梯间堆放杂物，影响通行"],
    ("event", "0202"): ["楼顶新装了一块大型广告牌，疑似未审批", "路边立了一个灯箱广告"],
    ("event", "0203"): ["路口有人拦着行人发传单", "有人在地铁口散发健身卡广告"],
    ("event", "0204"): ["天桥上挂了一条商业横幅", "沿街树上挂满了促销彩旗"],
    ("event", "0408"): ["桥面结冰，车辆打滑", "人行道积雪没有清扫"],
    ("event", "0409"): ["整栋楼突然停水，没有看到通知", "家里水压很低，水龙头出水很小"],
    ("event", "0504"): ["电动车停满了人行道", "非机动车堵住了小区出入口"],
    ("event", "0601"): ["新开了一家小吃店，没有营业执照", "有人在车库里开小作坊"],
    ("event", "0602"): ["小饭馆后厨卫生很差", "超市在卖过期的食品"],
    ("event", "0801"): ["邻居之间因漏水问题发生纠纷", "业主和物业因停车费起了争执"],
    ("event", "0901"): ["有人在空地上焚烧垃圾，烟很大", "绿化带里有人烧落叶"],
    ("event", "0902"): ["楼下饭店油烟直接排到居民窗口", "烧烤店油烟很大，没有净化设备"],
    ("event", "1402"): ["小区电梯坏了一周，物业不修", "小区路灯坏了，物业一直不处理"],
    ("event", "1502"): ["建议在路口增设人行横道", "建议增加公交班次"],
    ("event", "1503"): ["路边有一处不明管线裸露", "一处空置商铺门窗破损，无人管理"],
    ("event", "0201"): ["电线杆和墙上贴满了小广告", "单元门口贴了很多开锁、办证小广告"],
    ("event", "0301"): ["工地晚上十点以后还在施工，噪音很大", "凌晨有渣土车进出工地，吵得睡不着"],
    ("event", "0302"): ["工地没有覆盖防尘网，刮风时尘土飞扬", "工地出口车辆没有冲洗，带泥上路"],
    ("event", "0303"): ["渣土车沿路撒落泥土和石子", "路面有一长段砂石遗撒"],
    ("event", "0401"): ["楼道里闻到很浓的燃气味", "路边燃气管道处有嘶嘶的漏气声"],
    ("event", "0403"): ["路边水管爆裂，水往外涌", "人行道下自来水管破裂，路面冒水"],
    ("event", "0404"): ["大雨后路口积水很深，车辆无法通行", "地下通道积水，行人过不去"],
    ("event", "0406"): ["路面突然塌陷出一个大坑", "人行道塌了一个洞，下面是空的"],
    ("event", "0501"): ["有流动摊贩在人行道上摆摊卖水果", "早上路边有人摆摊卖菜，占了半条路"],
    ("event", "0502"): ["沿街商铺把货架摆到门外人行道上", "饭店在门口摆桌子营业"],
    ("event", "0503"): ["几辆汽车长期停在人行道上", "车辆停在消防通道出入口"],
    ("event", "0505"): ["共享单车堆在路口，堵住了盲道", "地铁口共享单车倒了一大片"],
    ("event", "0506"): ["一辆车停在路边一年多没动过，落满灰尘", "小区里有辆废弃面包车，轮胎都瘪了"],
    ("event", "0507"): ["晚上有人在路边露天烧烤，油烟很大", "夜宵摊占道烧烤，烟熏到楼上住户"],
    ("event", "0701"): ["消防通道被私家车和杂物堵住", "楼道安全出口被锁住了"],
    ("event", "0703"): ["有人从楼上拉电线到楼下给电动车充电", "电动车停在楼道里充电"],
    ("event", "0802"): ["广场舞音响声音太大，影响休息", "楼上装修每天很早开始，噪音扰民"],
    ("event", "1001"): ["独居老人几天没出门，邻居很担心", "一位独居老人行动不便，需要上门看看"],
    ("event", "1501"): ["咨询老旧小区加装电梯的办理流程", "咨询居住证办理需要哪些材料"],
    ("component", "0101"): ["车行道上井盖不见了，很危险", "人行道上的井盖移位，露出一个洞"],
    ("component", "0102"): ["井盖破裂，车辆压过去哐哐响", "井盖松动下沉"],
    ("component", "0103"): ["这一段路灯晚上都不亮", "路灯白天一直亮着"],
    ("component", "0201"): ["车行道上有好几个坑，下雨积水", "路面坑洼不平，电动车容易摔倒"],
    ("component", "0202"): ["人行道砖松动，踩上去会溅水", "盲道砖缺了好几块"],
    ("component", "0204"): ["路口红绿灯不亮，交通混乱", "信号灯一直闪黄灯"],
    ("component", "0205"): ["限速标志牌被撞歪了", "指路牌被树枝挡住"],
    ("component", "0206"): ["斑马线磨损得几乎看不见", "车道线模糊不清"],
    ("component", "0208"): ["桥上栏杆断了一截", "桥面伸缩缝破损，车辆经过声音很大"],
    ("component", "0301"): ["垃圾箱破了一个大洞", "路边的果壳箱不见了"],
    ("component", "0303"): ["公厕水龙头坏了，一直在漏水", "公厕冲水设备损坏，无法使用"],
    ("component", "0401"): ["大风后行道树倒在路上，压住了一辆车", "一棵树倒伏，挡住了半条路"],
    ("component", "0402"): ["一棵行道树严重倾斜，快要倒了", "树根翘起，树干向马路倾斜"],
    ("component", "0403"): ["绿地被踩出一条小路", "有人在绿地里种菜"],
    ("component", "0404"): ["树枝挡住了红绿灯，看不清", "树枝伸到居民窗户里"],
    ("component", "0501"): ["雨水箅子不见了，留下一个口子", "雨水口盖板破了"],
    ("component", "0502"): ["下水道堵了，一下雨就漫出来", "小区门口检查井堵塞，污水流不走"],
    ("component", "0503"): ["检查井污水冒出来，流到路面", "化粪池满溢，气味很大"],
}  # fmt: skip
TEMPLATES = {
    GW: ["巡查发现：{where}{detail}。", "{where}{detail}，已拍照上报，请相关部门处理。",
         "网格巡查时发现{where}{detail}。"],
    HL: ["市民来电反映：{where}{detail}，希望尽快处理。", "来电人称{where}{detail}，已持续{days}天，要求处理。",
         "市民反映{where}{detail}，请相关部门核实处理。"],
    Channel.API: ["网上投诉：{where}{detail}。", "市长信箱转办：{where}{detail}，请核实处理。"],
}  # fmt: skip
REJECT_REASONS = ["经核实不属于城市管理事项，已告知来电人向法院起诉。", "属于小区内部物业管理事项，已告知联系物业。",
                  "现场核实问题不存在。", "重复上报，已有案卷在办。"]  # fmt: skip
RETURN_REASONS = ["该点位不在我单位管辖范围内，请改派。", "经现场核实，此事项属于其他部门职责。"]
EXTENSION_REASONS = ["需要采购材料，请求延期。", "涉及多个产权单位，协调需要时间。", "近期连续降雨，无法施工。"]
SUSPENSION_REASONS = ["需等待产权单位确认后方可处置。", "等待道路挖掘许可审批。", "当事人联系不上，需等候其返回。"]
REASONS = {CaseRequest.Kind.RETURN: RETURN_REASONS, CaseRequest.Kind.EXTENSION: EXTENSION_REASONS,
           CaseRequest.Kind.SUSPENSION: SUSPENSION_REASONS}  # fmt: skip
REFUSALS = {
    CaseRequest.Kind.RETURN: ["经核实属于你单位职责，请按时处置。"],
    CaseRequest.Kind.EXTENSION: ["该问题影响通行安全，不同意延期，请尽快处置。"],
    CaseRequest.Kind.SUSPENSION: ["不符合缓办条件，请继续处置。"],
}
HANDLE_NOTES = [
    "已安排人员到场处置完毕。",
    "已清理完毕，现场恢复正常。",
    "已维修，恢复使用。",
    "已责令当事人整改到位。",
]
REWORK_REASONS = ["现场复核问题仍未解决，请返工。", "处置不彻底，现场仍有残留。"]
UNHAPPY_NOTES = ["问题已解决，但处理速度太慢。", "处理人员态度不好。"]
UNSOLVED_NOTES = ["来电人表示问题仍然存在。", "市民称只处理了一半，要求彻底解决。"]
MISSED_NOTES = ["电话无人接听。", "来电人手机关机，稍后再拨。"]
REOPEN_REASONS = ["问题复发，群众再次反映。", "上级督查发现问题未彻底解决。"]
MERGE_REASON = "同一地点同一问题的重复上报，并入在办案卷。"


def describe(plan: Plan) -> str:
    key = (plan.category.kind, plan.category.code)
    detail = pick(DETAILS[key], plan.draw(DRAWS - 2)) if key in DETAILS else _taxonomy_detail(plan.category)
    template = pick(TEMPLATES[plan.channel], plan.draw(DRAWS - 3))
    where = f"{plan.cell.community.name}{pick(ROADS, plan.draw(DRAWS - 4))}{pick(LANDMARKS, plan.draw(DRAWS - 5))}"
    return template.format(where=where, detail=detail, days=2 + int(plan.draw(DRAWS - 6) * 10))


def _taxonomy_detail(category: Category) -> str:
    text = category.description.split("；")[0].split("（")[0] if category.description else ""
    return f"有{category.name}问题：{text}" if text else f"有{category.name}问题"


def address_of(plan: Plan) -> str:
    road, number = pick(ROADS, plan.draw(DRAWS - 4)), 1 + int(plan.draw(DRAWS - 7) * 300)
    community = plan.cell.community
    street = community.parent.name if community.parent_id else ""
    return f"{street}{community.name}{road}{number}号"


def citizen_of(plan: Plan) -> tuple[str, str]:
    surname = pick(SURNAMES, plan.draw(DRAWS - 8))
    title = "先生" if plan.draw(DRAWS - 9) < 0.5 else "女士"
    return f"{surname}{title}", f"13{int(plan.draw(DRAWS - 10) * 1e9):09d}"
