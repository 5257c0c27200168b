/* Styles shared by the grid map page and the admin maps, so a community or a
 * conflict kind has the same colour everywhere. Needs the vendored ol.js. */
(function () {
  'use strict';

  // Twelve colours that stay distinguishable side by side.
  const PALETTE = ['#1f77b4', '#e8710a', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
    '#e377c2', '#5f6b7a', '#a8a000', '#12a4b4', '#3949ab', '#6b8e23'];
  const DEPARTMENT_PALETTE = ['#0b5cad', '#b3261e', '#1a7f37', '#8250df', '#bc4c00', '#0e7c86',
    '#6e5494', '#9a6700', '#cf222e', '#116329', '#953800', '#3d4a5c'];
  const FOCUS = '#b3261e';

  function hash(text) {
    let h = 0;
    for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
    return h;
  }

  /* A community keeps its colour whatever else is loaded: it depends on the
   * code alone. Neighbouring communities usually have consecutive codes, and
   * consecutive codes get different colours. */
  function communityColour(code) {
    const street = parseInt(String(code).slice(6, 9), 10) || 0;
    const sequence = parseInt(String(code).slice(9, 12), 10);
    const index = Number.isNaN(sequence) ? hash(String(code)) : sequence + street * 5;
    return PALETTE[index % PALETTE.length];
  }

  function departmentColour(code) {
    return DEPARTMENT_PALETTE[hash(String(code)) % DEPARTMENT_PALETTE.length];
  }

  function rgba(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + alpha + ')';
  }

  // Conflict colours live in grids.css (--kind-…) so the tables' swatches match the map.
  const kindColours = {};
  function kindColour(kind) {
    if (!(kind in kindColours)) {
      const css = getComputedStyle(document.documentElement);
      kindColours[kind] = (css.getPropertyValue('--kind-' + kind) || css.getPropertyValue('--kind-other')).trim() || '#57606a';
    }
    return kindColours[kind];
  }

  function label(text, colour) {
    return new ol.style.Text({
      text: text,
      font: '600 13px system-ui, sans-serif',
      fill: new ol.style.Fill({color: colour}),
      stroke: new ol.style.Stroke({color: '#fff', width: 3}),
      overflow: false,
    });
  }

  // Labels only once a cell is big enough on screen to hold one (~40 px).
  const LABEL_RESOLUTION = 3;
  const cellCache = {};
  function cellStyle(feature, resolution) {
    const colour = communityColour(feature.get('community') || '');
    const labelled = resolution < LABEL_RESOLUTION;
    const key = colour + (labelled ? feature.get('code') : '');
    if (!cellCache[key]) {
      cellCache[key] = new ol.style.Style({
        fill: new ol.style.Fill({color: rgba(colour, 0.28)}),
        stroke: new ol.style.Stroke({color: colour, width: 1.25}),
        text: labelled ? label(String(feature.get('code')).slice(-3), '#1f2328') : undefined,
      });
    }
    return cellCache[key];
  }

  function selectedStyle(feature) {
    return new ol.style.Style({
      fill: new ol.style.Fill({color: rgba(FOCUS, 0.18)}),
      stroke: new ol.style.Stroke({color: FOCUS, width: 4}),
      text: label(String(feature.get('code')), FOCUS),
    });
  }

  function polygonStyle(colour) {
    const repaired = new ol.style.Style({
      fill: new ol.style.Fill({color: rgba(kindColour('repaired'), 0.25)}),
      stroke: new ol.style.Stroke({color: kindColour('repaired'), width: 2}),
    });
    const plain = new ol.style.Style({
      fill: new ol.style.Fill({color: 'rgba(255,255,255,0.01)'}),
      stroke: new ol.style.Stroke({color: colour, width: 2, lineDash: [6, 4]}),
    });
    return function (feature) {
      return feature.get('repaired') ? repaired : plain;
    };
  }

  function conflictStyle(numbered) {
    return function (feature) {
      const colour = kindColour(feature.get('kind'));
      return new ol.style.Style({
        fill: new ol.style.Fill({color: rgba(colour, 0.45)}),
        stroke: new ol.style.Stroke({color: colour, width: 2}),
        text: numbered ? label(String(Number(feature.getId()) + 1), colour) : undefined,
      });
    };
  }

  // A focused polygon (a cell) or point (a case's place).
  const focusStyle = new ol.style.Style({
    fill: new ol.style.Fill({color: rgba(FOCUS, 0.15)}),
    stroke: new ol.style.Stroke({color: FOCUS, width: 3}),
    image: new ol.style.Circle({
      radius: 9, fill: new ol.style.Fill({color: FOCUS}), stroke: new ol.style.Stroke({color: '#ffffff', width: 3}),
    }),
  });

  // A base map only when the deployment names a tile server it can reach.
  function baseLayers(config) {
    if (!config.tileUrl) return [];
    return [new ol.layer.Tile({
      source: new ol.source.XYZ({url: config.tileUrl, attributions: config.tileAttribution || undefined}),
    })];
  }

  window.gridStyles = {
    communityColour: communityColour,
    departmentColour: departmentColour,
    kindColour: kindColour,
    cellStyle: cellStyle,
    selectedStyle: selectedStyle,
    polygonStyle: polygonStyle,
    conflictStyle: conflictStyle,
    focusStyle: focusStyle,
    baseLayers: baseLayers,
  };
})();
