/* The grid map page: the active version's cells coloured by community, each
 * visible department's layer on demand, and a panel (a bottom sheet on
 * phones) describing the tapped cell. Configuration comes from the page's
 * json_script "grid-map-config"; every text shown comes from the template,
 * so it is translated there. */
(function () {
  'use strict';
  const S = window.gridStyles;
  const config = JSON.parse(document.getElementById('grid-map-config').textContent);
  const format = new ol.format.GeoJSON({featureProjection: 'EPSG:3857'});
  const status = document.getElementById('map-status');
  const panel = document.getElementById('cell-panel');
  let communities = {};
  let current = null;

  function say(key) {
    status.textContent = key ? status.dataset[key] : '';
    status.hidden = !key;
  }

  const cells = new ol.source.Vector();
  const cellLayer = new ol.layer.Vector({source: cells, style: S.cellStyle, zIndex: 1});
  const selection = new ol.source.Vector();
  const map = new ol.Map({
    target: 'grid-map',
    layers: S.baseLayers(config).concat([
      cellLayer,
      new ol.layer.Vector({source: selection, style: S.selectedStyle, zIndex: 3}),
    ]),
    view: new ol.View({center: ol.proj.fromLonLat(config.center), zoom: config.zoom, maxZoom: 20}),
  });
  // Tests and the console reach the map here.
  window.gridMap = map;

  function loadCells() {
    if (!config.cellsUrl) return;
    say('loading');
    fetch(config.cellsUrl, {credentials: 'same-origin'})
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        communities = data.communities || {};
        cells.clear();
        cells.addFeatures(format.readFeatures(data));
        if (cells.getFeatures().length) {
          // Top padding keeps the cells clear of the title bar floating over the map.
          map.getView().fit(cells.getExtent(), {padding: [64, 16, 16, 16], maxZoom: 18});
          say('');
        } else {
          say('empty');
        }
        buildLegend();
        focusRequestedCell();
        map.set('cellsLoaded', true);
      })
      .catch(function () { say('error'); });
  }
  // ?cell=<code> (links from "My cells") opens that cell once the cells are in.
  function focusRequestedCell() {
    const wanted = new URLSearchParams(window.location.search).get('cell');
    if (!wanted) return;
    const feature = cells.getFeatures().find(function (f) { return f.get('code') === wanted; });
    if (!feature) return;
    map.getView().fit(feature.getGeometry().getExtent(), {padding: [64, 16, 16, 16], maxZoom: 18});
    openCell(feature);
  }
  status.addEventListener('click', function () {
    if (status.textContent === status.dataset.error) loadCells();
  });

  // --- The cell panel -------------------------------------------------------------

  function field(name) {
    return panel.querySelector('[data-field="' + name + '"]');
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function openCell(feature) {
    current = feature.getId();
    const copy = feature.clone();
    copy.setId(current);
    selection.clear();
    selection.addFeature(copy);
    const community = feature.get('community');
    field('code').textContent = feature.get('code');
    field('community').textContent = [communities[community], community].filter(Boolean).join(' · ');
    field('area').textContent = '…';
    field('crosswalk').replaceChildren();
    field('assignees').replaceChildren();
    panel.querySelector('[data-row="fallback"]').hidden = true;
    field('fallback_owner').hidden = true;
    panel.hidden = false;
    panel.scrollTop = 0;
    keepInSight(feature);
    fetch(config.cellUrlPrefix + current + '.json', {credentials: 'same-origin'})
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (detail) {
        if (detail.id !== current) return;
        showDetail(detail);
        keepInSight(feature); // the sheet has grown to its full height now
      })
      .catch(function () {
        field('area').textContent = panel.dataset.error;
      });
  }

  function showDetail(detail) {
    const lang = document.documentElement.lang || undefined;
    field('community').textContent = detail.community.name + ' · ' + detail.community.code;
    field('area').textContent = Number(detail.area_m2).toLocaleString(lang) + ' m²';
    const fallback = Boolean(detail.fallback_owner);
    panel.querySelector('[data-row="fallback"]').hidden = !fallback;
    field('fallback_owner').hidden = !fallback;
    field('fallback_owner').textContent = detail.fallback_owner || '';
    const rows = detail.crosswalk.map(function (entry) {
      const row = document.createElement('tr');
      row.append(
        element('td', entry.department + ' ' + entry.department_name),
        element('td', entry.polygon + (entry.polygon_name ? ' ' + entry.polygon_name : '')),
        element('td', entry.share.toLocaleString(lang) + ' %', 'num'),
      );
      return row;
    });
    if (!rows.length) {
      const row = document.createElement('tr');
      const cell = element('td', field('crosswalk').dataset.empty);
      cell.colSpan = 3;
      row.append(cell);
      rows.push(row);
    }
    field('crosswalk').replaceChildren.apply(field('crosswalk'), rows);
    const people = detail.assignees.map(function (person) {
      const item = element('li', '');
      item.append(element('strong', person.name), ' ', element('span', person.duty_label, 'muted'));
      return item;
    });
    if (!people.length) people.push(element('li', field('assignees').dataset.empty, 'muted'));
    field('assignees').replaceChildren.apply(field('assignees'), people);
  }

  // On a phone the sheet covers the lower part of the map: slide the map so the tapped cell stays visible.
  function keepInSight(feature) {
    const mapBox = map.getTargetElement().getBoundingClientRect();
    const sheet = panel.getBoundingClientRect();
    if (sheet.width < mapBox.width * 0.9) return; // a side panel on a wide screen
    const sheetTop = sheet.top - mapBox.top;
    const extent = feature.getGeometry().getExtent();
    const pixel = map.getPixelFromCoordinate(ol.extent.getCenter(extent));
    if (!pixel || sheetTop <= 0 || sheetTop >= mapBox.height || pixel[1] < sheetTop - 24) return;
    const view = map.getView();
    const shift = (pixel[1] - sheetTop / 2) * view.getResolution();
    const centre = view.getCenter();
    view.animate({center: [centre[0], centre[1] - shift], duration: 250});
  }

  function closePanel() {
    current = null;
    selection.clear();
    panel.hidden = true;
  }

  map.on('singleclick', function (event) {
    const feature = map.forEachFeatureAtPixel(event.pixel, function (f) { return f; }, {
      layerFilter: function (layer) { return layer === cellLayer; },
      hitTolerance: 2,
    });
    if (feature) openCell(feature); else closePanel();
  });
  panel.querySelector('.gridmap-close').addEventListener('click', closePanel);
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') closePanel();
  });

  // --- Map key: community legend and department layers ------------------------------

  const keyButton = document.getElementById('key-toggle');
  const keyPanel = document.getElementById('key-panel');
  keyButton.addEventListener('click', function () {
    const open = keyPanel.hidden;
    keyPanel.hidden = !open;
    keyButton.setAttribute('aria-expanded', String(open));
  });

  function buildLegend() {
    const list = document.getElementById('community-legend');
    const items = Object.keys(communities).sort().map(function (code) {
      const item = element('li', '');
      const swatch = element('span', '', 'gridmap-swatch');
      swatch.style.background = S.communityColour(code);
      item.append(swatch, communities[code]);
      return item;
    });
    list.replaceChildren.apply(list, items);
  }

  const departmentLayers = {};
  function showLayer(spec, visible) {
    if (!departmentLayers[spec.code]) {
      const source = new ol.source.Vector({url: spec.url, format: format});
      source.on('featuresloaderror', function () { say('error'); });
      departmentLayers[spec.code] = new ol.layer.Vector({
        source: source, style: S.polygonStyle(S.departmentColour(spec.code)), zIndex: 2,
      });
      map.addLayer(departmentLayers[spec.code]);
    }
    departmentLayers[spec.code].setVisible(visible);
  }
  keyPanel.querySelectorAll('input[data-department]').forEach(function (box) {
    const spec = config.layers.find(function (layer) { return layer.code === box.dataset.department; });
    box.parentElement.querySelector('.gridmap-swatch').style.borderColor = S.departmentColour(spec.code);
    box.checked = false;
    box.addEventListener('change', function () { showLayer(spec, box.checked); });
  });

  loadCells();
})();
