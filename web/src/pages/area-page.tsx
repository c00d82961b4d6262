import { useState } from 'react';
import { api, type AreaMap, type AreaSummary, type ClientConfig, type PcnSummary } from '../api.ts';
import { ErrorSummary, messageFor, SubmitButton, TextField, useSubmit } from '../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { MapLegend, PcnMap } from '../components/pcn-map.tsx';
import { SortableTable, type Column } from '../components/sortable-table.tsx';
import { StatusTag, statusLabel } from '../components/status-tag.tsx';
import { SummaryList } from '../components/summary-list.tsx';
import { formatCount, formatPence, formatRange } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { canCreatePcn, useSession } from '../session.ts';
import { usePageTitle, useResource } from '../use-resource.ts';

/** `/` shows the only area (or a list when there are several); `/areas/:code` shows one. */
export function AreaPage({ code }: { code?: string }) {
  const areas = useResource(() => api.areas(), 'areas');

  if (areas.state === 'loading') return <Loading what="areas" />;
  if (areas.state === 'failed') return <LoadFailed error={areas.error} what="Areas" retry={areas.reload} />;

  const { items } = areas.data;
  if (items.length === 0) return <NoAreas />;
  if (!code && items.length > 1) return <AreaList areas={items} />;

  const area = code ? items.find((a) => a.code === code) : items[0];
  if (!area) return <LoadFailed error={new Error(`There is no area with the code ${code}.`)} what="Area" retry={areas.reload} />;
  return <AreaOverview area={area} showBreadcrumb={items.length > 1} />;
}

function NoAreas() {
  usePageTitle('No areas yet');
  return (
    <>
      <h1>No areas yet</h1>
      <p>
        Import the NHS ePCN file with <code>pcn import</code>, or start the server with the demo data, to see the area's primary care networks here.
      </p>
    </>
  );
}

function AreaList({ areas }: { areas: AreaSummary[] }) {
  usePageTitle('Areas');
  return (
    <>
      <h1>Areas</h1>
      <ul className="nhsuk-list">
        {areas.map((area) => (
          <li key={area.code}>
            <Link href={`/areas/${encodeURIComponent(area.code)}`}>{area.name}</Link> ({area.code}): {formatCount(area.pcnCount)} PCNs, {formatCount(area.listSize)} patients
          </li>
        ))}
      </ul>
    </>
  );
}

interface OverviewData {
  pcns: PcnSummary[];
  map: AreaMap;
  config: ClientConfig;
}

async function loadOverview(areaCode: string): Promise<OverviewData> {
  const [pcns, map, config] = await Promise.all([
    api.pcns(areaCode),
    api.areaMap(areaCode),
    // The map still works without tiles, so a missing config is not a failure.
    api.config().catch((): ClientConfig => ({})),
  ]);
  return { pcns: pcns.items, map, config };
}

const pcnColumns: Column<PcnSummary>[] = [
  { key: 'code', header: 'Code', sortValue: (p) => p.code, rowHeader: true },
  {
    key: 'name',
    header: 'Name',
    sortValue: (p) => p.name,
    cell: (p) => <Link href={`/pcns/${encodeURIComponent(p.code)}`}>{p.name}</Link>,
  },
  { key: 'listSize', header: 'List size', sortValue: (p) => p.listSize, cell: (p) => formatCount(p.listSize), numeric: true },
  { key: 'practiceCount', header: 'Practices', sortValue: (p) => p.practiceCount, numeric: true },
  {
    key: 'clinicalDirector',
    header: 'Clinical director',
    sortValue: (p) => p.clinicalDirector,
    cell: (p) => p.clinicalDirector ?? <span className="pcn-muted">Not set</span>,
  },
  { key: 'sizeStatus', header: 'Status', sortValue: (p) => statusLabel(p.sizeStatus), cell: (p) => <StatusTag status={p.sizeStatus} /> },
];

function AreaOverview({ area, showBreadcrumb }: { area: AreaSummary; showBreadcrumb: boolean }) {
  usePageTitle(area.name);
  const user = useSession();
  const overview = useResource(() => loadOverview(area.code), area.code);
  const outOfRange = overview.state === 'ready' ? overview.data.pcns.filter((p) => p.sizeStatus !== 'within').length : 0;

  return (
    <>
      {showBreadcrumb && <Breadcrumb crumbs={[{ href: '/', text: 'Areas' }]} />}
      <span className="nhsuk-caption-l">Area {area.code}</span>
      <h1>{area.name}</h1>
      {(user?.role === 'analyst' || user?.role === 'admin') && (
        <p className="nhsuk-body">
          <Link href={`/dashboards/area/${encodeURIComponent(area.code)}`}>Population dashboard: PCNs ranked</Link>
        </p>
      )}

      <SummaryList
        rows={[
          ['PCN size rule', `${formatRange(area.sizeMin, area.sizeMax)} registered patients`],
          ['Primary care networks', formatCount(area.pcnCount)],
          ['GP practices', formatCount(area.practiceCount)],
          ['Total list size', `${formatCount(area.listSize)} patients`],
          ['Money given', formatPence(area.allocatedPence)],
        ]}
      />

      {area.allocations.length > 0 && <Allocations area={area} />}

      {overview.state === 'loading' && <Loading what="the area's PCNs and map" />}
      {overview.state === 'failed' && <LoadFailed error={overview.error} what="Area" retry={overview.reload} />}
      {overview.state === 'ready' && (
        <>
          <h2>Map</h2>
          <p>Each PCN's catchment is coloured by its list size against the area's range of {formatRange(area.sizeMin, area.sizeMax)}. Select a catchment to open its PCN.</p>
          <PcnMap
            map={overview.data.map}
            tiles={overview.data.config.mapTiles ?? null}
            tableId="pcn-table"
            onOpenPcn={(code) => navigate(`/pcns/${encodeURIComponent(code)}`)}
            onOpenPractice={(ods) => navigate(`/practices/${encodeURIComponent(ods)}`)}
          />
          <MapLegend />

          <h2>Primary care networks</h2>
          {outOfRange > 0 && (
            <p>
              {formatCount(outOfRange)} of {formatCount(overview.data.pcns.length)} PCNs are outside the area's range.
            </p>
          )}
          <SortableTable
            caption={`${formatCount(overview.data.pcns.length)} PCNs in ${area.name}`}
            columns={pcnColumns}
            rows={overview.data.pcns}
            rowKey={(p) => p.code}
            initialSort={{ key: 'code', direction: 'ascending' }}
            id="pcn-table"
          />
        </>
      )}

      {canCreatePcn(user) && <CreatePcnForm areaCode={area.code} />}
    </>
  );
}

function Allocations({ area }: { area: AreaSummary }) {
  return (
    <details className="nhsuk-details">
      <summary className="nhsuk-details__summary">
        <span className="nhsuk-details__summary-text">Where the money came from</span>
      </summary>
      <div className="nhsuk-details__text">
        <TableRegion label={`Money given to ${area.name}`}>
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-table__caption--s">Money given to {area.name}</caption>
            <TableHead headings={['Purpose', 'Year', 'From', 'PCN', { text: 'Amount', numeric: true }]} />
            <tbody className="nhsuk-table__body">
              {area.allocations.map((a, i) => (
                <tr className="nhsuk-table__row" key={`${a.financialYear}-${a.purpose}-${i}`}>
                  <td className="nhsuk-table__cell">{a.purpose}</td>
                  <td className="nhsuk-table__cell">{a.financialYear}</td>
                  <td className="nhsuk-table__cell">{a.source}</td>
                  <td className="nhsuk-table__cell">{a.pcnCode ?? 'Whole area'}</td>
                  <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{formatPence(a.amountPence)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      </div>
    </details>
  );
}

function CreatePcnForm({ areaCode }: { areaCode: string }) {
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [clinicalDirector, setClinicalDirector] = useState('');
  const [nominatedPayeeOds, setNominatedPayeeOds] = useState('');

  const { error, busy, onSubmit } = useSubmit(async () => {
    const wanted = code.trim().toUpperCase();
    const created = await api.createPcn({
      code: wanted,
      name: name.trim(),
      areaCode,
      ...(clinicalDirector.trim() ? { clinicalDirector: clinicalDirector.trim() } : {}),
      ...(nominatedPayeeOds.trim() ? { nominatedPayeeOds: nominatedPayeeOds.trim().toUpperCase() } : {}),
    });
    navigate(`/pcns/${encodeURIComponent(created?.code ?? wanted)}`);
  });

  const fields = {
    code: 'new-pcn-code',
    name: 'new-pcn-name',
    clinicalDirector: 'new-pcn-clinical-director',
    nominatedPayeeOds: 'new-pcn-payee',
  };

  return (
    <section className="pcn-change" aria-labelledby="create-pcn-heading">
      <h2 id="create-pcn-heading">Create a PCN</h2>
      <ErrorSummary error={error} fields={fields} />
      <form onSubmit={onSubmit} noValidate>
        <TextField
          id={fields.code}
          label="PCN code"
          hint="U followed by 5 digits, for example U12345"
          width={10}
          spellCheck={false}
          value={code}
          onChange={setCode}
          error={messageFor(error, 'code')}
        />
        <TextField id={fields.name} label="PCN name" value={name} onChange={setName} error={messageFor(error, 'name')} />
        <TextField id={fields.clinicalDirector} label="Clinical director (optional)" value={clinicalDirector} onChange={setClinicalDirector} error={messageFor(error, 'clinicalDirector')} />
        <TextField
          id={fields.nominatedPayeeOds}
          label="Nominated payee practice ODS code (optional)"
          hint="The member practice that receives the network's money, for example D82001"
          width={10}
          spellCheck={false}
          value={nominatedPayeeOds}
          onChange={setNominatedPayeeOds}
          error={messageFor(error, 'nominatedPayeeOds')}
        />
        <SubmitButton busy={busy}>Create PCN</SubmitButton>
      </form>
    </section>
  );
}
