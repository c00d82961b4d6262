/**
 * What every map of the app does the same way (the area map, the services map): a Leaflet map that is one tab stop,
 * with tiles only when the server's config names them (offline, our own points on a plain background), and layers
 * shown fitted to what they hold — Norfolk until there is anything to draw.
 */
import * as L from 'leaflet';

/** A map in `element`; the zoom buttons stay for the mouse (the focused map zooms with + and −), not as tab stops. */
export function createMap(element: HTMLElement, tiles: string | null): L.Map {
  const leaflet = L.map(element, { zoomSnap: 0.25, attributionControl: Boolean(tiles) });
  for (const button of leaflet.zoomControl.getContainer()?.querySelectorAll('a') ?? []) button.tabIndex = -1;
  if (tiles) L.tileLayer(tiles, { maxZoom: 18 }).addTo(leaflet);
  return leaflet;
}

/**
 * Adds the layers in order (later ones on top), fits the view to them, and keeps their shapes out of the tab order:
 * Chromium makes an SVG shape with focus listeners (Leaflet's, for its tooltips) a tab stop, and the map is one.
 */
export function showLayers(leaflet: L.Map, layers: Array<L.FeatureGroup>, fit: L.FitBoundsOptions): void {
  for (const layer of layers) layer.addTo(leaflet);
  const bounds = L.latLngBounds([]);
  for (const layer of layers) {
    const b = layer.getBounds();
    if (b.isValid()) bounds.extend(b);
  }
  if (bounds.isValid()) leaflet.fitBounds(bounds, fit);
  else leaflet.setView([52.63, 1.3], 8); // Norfolk, until there is anything to draw
  for (const layer of layers) {
    layer.eachLayer((shape) => {
      if (shape instanceof L.Path) shape.getElement()?.setAttribute('tabindex', '-1');
    });
  }
}
