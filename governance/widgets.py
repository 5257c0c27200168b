"""The GIS map widget of the admin, working without the internet.

Django's widget loads OpenLayers from a CDN and draws OpenStreetMap tiles;
neither is reachable from a government network. This one serves the same
OpenLayers build from our static files and shows no base map unless
MAP_TILE_URL names a tile server the deployment can reach.
"""

from django.conf import settings
from django.contrib.gis.forms.widgets import OSMWidget


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

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["tile_url"] = settings.MAP_TILE_URL
        context["tile_attribution"] = settings.MAP_TILE_ATTRIBUTION
        return context
