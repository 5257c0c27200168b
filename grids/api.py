"""REST endpoints of the unified grid, mounted at /api/grids/: one view per endpoint.

Everyone with a role may read the grid, drafts included (governance.roles gives
every role the grid's view permissions); anonymous requests get 401/403, a
login without a role (an outsider) 403. Coordinates are WGS84 lng/lat in and out.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from governance.api import FeaturePagination, HasRole
from grids import selectors
from grids.models import Cell, CellAssignment, CrosswalkEntry, GridVersion


class GridApi:
    """What every grid endpoint asks of the caller."""

    permission_classes = [IsAuthenticated, HasRole]


class VersionQuerySerializer(serializers.Serializer):
    version = serializers.PrimaryKeyRelatedField(
        queryset=GridVersion.objects.all(), required=False, help_text="A grid version id; default: the active one."
    )

    class Meta:
        ref_name = "GridVersionQuery"


def version_from_query(request) -> GridVersion:
    params = VersionQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data.get("version") or _active_version()


def _active_version() -> GridVersion:
    version = selectors.active_version()
    if version is None:
        raise exceptions.NotFound(_("No grid version is active yet; pass ?version= to read a draft."))
    return version


class GridLookupApi(GridApi, APIView):
    """The cell of a point (WGS84); a point on a shared edge or corner gets the lowest code."""

    class InputSerializer(VersionQuerySerializer):
        lat = serializers.FloatField(min_value=-90, max_value=90, help_text="WGS84 latitude, degrees.")
        lng = serializers.FloatField(min_value=-180, max_value=180, help_text="WGS84 longitude, degrees.")

        class Meta:
            ref_name = "GridLookupQuery"

    class OutputSerializer(serializers.Serializer):
        cell = serializers.CharField(allow_null=True, help_text="15-digit code; null outside the grid.")
        version = serializers.IntegerField()
        community = serializers.CharField(allow_null=True, help_text="12-digit community code.")

        class Meta:
            ref_name = "GridLookup"

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        version = params.validated_data.get("version") or _active_version()
        lat, lng = params.validated_data["lat"], params.validated_data["lng"]
        cell = selectors.cell_lookup(lng=lng, lat=lat, version=version)
        data = {"cell": None, "version": version.pk, "community": None}
        if cell is not None:
            data |= {"cell": cell.code, "community": cell.community.code}
        return Response(self.OutputSerializer(data).data)


class GridVersionListApi(GridApi, ListAPIView):
    """Grid versions, newest first."""

    class OutputSerializer(serializers.ModelSerializer):
        layers = serializers.StringRelatedField(many=True, help_text='Input layers, e.g. "CG v2".')

        class Meta:
            model = GridVersion
            ref_name = "GridVersionSummary"
            fields = ["id", "status", "created_at", "activated_at", "cell_count", "sliver_area_m2", "sliver_width_m",
                      "layers"]  # fmt: skip

    serializer_class = OutputSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        return selectors.grid_versions()


class GridVersionDetailApi(GridApi, RetrieveAPIView):
    """One grid version, with the number of conflicts of each kind its run reported."""

    class OutputSerializer(serializers.ModelSerializer):
        layers = serializers.StringRelatedField(many=True, help_text='Input layers, e.g. "CG v2".')
        created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
        conflict_summary = serializers.SerializerMethodField(help_text="Conflicts per kind, e.g. gap, self_overlap.")

        class Meta:
            model = GridVersion
            ref_name = "GridVersion"
            fields = [
                "id", "status", "created_at", "created_by", "activated_at", "retired_at", "cell_count",
                "sliver_area_m2", "sliver_width_m", "input_digest", "layers", "conflict_summary",
            ]  # fmt: skip

        def get_conflict_summary(self, version) -> dict[str, int]:
            return selectors.conflict_summary(version)

    serializer_class = OutputSerializer

    def get_queryset(self):
        return selectors.grid_versions().select_related("created_by")


class CellsPagination(FeaturePagination):
    page_size = 500
    max_page_size = 5000  # a whole 100,000-cell version would be ~30 MB in one answer


class GridVersionCellsApi(GridApi, ListAPIView):
    """The cells of a version as GeoJSON, by code; ?in_bbox= keeps the cells that meet the box."""

    class FilterSerializer(serializers.Serializer):
        community = serializers.RegexField(r"^\d{12}$", required=False, help_text="12-digit community code.")
        in_bbox = serializers.CharField(required=False, help_text="min_lng,min_lat,max_lng,max_lat (WGS84).")

        class Meta:
            ref_name = "GridCellsFilter"

        def validate_in_bbox(self, value):
            try:
                bbox = tuple(serializers.FloatField().to_internal_value(part) for part in value.split(","))
            except serializers.ValidationError:
                bbox = ()
            if len(bbox) != 4 or not (bbox[0] <= bbox[2] and bbox[1] <= bbox[3]):
                raise serializers.ValidationError(_("Give four numbers: min_lng,min_lat,max_lng,max_lat."))
            if not (-180 <= bbox[0] and bbox[2] <= 180 and -90 <= bbox[1] and bbox[3] <= 90):
                raise serializers.ValidationError(_("The box must lie within -180..180, -90..90."))
            return bbox

    class OutputSerializer(GeoFeatureModelSerializer):
        community_code = serializers.CharField(source="community.code")

        class Meta:
            model = Cell
            ref_name = "GridCellFeature"
            geo_field = "geometry"
            id_field = False
            fields = ["code", "community_code", "area_m2"]

    serializer_class = OutputSerializer
    pagination_class = CellsPagination
    filter_backends = []  # filtered in get_queryset, where the version's cells are chosen

    @extend_schema(parameters=[FilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        version = get_object_or_404(GridVersion, pk=self.kwargs["pk"])
        params = self.FilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.version_cells(
            version=version,
            community_code=params.validated_data.get("community"),
            bbox=params.validated_data.get("in_bbox"),
        )


class GridCellApi(GridApi, APIView):
    """One cell as a GeoJSON Feature, with its crosswalk and who answers for it on the ground."""

    class OutputSerializer(GeoFeatureModelSerializer):
        class CrosswalkSerializer(serializers.ModelSerializer):
            department = serializers.CharField(source="department.code")
            polygon_code = serializers.CharField(source="polygon.code")
            polygon_name = serializers.CharField(source="polygon.name")

            class Meta:
                model = CrosswalkEntry
                ref_name = "GridCellCrosswalk"
                fields = ["department", "polygon_code", "polygon_name", "share"]

        class AssigneeSerializer(serializers.ModelSerializer):
            username = serializers.CharField(source="user.username")
            name = serializers.CharField(source="user.get_full_name")

            class Meta:
                model = CellAssignment
                ref_name = "GridCellAssignee"
                fields = ["username", "name", "duty"]

        version = serializers.IntegerField(source="version_id")
        community_code = serializers.CharField(source="community.code")
        fallback_owner = serializers.SlugRelatedField(
            slug_field="code", read_only=True, help_text="Set when no department's layer covers the cell."
        )
        # Both read the prefetches of selectors.cell_detail, in their order.
        crosswalk = CrosswalkSerializer(many=True, read_only=True)
        assignees = AssigneeSerializer(source="assignments", many=True, read_only=True)

        class Meta:
            model = Cell
            ref_name = "GridCell"
            geo_field = "geometry"
            id_field = False
            fields = ["code", "version", "community_code", "area_m2", "fallback_owner", "crosswalk", "assignees"]

    @extend_schema(parameters=[VersionQuerySerializer], responses=OutputSerializer)
    def get(self, request, code):
        cell = selectors.cell_detail(code=code, version=version_from_query(request))
        if cell is None:
            raise exceptions.NotFound(_("No cell %(code)s in that version.") % {"code": code})
        return Response(self.OutputSerializer(cell).data)
