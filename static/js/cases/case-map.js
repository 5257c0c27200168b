/* The command centre's map of open cases: a dot per case, coloured by severity
 * (ringed red when overdue), click or Enter on a dot's link for the case. */
(function () {
  'use strict';
  const COLOURS = {critical: '#a40e26', urgent: '#d4570b', normal: '#1f5fa8', minor: '#5a8f29'};
  const styles = {};
  function styleFor(feature) {
    const p = feature.getProperties();
    const key = p.severity + ':' + p.sla_level;
    if (!styles[key]) {
      styles[key] = new ol.style.Style({
        image: new ol.style.Circle({
          radius: p.severity === 'critical' ? 8 : 6,
          fill: new ol.style.Fill({color: COLOURS[p.severity] || '#555'}),
          stroke: new ol.style.Stroke({color: p.sla_level === 'red' ? '#ff0000' : '#ffffff', width: p.sla_level === 'red' ? 3 : 1.5}),
        }),
        zIndex: 10 - (p.severity_rank || 0),
      });
    }
    return styles[key];
  }
  document.addEventListener('DOMContentLoaded', function () {
    const element = document.getElementById('case-map');
    if (!element) return;
    const config = JSON.parse(document.getElementById('case-map-config').textContent);
    const status = document.getElementById('case-map-status');
    const format = new ol.format.GeoJSON({featureProjection: 'EPSG:3857'});
    const source = new ol.source.Vector();
    const shown = new Set(Array.from(document.querySelectorAll('#severity-filter input:checked')).map(function (i) { return i.value; }));
    const view = new ol.View({center: ol.proj.fromLonLat(config.center), zoom: config.zoom});
    const outlines = new ol.layer.Vector({
      source: new ol.source.Vector({features: format.readFeatures(config.communities)}),
      style: function (f) {
        return new ol.style.Style({
          stroke: new ol.style.Stroke({color: '#8c959f', width: 1.2}),
          fill: new ol.style.Fill({color: 'rgba(255,255,255,0.6)'}),
          text: new ol.style.Text({text: f.get('name'), font: '12px sans-serif', fill: new ol.style.Fill({color: '#57606a'}),
                                   overflow: false}),
        });
      },
    });
    const map = new ol.Map({
      target: element, view: view,
      layers: window.gridStyles.baseLayers(config).concat([outlines, new ol.layer.Vector({
        source: source,
        style: function (f) { return shown.has(f.get('severity')) ? styleFor(f) : null; },
      })]),
    });
    fetch(config.url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        source.addFeatures(format.readFeatures(data));
        if (data.truncated) status.textContent = status.dataset.truncated;
        if (source.getFeatures().length) view.fit(source.getExtent(), {padding: [30, 30, 30, 30], maxZoom: 17});
      })
      .catch(function () { status.textContent = status.dataset.error; });
    document.getElementById('severity-filter').addEventListener('change', function (event) {
      if (event.target.checked) shown.add(event.target.value); else shown.delete(event.target.value);
      source.changed();
    });
    const panel = document.getElementById('case-panel');
    map.on('singleclick', function (event) {
      const feature = map.forEachFeatureAtPixel(event.pixel, function (f) { return shown.has(f.get('severity')) ? f : null; });
      if (!feature) { panel.hidden = true; return; }
      const link = document.getElementById('case-panel-link');
      link.textContent = feature.get('number') + ' · ' + feature.get('status');
      link.href = feature.get('url');
      document.getElementById('case-panel-text').textContent = feature.get('description') + ' ' + feature.get('address');
      panel.hidden = false;
      link.focus();
    });
  });
})();
