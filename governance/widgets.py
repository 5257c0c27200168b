"""The GIS map widget of the admin, working without the internet.

Django's widget loads OpenLayers from a CDN and draws OpenStreetMap tiles;
neither is reachable from a government network. This one serves the same
OpenLayers build from our static files and shows no base map unless
MAP_TILE_URL names a tile server the deployment can reach.

What it sends back is read by governance.geotext, never by GEOSGeometry
directly: Django's widget hands the text to GEOS unchecked, and GEOS aborts
the process on coordinates like ±1e300.
"""

from django.conf import settings
from django.contrib.gis.forms.widgets import OSMWidget
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from governance.geocheck import GeometryError
from governance.geotext import geometry_from_text


class OfflineMapWidget(OSMWidget):
    template_name = "gis/offline-openlayers.html"

    class Media:
        extend = False
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol/ol.js", "gis/js/OLMapWidget.js")

    def __init__(self, attrs=None):
        lon, lat = settings.MAP_DEFAULT_CENTER
        super().__init__(
            {"default_lon": lon, "default_lat": lat, "default_zoom": settings.MAP_DEFAULT_ZOOM} | (attrs or {})
        )

    def deserialize(self, value):
        # Raised, not None as in Django: the form field then shows why, not "Invalid geometry value".
        try:
            return geometry_from_text(value, geom_type=self.attrs["geom_type"], map_srid=self.attrs["map_srid"])
        except GeometryError as error:
            raise ValidationError(_("Geometry refused: %(reason)s") % {"reason": error}, code="invalid_geom") from error

    def get_context(self, name, value, attrs):
        if isinstance(value, str):
            # The text sent, shown again after a form error: a refused one is not drawn.
            try:
                value = self.deserialize(value) if value else None
            except ValidationError:
                value = None
        context = super().get_context(name, value, attrs)
        context["tile_url"] = settings.MAP_TILE_URL
        context["tile_attribution"] = settings.MAP_TILE_ATTRIBUTION
        return context
