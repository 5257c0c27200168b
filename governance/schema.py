"""The OpenAPI schema tells the truth about errors: every operation names the error answers it can give.

Views declare what is particular to them (a step's 409, a case's 404). The
answers every operation can give whatever it does (no login, no role, a body
too large, a server fault) are added here, all in the one error shape
(governance.errors), so a client generated from the schema expects them.
"""

from drf_spectacular.contrib.rest_framework_gis import GeoFeatureModelSerializerExtension
from rest_framework import serializers


class ErrorOutput(serializers.Serializer):
    class BodySerializer(serializers.Serializer):
        code = serializers.CharField(help_text="e.g. not_found, permission_denied, invalid, conflict, too_large.")
        message = serializers.CharField(help_text="For people, in the caller's language (Chinese by default).")
        details = serializers.JSONField(help_text="Field → messages, for invalid input.")

        class Meta:
            ref_name = "ErrorBody"

    error = BodySerializer()

    class Meta:
        ref_name = "Error"


ERROR_REF = {"$ref": "#/components/schemas/Error"}

# status → (when it applies, description). "body": operations that take a request body (POST, PUT, PATCH);
# "input": those and any with parameters.
COMMON_ERRORS = {
    "400": ("input", "Invalid input or query parameters; `details` names the fields."),
    "401": ("always", "Not logged in."),
    "403": ("always", "Logged in, but without a role here, or not allowed this operation."),
    "404": ("always", "No such object, or not one the caller may see."),
    "405": ("always", "The method is not allowed here."),
    "413": ("body", "The request body is too large."),
    "415": ("body", "The body's media type is not accepted."),
    "429": ("always", "Too many requests or failed sign-ins; try later."),
    "500": ("always", "A fault on the server; it has been logged."),
}


def add_common_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    if "Error" not in result.get("components", {}).get("schemas", {}):
        raise RuntimeError("No operation references governance.schema.ErrorOutput; the common errors need it.")
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            # A POST with an empty body is still parsed: a body of another type answers 415.
            takes_body = method in ("post", "put", "patch") or "requestBody" in operation
            takes_input = bool(operation.get("parameters")) or takes_body
            responses = operation.setdefault("responses", {})
            for status, (applies, description) in COMMON_ERRORS.items():
                relevant = applies == "always" or (applies == "body" and takes_body)
                relevant = relevant or (applies == "input" and takes_input)
                if relevant and status not in responses:
                    responses[status] = {
                        "content": {"application/json": {"schema": ERROR_REF}},
                        "description": description,
                    }
    return result



class GeoFeatureExtension(GeoFeatureModelSerializerExtension):
    """A feature whose model allows no geometry (a region drawn later) says its geometry may be null."""

    priority = 1  # before drf-spectacular's own, which it extends

    def map_geo_feature_model_serializer(self, serializer, base_schema):
        schema = super().map_geo_feature_model_serializer(serializer, base_schema)
        if serializer.Meta.model._meta.get_field(serializer.Meta.geo_field).null:
            schema["properties"]["geometry"]["nullable"] = True
        return schema
