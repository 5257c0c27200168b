/* Read-only maps of the admin pages (a layer's polygons, a cell, a version's
 * conflicts over its cells). Each .grids-map names a json_script element with
 * {layers: [{url | data, style, fit, numbered}], center, zoom, tileUrl}. */
(function () {
  'use strict';
  const S = window.gridStyles;
  const format = new ol.format.GeoJSON({featureProjection: 'EPSG:3857'});
  window.gridMaps = window.gridMaps || {};

  function styleFor(spec) {
    if (spec.style === 'cells') return S.cellStyle;
    if (spec.style === 'conflicts') return S.conflictStyle(Boolean(spec.numbered));
    if (spec.style === 'polygons') return S.polygonStyle('#0b5cad');
    return S.focusStyle;
  }

  function init(element) {
    const config = JSON.parse(document.getElementById(element.dataset.config).textContent);
    const status = document.querySelector('[data-status-for="' + element.id + '"]');
    const view = new ol.View({center: ol.proj.fromLonLat(config.center), zoom: config.zoom});
    const map = new ol.Map({target: element, layers: S.baseLayers(config), view: view});
    const fitted = [];
    const sources = {};

    function refit() {
      const extent = ol.extent.createEmpty();
      fitted.forEach(function (source) { ol.extent.extend(extent, source.getExtent()); });
      if (!ol.extent.isEmpty(extent)) view.fit(extent, {padding: [24, 24, 24, 24], maxZoom: 18});
    }

    config.layers.forEach(function (spec) {
      const source = spec.url
        ? new ol.source.Vector({url: spec.url, format: format})
        : new ol.source.Vector({features: format.readFeatures(spec.data)});
      if (spec.url) {
        source.on('featuresloadend', refit);
        source.on('featuresloaderror', function () {
          if (status) status.textContent = status.dataset.error;
        });
      }
      if (spec.fit) fitted.push(source);
      sources[spec.style] = source;
      map.addLayer(new ol.layer.Vector({source: source, style: styleFor(spec)}));
    });
    refit();
    window.gridMaps[element.id] = {map: map, sources: sources};
  }

  // Links with data-zoom (the conflict list) show their item on the page's conflict map.
  document.addEventListener('click', function (event) {
    const link = event.target.closest('[data-zoom]');
    const entry = window.gridMaps['conflict-map'];
    if (!link || !entry || !entry.sources.conflicts) return;
    const feature = entry.sources.conflicts.getFeatureById(Number(link.dataset.zoom));
    if (feature) entry.map.getView().fit(feature.getGeometry(), {padding: [60, 60, 60, 60], maxZoom: 19, duration: 300});
  });

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('.grids-map[data-config]').forEach(init);
  });
})();
