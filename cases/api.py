"""REST endpoints of cases, mounted at /api/cases/: one view per endpoint.

Refusals come in a fixed order: no login 401/403, a login without a role 403,
a case the caller may not see 404 (whether or not it exists), a step that is
not the caller's to take 403, bad input 400, a step the case's state does not
allow 409. Coordinates are WGS84 lng/lat in and out.
"""

from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import photos, selectors, services
from cases.models import UNIT_CHOICES, Case, CaseEvent, CasePhoto, CaseRequest, Category, Severity
from cases.services import CaseTransitionError
from governance.api import HasRole, TextField
from governance.models import Department
from governance.schema import ErrorOutput
from governance.text import DESCRIPTION_TEXT, NOTE_TEXT, SHORT_TEXT


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = _("The case's state does not allow this step now.")


class CaseApi:
    """What every case endpoint asks of the caller."""

    permission_classes = [IsAuthenticated, HasRole]


def visible_case(request, pk: int) -> Case:
    case = selectors.case_detail(user=request.user, pk=pk)
    if case is None:
        raise exceptions.NotFound(_("No such case, or not one you may see."))
    return case


def refuse_unless(allowed: bool) -> None:
    if not allowed:
        raise exceptions.PermissionDenied(_("This step on this case is not yours to take."))


# --- Output ------------------------------------------------------------------------


class LngLatOutput(serializers.Serializer):
    lng = serializers.FloatField()
    lat = serializers.FloatField()

    class Meta:
        ref_name = "LngLat"


def lnglat(point) -> dict | None:
    if point is None:
        return None
    if point.srid != 4326:
        point = point.transform(4326, clone=True)
    return {"lng": point.x, "lat": point.y}


class CategoryOutput(serializers.ModelSerializer):
    class Meta:
        model = Category
        ref_name = "CaseCategory"
        fields = ["kind", "code", "name"]


class CaseSummaryOutput(serializers.ModelSerializer):
    category = CategoryOutput(read_only=True, allow_null=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    cell = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    location = serializers.SerializerMethodField()
    current_stage = serializers.CharField(read_only=True, allow_null=True)
    current_due = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Case
        ref_name = "CaseSummary"
        fields = [
            "id", "number", "status", "severity", "channel", "category", "department", "cell", "address",
            "description", "location", "sla_level", "current_stage", "current_due", "created_at", "updated_at",
            "closed_at",
        ]  # fmt: skip

    @extend_schema_field(LngLatOutput(allow_null=True))
    def get_location(self, case):
        return lnglat(case.location)


class CaseOutput(CaseSummaryOutput):
    """A case with its history and photos; the caller's contact only for those who work on it."""

    class CitizenSerializer(serializers.Serializer):
        name = serializers.CharField()
        phone = serializers.CharField()

        class Meta:
            ref_name = "CaseCitizen"

    class EventSerializer(serializers.ModelSerializer):
        actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

        class Meta:
            model = CaseEvent
            ref_name = "CaseEvent"
            fields = ["action", "from_status", "to_status", "actor", "reason", "data", "created_at"]

    class PhotoSerializer(serializers.ModelSerializer):
        url = serializers.SerializerMethodField(help_text="Served to those who may see the case; never public.")
        uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
        taken_where = serializers.SerializerMethodField(help_text="From the photo's EXIF GPS, when it had one.")

        class Meta:
            model = CasePhoto
            ref_name = "CasePhoto"
            fields = ["id", "kind", "url", "taken_at", "taken_where", "uploaded_by", "created_at"]

        def get_url(self, photo) -> str:
            url = reverse("cases:photo", args=[photo.pk])
            request = self.context.get("request")
            return request.build_absolute_uri(url) if request else url

        @extend_schema_field(LngLatOutput(allow_null=True))
        def get_taken_where(self, photo):
            return lnglat(photo.taken_where)

    class RequestSerializer(serializers.ModelSerializer):
        requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
        decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

        class Meta:
            model = CaseRequest
            ref_name = "CaseRequest"
            fields = ["id", "kind", "decision", "reason", "amount", "unit", "requested_by", "created_at",
                      "decided_by", "decided_at", "decision_note"]  # fmt: skip

    reporter = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    citizen = serializers.SerializerMethodField()
    requests = RequestSerializer(many=True, read_only=True, help_text="Returns, extensions, suspensions.")
    merged_into = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    events = EventSerializer(many=True, read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)

    class Meta(CaseSummaryOutput.Meta):
        ref_name = "Case"
        fields = [
            *CaseSummaryOutput.Meta.fields, "reporter", "citizen", "grid_version", "registration_due",
            "dispatch_due", "handling_due", "verification_due", "callback_due", "suspended_at", "extension_count",
            "merged_into", "external_system", "external_id", "dispatched_at", "response_due", "accepted_at",
            "handled_at", "rework_count", "verified_at", "callback_at", "callback_solved", "callback_satisfied",
            "events", "photos", "requests",
        ]  # fmt: skip

    @extend_schema_field(CitizenSerializer(allow_null=True))
    def get_citizen(self, case):
        request = self.context["request"]
        if not (case.citizen_name or case.citizen_phone) or not selectors.can_see_contact(request.user, case):
            return None
        return {"name": case.citizen_name, "phone": case.citizen_phone}


def case_response(request, case: Case, *, http_status=status.HTTP_200_OK) -> Response:
    return Response(CaseOutput(case, context={"request": request}).data, status=http_status)


# --- Input -------------------------------------------------------------------------


class CategoryInput(serializers.Serializer):
    """Kind and code together name a category: event 0102 and component 0102 are different ones."""

    category_kind = serializers.ChoiceField(choices=Category.Kind.choices, required=False)
    category_code = serializers.RegexField(r"^\d{4}$", required=False, help_text="4 digits, e.g. 0102.")

    def validate(self, attrs):
        kind, code = attrs.pop("category_kind", None), attrs.pop("category_code", None)
        if kind is None and code is None:
            return attrs
        if kind is None or code is None:
            raise serializers.ValidationError({"category_code": [_("Give the category's kind and code together.")]})
        attrs["category"] = Category.objects.filter(kind=kind, code=code, is_active=True).first()
        if attrs["category"] is None:
            raise serializers.ValidationError({"category_code": [_("No such category, or it is no longer in use.")]})
        return attrs


def department_field(**kw):
    kw.setdefault("help_text", "2 letters, e.g. CG.")
    return serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.filter(is_active=True), **kw)


# --- Endpoints ---------------------------------------------------------------------


class CaseListApi(CaseApi, ListAPIView):
    """The cases the caller may see, newest first."""

    serializer_class = CaseSummaryOutput
    filterset_class = selectors.CaseFilter

    def get_queryset(self):
        return selectors.case_list(user=self.request.user)


class CaseDetailApi(CaseApi, APIView):
    """One case with its history (全流程留痕) and photos."""

    @extend_schema(responses={200: CaseOutput, 404: ErrorOutput})
    def get(self, request, pk):
        return case_response(request, visible_case(request, pk))


class CaseCreateApi(CaseApi, APIView):
    """上报: file a report. The channel follows the caller's role; the grid cell is looked up from lng/lat."""

    class InputSerializer(CategoryInput):
        description = TextField(max_length=DESCRIPTION_TEXT)
        lng = serializers.FloatField(required=False, min_value=-180, max_value=180, help_text="WGS84 longitude.")
        lat = serializers.FloatField(required=False, min_value=-90, max_value=90, help_text="WGS84 latitude.")
        address = TextField(required=False, allow_blank=True, max_length=SHORT_TEXT)
        severity = serializers.ChoiceField(choices=Severity.choices, required=False)
        citizen_name = TextField(required=False, allow_blank=True, max_length=60)
        citizen_phone = TextField(required=False, allow_blank=True, max_length=20)

        class Meta:
            ref_name = "CaseCreateInput"

        def validate(self, attrs):
            if ("lng" in attrs) != ("lat" in attrs):
                raise serializers.ValidationError({"location": [_("Give both lng and lat, or neither.")]})
            return super().validate(attrs)

    @extend_schema(
        operation_id="cases_create", request=InputSerializer,
        responses={201: CaseOutput, 400: ErrorOutput, 403: ErrorOutput},
    )  # fmt: skip
    def post(self, request):
        refuse_unless(selectors.can_report(request.user))
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        case = services.case_report(
            channel=selectors.report_channel_of(request.user), reporter=request.user, **params.validated_data
        )
        return case_response(request, selectors.case_after_change(pk=case.pk), http_status=status.HTTP_201_CREATED)


class TransitionApi(CaseApi, APIView):
    """A POST endpoint of the lifecycle. A subclass names its step, its service and its input; that is all.

    The service gets `case`, `actor` and the validated input as keyword arguments.
    """

    action: str
    service = None  # staticmethod(services.case_<step>)
    InputSerializer: type[serializers.Serializer]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)

        # Each step its own method, so the schema of one does not leak into another.
        def post(self, request, pk):
            return self.transition(request, pk)

        responses = {200: CaseOutput, 400: ErrorOutput, 403: ErrorOutput, 404: ErrorOutput, 409: ErrorOutput}
        schema = extend_schema(operation_id=f"cases_{cls.action}", request=cls.InputSerializer, responses=responses)
        cls.post = schema(post)

    def transition(self, request, pk):
        case = visible_case(request, pk)
        refuse_unless(selectors.can_act(request.user, case, self.action))
        params = self.InputSerializer(data=request.data, context={"case": case, "request": request})
        params.is_valid(raise_exception=True)
        try:
            self.service(case=case, actor=request.user, **params.validated_data)
        except CaseTransitionError as error:
            raise Conflict(str(error)) from error
        return case_response(request, selectors.case_after_change(pk=case.pk))


class CaseRegisterApi(TransitionApi):
    """立案: the report is a case of this category; severity and department default from it."""

    action, service = "register", staticmethod(services.case_register)

    class InputSerializer(CategoryInput):
        category_kind = serializers.ChoiceField(choices=Category.Kind.choices)
        category_code = serializers.RegexField(r"^\d{4}$", help_text="4 digits, e.g. 0102.")
        severity = serializers.ChoiceField(choices=Severity.choices, required=False)
        department = department_field(required=False)

        class Meta:
            ref_name = "CaseRegisterInput"


class CaseRejectApi(TransitionApi):
    """不予立案: not a case for the city, with the reason."""

    action, service = "reject", staticmethod(services.case_reject)

    class InputSerializer(serializers.Serializer):
        reason = TextField(max_length=NOTE_TEXT)

        class Meta:
            ref_name = "CaseRejectInput"


class CaseDispatchApi(TransitionApi):
    """派遣: to the department given, or the one registration chose."""

    action, service = "dispatch", staticmethod(services.case_dispatch)

    class InputSerializer(serializers.Serializer):
        department = department_field(required=False)

        class Meta:
            ref_name = "CaseDispatchInput"


class CaseHandleApi(TransitionApi):
    """处置: the department reports the problem solved."""

    action, service = "handle", staticmethod(services.case_handle)

    class InputSerializer(serializers.Serializer):
        note = TextField(required=False, allow_blank=True, max_length=NOTE_TEXT)

        class Meta:
            ref_name = "CaseHandleInput"


class CaseVerifyApi(TransitionApi):
    """核查: on site, solved (passed) or not (返工, back to the department; give the reason)."""

    action, service = "verify", staticmethod(services.case_verify)

    class InputSerializer(serializers.Serializer):
        passed = serializers.BooleanField()
        reason = TextField(required=False, allow_blank=True, max_length=NOTE_TEXT)

        class Meta:
            ref_name = "CaseVerifyInput"


class CaseCloseApi(TransitionApi):
    """结案."""

    action, service = "close", staticmethod(services.case_close)

    class InputSerializer(serializers.Serializer):
        reason = TextField(required=False, allow_blank=True, max_length=NOTE_TEXT)

        class Meta:
            ref_name = "CaseCloseInput"


class CaseAcceptApi(TransitionApi):
    """签收: the department acknowledges the case dispatched to it."""

    action, service = "accept", staticmethod(services.case_accept)

    class InputSerializer(serializers.Serializer):
        note = TextField(required=False, allow_blank=True, max_length=NOTE_TEXT)

        class Meta:
            ref_name = "CaseAcceptInput"


class ReasonInput(serializers.Serializer):
    reason = TextField(max_length=NOTE_TEXT, help_text="Kept in the case's history.")

    class Meta:
        ref_name = "CaseReasonInput"


class CaseRequestReturnApi(TransitionApi):
    """退单: the department disputes the assignment (within the return window); the command centre decides."""

    action, service, InputSerializer = "request_return", staticmethod(services.case_request_return), ReasonInput


class CaseRequestSuspensionApi(TransitionApi):
    """缓办: the department asks to stop the clock; the command centre decides."""

    action, service, InputSerializer = "request_suspension", staticmethod(services.case_request_suspension), ReasonInput


class CaseRequestExtensionApi(TransitionApi):
    """延期: the department asks for more time to handle the case; the command centre decides."""

    action, service = "request_extension", staticmethod(services.case_request_extension)

    class InputSerializer(ReasonInput):
        amount = serializers.DecimalField(max_digits=7, decimal_places=2, min_value=Decimal("0.01"))
        unit = serializers.ChoiceField(choices=UNIT_CHOICES)

        class Meta:
            ref_name = "CaseRequestExtensionInput"


def _decide(*, case: Case, actor, request: CaseRequest, **decision):
    return services.case_decide_request(request=request, actor=actor, **decision)


class CaseDecideApi(TransitionApi):
    """The command centre approves or refuses (with a note) a pending request of this case."""

    action, service = "decide_request", staticmethod(_decide)

    class InputSerializer(serializers.Serializer):
        request = serializers.IntegerField(help_text="The request's id, from the case's requests.")
        approve = serializers.BooleanField()
        note = TextField(required=False, allow_blank=True, max_length=NOTE_TEXT, help_text="Required when refusing.")
        department = department_field(required=False, help_text="An approved return: re-dispatch here at once.")

        class Meta:
            ref_name = "CaseDecideInput"

        def validate_request(self, pk):
            request = CaseRequest.objects.filter(pk=pk, case_id=self.context["case"].pk).first()
            if request is None:
                raise serializers.ValidationError(_("This case has no such request."))
            return request


class CaseResumeApi(TransitionApi):
    """缓办 ends: the clock runs again, the paused working time credited."""

    action, service = "resume", staticmethod(services.case_resume)

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CaseResumeInput"


class CaseMergeApi(TransitionApi):
    """并单: this case reports the same problem as another open case; it closes and points there."""

    action, service = "merge", staticmethod(services.case_merge)

    class InputSerializer(ReasonInput):
        into = serializers.SlugRelatedField(slug_field="number", queryset=Case.objects.all(),
                                            help_text="The number of the case to merge into.")  # fmt: skip

        class Meta:
            ref_name = "CaseMergeInput"


class CaseReopenApi(TransitionApi):
    """A closed case comes back to its department with a fresh handling clock."""

    action, service, InputSerializer = "reopen", staticmethod(services.case_reopen), ReasonInput


class CaseCallbackApi(TransitionApi):
    """回访: the citizen's answer; solved closes the case, not solved sends it back; not reached is recorded."""

    action, service = "callback", staticmethod(services.case_callback)

    class InputSerializer(serializers.Serializer):
        reached = serializers.BooleanField()
        solved = serializers.BooleanField(required=False, allow_null=True, default=None)
        satisfied = serializers.BooleanField(required=False, allow_null=True, default=None)
        note = TextField(required=False, allow_blank=True, max_length=NOTE_TEXT)

        class Meta:
            ref_name = "CaseCallbackInput"


TRANSITIONS: list[type[TransitionApi]] = [
    CaseRegisterApi, CaseRejectApi, CaseDispatchApi, CaseAcceptApi, CaseHandleApi, CaseVerifyApi, CaseCloseApi,
    CaseRequestReturnApi, CaseRequestExtensionApi, CaseRequestSuspensionApi, CaseDecideApi, CaseResumeApi,
    CaseMergeApi, CaseReopenApi, CaseCallbackApi,
]  # fmt: skip


class CasePhotoUploadApi(CaseApi, APIView):
    """Add a photo (multipart): JPEG, PNG or WebP; its EXIF time and GPS position are kept."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=CasePhoto.Kind.choices)
        image = serializers.FileField(help_text=f"At most {photos.MAX_BYTES // 2**20} MB.")

        class Meta:
            ref_name = "CasePhotoUploadInput"

    @extend_schema(
        operation_id="cases_photo_upload",
        request=InputSerializer,
        responses={201: CaseOutput.PhotoSerializer, 400: ErrorOutput, 403: ErrorOutput, 404: ErrorOutput},
    )
    def post(self, request, pk):
        case = visible_case(request, pk)
        refuse_unless(selectors.can_work_on(request.user, case))
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        photo = photos.case_photo_add(
            case=case, kind=params.validated_data["kind"], upload=params.validated_data["image"], user=request.user
        )
        output = CaseOutput.PhotoSerializer(photo, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)
