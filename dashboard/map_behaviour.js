/* How the atlas map behaves in the browser; runs once per map, right after Leaflet
 * has created it (inserted by dashboard/mapview.py: atlasMapBehaviour(map, cfg)).
 *
 * - The mouse wheel scrolls the page. It zooms the map only while the map is
 *   active (clicked, until the pointer leaves it or the window loses focus) or
 *   with Ctrl/⌘ held; otherwise a short hint says so.
 * - The map cannot be zoomed out beyond the city and its surroundings.
 * - Focusing the map (Leaflet does so on every press, for its keyboard control)
 *   never scrolls the page: a map partly below the fold would otherwise jump
 *   between press and release, and a tap would land on another place.
 * - A "Back to Chemnitz" button fits the city again.
 * - District labels show from a zoom level on; where two would overlap, the
 *   larger district keeps its label.
 * - Hatching patterns (SVG) for "no regular patrol".
 * - A popup whose layer is swapped after a rerun (streamlit-folium replaces all
 *   feature groups when any of them changed) is opened again on the same
 *   feature of the new layer, if that feature is still drawn.
 */
/* Layers after a rerun (dashboard/mapview.py, LayerSet): entries are
 * [name, digest, build]. A layer whose digest is unchanged stays on the map
 * untouched; a changed one is built and swapped in the same task (no frame
 * without it); layers no longer listed are removed. */
function atlasSyncLayers(map, entries) {
  "use strict";
  var drawn = map.atlasLayers || (map.atlasLayers = {});
  var wanted = {};
  entries.forEach(function (entry) {
    var name = entry[0];
    var key = entry[1];
    wanted[name] = true;
    var have = drawn[name];
    if (have && have.key === key) return;
    var layer = entry[2](map);
    map.atlasBuilds = (map.atlasBuilds || 0) + 1; // how many layers were built in this map's life
    map.addLayer(layer);
    if (have) map.removeLayer(have.layer);
    drawn[name] = { key: key, layer: layer };
  });
  Object.keys(drawn).forEach(function (name) {
    if (!wanted[name]) {
      map.removeLayer(drawn[name].layer);
      delete drawn[name];
    }
  });
}
window.atlasSyncLayers = atlasSyncLayers;

function atlasMapBehaviour(map, cfg) {
  "use strict";
  var container = map.getContainer();
  var home = L.latLngBounds(cfg.home);
  map.atlasHome = home; // the city, as the "Back to Chemnitz" button fits it
  // The city fitted at once: folium's own fit follows and, animated, would change the view only
  // after streamlit-folium has taken the first one (then reported as a move, rerunning the page).
  map.fitBounds(home, { animate: false });

  // -- the city stays in reach: zooming out stops where it still fits with a margin
  // (a frame without size, as while Streamlit lays out the page, says nothing about the fit)
  function limitZoom() {
    var size = map.getSize();
    if (!size.x || !size.y) return;
    var fit = map.getBoundsZoom(home, false);
    var lowest = Math.max(cfg.floorZoom, Math.floor((fit - cfg.zoomMargin) * 4) / 4);
    map.setMinZoom(Math.min(cfg.minZoom, lowest));
  }
  limitZoom();
  map.on("resize", limitZoom);

  // -- the view the map opens with is remembered, not reported: streamlit-folium would send it
  // right after this script (window.initComponent), only to rerun the page for a view the app
  // drew itself. Moves, zooms and clicks are reported as before.
  var init = window.initComponent;
  var S = window.Streamlit;
  if (typeof init === "function" && S && typeof S.setComponentValue === "function") {
    window.initComponent = function (m, hover) {
      window.initComponent = init;
      var send = S.setComponentValue;
      S.setComponentValue = function () {};
      try {
        return init(m, hover);
      } finally {
        S.setComponentValue = send;
      }
    };
  }

  // -- Streamlit's component library adds a <style> with the theme's colours on every rerun and
  // never removes the old one: through a long meeting the frame would collect hundreds. Only the
  // newest is kept.
  function isTheme(node) {
    return node.tagName === "STYLE" && /^\s*:root\s*\{\s*--primary-color/.test(node.textContent || "");
  }
  new MutationObserver(function (changes) {
    var added = changes.some(function (c) {
      return Array.prototype.some.call(c.addedNodes, isTheme);
    });
    if (!added) return;
    var themes = Array.prototype.filter.call(document.head.children, isTheme);
    themes.slice(0, -1).forEach(function (node) {
      node.remove();
    });
  }).observe(document.head, { childList: true });

  // -- focus without scrolling the page that holds the map's frame
  container.focus = function () {
    HTMLElement.prototype.focus.call(container, { preventScroll: true });
  };

  // -- wheel: page scroll unless the map is active or Ctrl/⌘ is held
  var active = false;
  var hint = L.DomUtil.create("div", "atlas-wheel-hint", container);
  hint.textContent = cfg.wheelHint;
  hint.setAttribute("aria-hidden", "true");
  var hintTimer = null;
  function activate() {
    active = true;
    container.classList.add("atlas-active");
    hint.classList.remove("atlas-show");
  }
  function deactivate() {
    active = false;
    container.classList.remove("atlas-active");
  }
  container.addEventListener("mousedown", activate);
  container.addEventListener("touchstart", activate, { passive: true });
  container.addEventListener("mouseleave", deactivate);
  window.addEventListener("blur", deactivate);
  window.addEventListener(
    "wheel",
    function (e) {
      if (!container.contains(e.target)) return;
      if ((active && document.hasFocus()) || e.ctrlKey || e.metaKey) return; // Leaflet zooms
      // Leaflet never sees this event, so the browser scrolls the page around the map.
      e.stopPropagation();
      hint.classList.add("atlas-show");
      clearTimeout(hintTimer);
      hintTimer = setTimeout(function () {
        hint.classList.remove("atlas-show");
      }, 1600);
    },
    { capture: true, passive: true }
  );

  // -- "Back to Chemnitz"
  var Home = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      var bar = L.DomUtil.create("div", "leaflet-bar leaflet-control atlas-home");
      var button = L.DomUtil.create("a", "", bar);
      button.href = "#";
      button.setAttribute("role", "button");
      button.setAttribute("aria-label", cfg.homeLabel);
      button.title = cfg.homeLabel;
      var icon = L.DomUtil.create("span", "atlas-home-icon", button);
      icon.textContent = "\u2302";
      icon.setAttribute("aria-hidden", "true");
      L.DomUtil.create("span", "", button).textContent = cfg.homeLabel;
      L.DomEvent.disableClickPropagation(bar);
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.preventDefault(e);
        map.fitBounds(home);
      });
      return bar;
    },
  });
  new Home().addTo(map);

  // -- hatching patterns, referenced as fill "url(#id)" by the layers' paths
  var svgNS = "http://www.w3.org/2000/svg";
  var defsHost = document.createElementNS(svgNS, "svg");
  defsHost.setAttribute("width", "0");
  defsHost.setAttribute("height", "0");
  defsHost.setAttribute("aria-hidden", "true");
  defsHost.style.position = "absolute";
  var defs = document.createElementNS(svgNS, "defs");
  defsHost.appendChild(defs);
  cfg.patterns.forEach(function (p) {
    var pattern = document.createElementNS(svgNS, "pattern");
    pattern.setAttribute("id", p.id);
    pattern.setAttribute("patternUnits", "userSpaceOnUse");
    pattern.setAttribute("width", p.spacing);
    pattern.setAttribute("height", p.spacing);
    pattern.setAttribute("patternTransform", "rotate(" + p.angle + ")");
    var line = document.createElementNS(svgNS, "line");
    line.setAttribute("x1", 0);
    line.setAttribute("y1", 0);
    line.setAttribute("x2", 0);
    line.setAttribute("y2", p.spacing);
    line.setAttribute("stroke", p.colour);
    line.setAttribute("stroke-width", p.width);
    pattern.appendChild(line);
    defs.appendChild(pattern);
  });
  document.body.appendChild(defsHost);

  // -- district labels
  var labelFrame = null;
  function placeLabels() {
    labelFrame = null;
    var pane = map.getPane(cfg.labelPane);
    if (!pane) return;
    var shown = map.getZoom() >= cfg.labelZoom;
    pane.style.display = shown ? "" : "none";
    if (!shown) return;
    var labels = Array.prototype.slice.call(pane.querySelectorAll(".atlas-label-text"));
    labels.sort(function (a, b) {
      return Number(b.getAttribute("data-priority")) - Number(a.getAttribute("data-priority"));
    });
    var taken = [];
    labels.forEach(function (label) {
      label.style.visibility = "";
      var r = label.getBoundingClientRect();
      var pad = 4;
      var clash = taken.some(function (o) {
        return r.left - pad < o.right && r.right + pad > o.left && r.top - pad < o.bottom && r.bottom + pad > o.top;
      });
      if (clash) {
        label.style.visibility = "hidden";
      } else {
        taken.push(r);
      }
    });
  }
  function scheduleLabels() {
    if (labelFrame === null) labelFrame = window.requestAnimationFrame(placeLabels);
  }
  map.on("zoomend layeradd resize", scheduleLabels);
  scheduleLabels();

  // -- popups survive the swap of the feature groups after a rerun
  function featureKey(layer) {
    return (layer.options.pane || "") + "|" + JSON.stringify(layer.feature.geometry) + "|" + JSON.stringify(layer.feature.properties);
  }
  var lost = null;
  map.on("popupclose", function (e) {
    var source = e.popup && e.popup._source;
    // Closed by the user (close button, click elsewhere, Esc): the source is still on the map.
    if (!source || source._map || !source.feature) return;
    lost = { key: featureKey(source), latlng: e.popup.getLatLng() };
    setTimeout(reopen, 0); // after the new feature groups have been added
  });
  function reopen() {
    var wanted = lost;
    lost = null;
    if (!wanted) return;
    // a popup the user has moved away from stays closed (reopening it would pan the map back)
    if (!map.getBounds().contains(wanted.latlng)) return;
    var found = null;
    map.eachLayer(function (group) {
      if (found || !(group instanceof L.GeoJSON) || !group.getPopup()) return;
      group.eachLayer(function (layer) {
        if (!found && layer.feature && featureKey(layer) === wanted.key) found = [group, layer];
      });
    });
    if (!found) return; // the feature is no longer drawn
    found[0].getPopup()._source = found[1];
    found[0].openPopup(wanted.latlng);
  }
}
