/**
 * The area map. It must work offline, so by default it draws only our own GeoJSON (catchments,
 * practices, partners) on a plain background; a tile layer is added only when the server's
 * config names one.
 *
 * For a keyboard the map is one tab stop (arrow keys pan, + and − zoom), with a skip link past it
 * to the table that lists the same PCNs: nothing on the map is only on the map.
 */
import { useEffect, useId, useRef } from 'react';
import * as L from 'leaflet';
import { createMap, showLayers } from './leaflet-map.ts';
import type { AreaMap, MapFeature, MapFeatureProperties, SizeStatus } from '../api.ts';
import { formatCount, partnerTypeLabel } from '../format.ts';
import { FocusLink } from './page-parts.tsx';
import { statusLabel } from './status-tag.tsx';

/** NHS identity colours: green within range, warm yellow below, red above. */
export const STATUS_COLOURS: Record<SizeStatus, string> = {
  within: '#007f3b',
  below: '#ed8b00',
  above: '#d5281b',
};
export const PRACTICE_COLOUR = '#005eb8';
export const PARTNER_COLOUR = '#7c2855';

/** Our MapFeature is a GeoJSON Feature; Leaflet's typings name theirs through @types/geojson. */
type GeoJsonInput = Parameters<L.GeoJSON['addData']>[0];
type Catchment = Extract<MapFeatureProperties, { kind: 'catchment' }>;
type Practice = Extract<MapFeatureProperties, { kind: 'practice' }>;
type Partner = Extract<MapFeatureProperties, { kind: 'partner' }>;

/** Popup content built as DOM, never as HTML strings, so names cannot inject markup. */
function popupContent(title: string, lines: string[], link?: { text: string; onClick: () => void }): HTMLElement {
  const root = document.createElement('div');
  const heading = document.createElement('strong');
  heading.textContent = title;
  root.append(heading);
  for (const line of lines) {
    const p = document.createElement('div');
    p.textContent = line;
    root.append(p);
  }
  if (link) {
    const a = document.createElement('a');
    a.href = '#';
    a.textContent = link.text;
    a.addEventListener('click', (event) => {
      event.preventDefault();
      link.onClick();
    });
    root.append(a);
  }
  return root;
}

function pointOf(feature: MapFeature): L.LatLng | null {
  if (feature.geometry.type !== 'Point') return null;
  const [lng, lat] = feature.geometry.coordinates;
  return L.latLng(lat, lng);
}

export function PcnMap({
  map,
  tiles,
  tableId,
  onOpenPcn,
  onOpenPractice,
}: {
  map: AreaMap;
  tiles: string | null;
  /** The table of PCNs the skip link moves focus to. */
  tableId: string;
  onOpenPcn: (code: string) => void;
  onOpenPractice: (ods: string) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const hintId = useId();
  // The handlers change identity on each render; the map reads the latest without being rebuilt.
  const handlers = useRef({ onOpenPcn, onOpenPractice });
  handlers.current = { onOpenPcn, onOpenPractice };

  useEffect(() => {
    const element = container.current;
    if (!element) return;

    const leaflet = createMap(element, tiles);

    const catchments = L.geoJSON(undefined, {
      style: (feature) => {
        const status = (feature?.properties as Catchment | undefined)?.sizeStatus ?? 'within';
        return {
          color: STATUS_COLOURS[status],
          weight: 2,
          fillColor: STATUS_COLOURS[status],
          fillOpacity: 0.25,
          className: `pcn-catchment pcn-catchment--${status}`,
        };
      },
      onEachFeature: (feature, layer) => {
        const props = feature.properties as Catchment;
        layer.bindTooltip(`${props.name} (${props.pcnCode}): ${formatCount(props.listSize)} patients, ${statusLabel(props.sizeStatus).toLowerCase()}`, {
          sticky: true,
        });
        layer.on('click', () => handlers.current.onOpenPcn(props.pcnCode));
      },
    });

    const practices = L.featureGroup();
    const partners = L.featureGroup();
    // Out-of-range catchments are drawn last, so where networks overlap the warnings stay visible.
    const drawOrder = (feature: MapFeature) => (feature.properties.kind === 'catchment' && feature.properties.sizeStatus !== 'within' ? 1 : 0);
    for (const feature of [...map.features].sort((a, b) => drawOrder(a) - drawOrder(b))) {
      const props = feature.properties;
      if (props.kind === 'catchment') {
        catchments.addData(feature as GeoJsonInput);
        continue;
      }
      const at = pointOf(feature);
      if (!at) continue;
      if (props.kind === 'practice') addPractice(practices, at, props, (ods) => handlers.current.onOpenPractice(ods));
      else if (props.kind === 'partner') addPartner(partners, at, props);
    }

    showLayers(leaflet, [catchments, partners, practices], { padding: [16, 16] });

    return () => {
      leaflet.remove();
    };
  }, [map, tiles]);

  return (
    <>
      <FocusLink to={tableId} className="nhsuk-u-visually-hidden-focusable pcn-skip-map">
        Skip the map to the table of PCNs
      </FocusLink>
      <p className="nhsuk-body-s pcn-muted" id={hintId}>
        With a keyboard the map is one stop: the arrow keys move it, + and − zoom. Every PCN on it is also in the table below.
      </p>
      {/* Leaflet makes the container its one tab stop (tabindex 0) for its keyboard handler. */}
      {/* biome-ignore lint/a11y/useSemanticElements: Leaflet draws into this container; a named region lets screen readers find the map */}
      <div
        ref={container}
        className={`pcn-map${tiles ? '' : ' pcn-map--offline'}`}
        data-testid="map"
        role="region"
        aria-label="Map of PCN catchments, member practices and partners"
        aria-describedby={hintId}
      />
    </>
  );
}

function addPractice(group: L.FeatureGroup, at: L.LatLng, practice: Practice, open: (ods: string) => void): void {
  L.circleMarker(at, {
    radius: 5,
    color: '#ffffff',
    weight: 1.5,
    fillColor: PRACTICE_COLOUR,
    fillOpacity: 1,
    className: 'pcn-practice',
  })
    .bindTooltip(practice.name)
    .bindPopup(
      popupContent(practice.name, [`ODS code ${practice.ods}`, `${formatCount(practice.listSize)} registered patients`, practice.pcnCode ? `PCN ${practice.pcnCode}` : 'Not in a PCN'], {
        text: 'Open the practice',
        onClick: () => open(practice.ods),
      }),
    )
    .addTo(group);
}

function addPartner(group: L.FeatureGroup, at: L.LatLng, partner: Partner): void {
  L.circleMarker(at, {
    radius: 4,
    color: '#ffffff',
    weight: 1,
    fillColor: PARTNER_COLOUR,
    fillOpacity: 1,
    className: 'pcn-partner',
  })
    .bindTooltip(`${partner.name} (${partnerTypeLabel(partner.type).toLowerCase()})`)
    .addTo(group);
}

/** The legend sits outside the map as plain HTML, so screen readers and print get it too. */
export function MapLegend() {
  const statuses: SizeStatus[] = ['within', 'below', 'above'];
  return (
    <ul className="pcn-map-legend" aria-label="Map legend">
      {statuses.map((status) => (
        <li key={status}>
          <span className="pcn-map-legend__swatch" style={{ background: STATUS_COLOURS[status] }} aria-hidden="true" />
          Catchment {statusLabel(status).toLowerCase()}
        </li>
      ))}
      <li>
        <span className="pcn-map-legend__dot" style={{ background: PRACTICE_COLOUR }} aria-hidden="true" />
        GP practice
      </li>
      <li>
        <span className="pcn-map-legend__dot pcn-map-legend__dot--small" style={{ background: PARTNER_COLOUR }} aria-hidden="true" />
        Partner organisation
      </li>
    </ul>
  );
}
