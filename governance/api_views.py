"""REST endpoints of the organisation: one view per endpoint."""

import datetime

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from governance import selectors
from governance.api import FeaturePagination, HasRole
from governance.calendar import CalendarError, Unit, get_calendar
from governance.models import Department, Region

# Deadlines of cases: none starts before the product existed or a century from now.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        name = serializers.CharField()
        role = serializers.CharField(allow_null=True)
        department = serializers.CharField(allow_null=True)
        region = serializers.CharField(allow_null=True)

        class Meta:
            ref_name = "Me"

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        profile = selectors.profile_of(request.user)
        role = selectors.role_of(request.user)
        data = {
            "username": request.user.get_username(),
            "name": request.user.get_full_name(),
            "role": role.value if role else None,
            "department": profile.department.code if profile and profile.department else None,
            "region": profile.region.code if profile and profile.region else None,
        }
        return Response(self.OutputSerializer(data).data)


class DepartmentListApi(ListAPIView):
    permission_classes = [IsAuthenticated, HasRole]  # reference data, for staff only

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Department
            ref_name = "Department"
            fields = ["code", "name", "duties", "contact_phone", "contact_email", "address", "is_active"]

    serializer_class = OutputSerializer
    queryset = Department.objects.order_by("code")
    filterset_fields = ["is_active"]
    pagination_class = None


class RegionListApi(ListAPIView):
    """Districts, streets and communities as GeoJSON features (boundary may be null)."""

    permission_classes = [IsAuthenticated, HasRole]  # reference data, for staff only

    class OutputSerializer(GeoFeatureModelSerializer):
        parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

        class Meta:
            model = Region
            ref_name = "Region"
            geo_field = "boundary"
            fields = ["code", "name", "level", "parent"]

    serializer_class = OutputSerializer
    queryset = Region.objects.select_related("parent").order_by("code")
    pagination_class = FeaturePagination
    filterset_fields = ["level", "parent__code"]


class DeadlineApi(APIView):
    """The deadline `amount` units after `start`, on the working calendar."""

    permission_classes = [IsAuthenticated, HasRole]  # reference data, for staff only

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DeadlineQuery"

        start = serializers.DateTimeField(help_text="ISO 8601 with offset, e.g. 2026-09-30T16:00:00+08:00")
        amount = serializers.DecimalField(max_digits=9, decimal_places=3, min_value=0)
        unit = serializers.ChoiceField(choices=[u.value for u in Unit])

        def validate_start(self, start):
            if not FIRST_YEAR <= start.year <= LAST_YEAR:
                raise serializers.ValidationError(
                    _("Give a start between %(first)d and %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
                )
            return start

    class OutputSerializer(serializers.Serializer):
        start = serializers.CharField()
        deadline = serializers.CharField()
        working_time_seconds = serializers.IntegerField()

        class Meta:
            ref_name = "Deadline"

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        calendar = get_calendar()
        start = params.validated_data["start"]
        try:
            deadline = calendar.add(start, params.validated_data["amount"], params.validated_data["unit"])
        except CalendarError as exc:
            raise serializers.ValidationError({"start": [str(exc)]}) from exc
        local_start = start.astimezone(deadline.tzinfo)
        return Response(
            self.OutputSerializer(
                {
                    "start": local_start.isoformat(),
                    "deadline": deadline.isoformat(),
                    "working_time_seconds": int(
                        calendar.working_between(local_start, deadline) / datetime.timedelta(seconds=1)
                    ),
                }
            ).data
        )
