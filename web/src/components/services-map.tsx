/**
 * The directory's map: one marker per providing organisation found (its services listed in the popup), and the
 * place searched near. Offline by default like the area map (our own points on a plain background; tiles only
 * when the server's config names them). One tab stop, with a skip link to the list that holds the same services.
 */
import { useEffect, useId, useRef } from 'react';
import * as L from 'leaflet';
import type { DirectoryService, ServiceSearch } from '../api.ts';
import { createMap, showLayers } from './leaflet-map.ts';
import { FocusLink } from './page-parts.tsx';
import { PARTNER_COLOUR } from './pcn-map.tsx';

const NEAR_COLOUR = '#005eb8';

/** Popup content built as DOM (never HTML strings), each service a link. */
function popupFor(provider: string, services: DirectoryService[], open: (id: string) => void): HTMLElement {
  const root = document.createElement('div');
  const heading = document.createElement('strong');
  heading.textContent = provider;
  root.append(heading);
  for (const service of services) {
    const line = document.createElement('div');
    const a = document.createElement('a');
    a.href = `/services/${encodeURIComponent(service.id)}`;
    a.textContent = service.name;
    a.addEventListener('click', (event) => {
      event.preventDefault();
      open(service.id);
    });
    line.append(a);
    root.append(line);
  }
  return root;
}

export function ServicesMap({ search, tiles, listId, onOpen }: { search: ServiceSearch; tiles: string | null; listId: string; onOpen: (id: string) => void }) {
  const container = useRef<HTMLDivElement>(null);
  const hintId = useId();
  const open = useRef(onOpen);
  open.current = onOpen;

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const leaflet = createMap(element, tiles);

    const byProvider = new Map<string, DirectoryService[]>();
    for (const service of search.items) {
      if (service.latitude === null || service.longitude === null) continue;
      byProvider.set(service.provider.code, [...(byProvider.get(service.provider.code) ?? []), service]);
    }
    const markers = L.featureGroup();
    for (const services of byProvider.values()) {
      const first = services[0]!;
      L.circleMarker([first.latitude!, first.longitude!], { radius: 6, color: '#ffffff', weight: 1.5, fillColor: PARTNER_COLOUR, fillOpacity: 1, className: 'pcn-service' })
        .bindTooltip(`${first.provider.name}: ${services.length === 1 ? first.name : `${services.length} services`}`)
        .bindPopup(popupFor(first.provider.name, services, (id) => open.current(id)))
        .addTo(markers);
    }
    if (search.near) {
      L.circleMarker([search.near.latitude, search.near.longitude], { radius: 8, color: NEAR_COLOUR, weight: 3, fillOpacity: 0, className: 'pcn-service-near' })
        .bindTooltip(`Near ${search.near.label}`)
        .addTo(markers);
    }
    showLayers(leaflet, [markers], { padding: [24, 24], maxZoom: 12 });
    return () => {
      leaflet.remove();
    };
  }, [search, tiles]);

  return (
    <>
      <FocusLink to={listId} className="nhsuk-u-visually-hidden-focusable pcn-skip-map">
        Skip the map to the list of services
      </FocusLink>
      <p className="nhsuk-body-s pcn-muted" id={hintId}>
        Each dot is an organisation providing services found; select it for its services. Every service on the map is also in the list.
      </p>
      {/* biome-ignore lint/a11y/useSemanticElements: Leaflet draws into this container; a named region lets screen readers find the map */}
      <div ref={container} className={`pcn-map${tiles ? '' : ' pcn-map--offline'}`} data-testid="services-map" role="region" aria-label="Map of the services found" aria-describedby={hintId} />
    </>
  );
}
