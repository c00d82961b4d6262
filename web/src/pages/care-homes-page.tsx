/**
 * Care homes (issue 12): the homes aligned to my PCN (and those linked to it that still wait to be aligned to one
 * PCN), and one home's residents (whose record I may open) with this week's home round — the residents due a review
 * and why. A home the registry links to several PCNs is aligned to one of them here, by that PCN's manager or an admin.
 */
import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorSummary, messageFor, SelectField, SubmitButton, useSubmit } from '../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { formatNhsNumber } from '../components/record/entries.ts';
import { formatDate } from '../format.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.ts';
import { usePageTitle, useResource } from '../use-resource.ts';

export function CareHomesPage() {
  usePageTitle('Care homes');
  const user = useSession();
  const pcn = user?.pcnCode ?? undefined;
  const homes = useResource(() => api.careHomes(), 'care-homes');
  if (homes.state === 'loading') return <Loading what="the care homes" />;
  if (homes.state === 'failed') return <LoadFailed error={homes.error} what="The care homes" retry={homes.reload} />;
  const shown = pcn ? homes.data.items.filter((h) => h.pcnCode === pcn) : homes.data.items;
  const waiting = pcn ? homes.data.items.filter((h) => h.pcnCode === null && h.linkedPcns.includes(pcn)) : [];
  return (
    <>
      <h1>Care homes</h1>
      <p>{pcn ? 'The care homes aligned to your PCN.' : 'Every care home and the PCN it is aligned to.'} Each care home is aligned to one PCN.</p>
      {waiting.length > 0 && (
        <div className="nhsuk-warning-callout">
          <h2 className="nhsuk-warning-callout__label">
            <span className="nhsuk-u-visually-hidden">Important: </span>Waiting to be aligned
          </h2>
          <p>These homes are linked to your PCN and another, and are aligned to neither yet:</p>
          <ul>
            {waiting.map((h) => (
              <li key={h.code}>
                <Link href={`/care-homes/${encodeURIComponent(h.code)}`}>{h.name}</Link>
              </li>
            ))}
          </ul>
        </div>
      )}
      {shown.length === 0 ? (
        <p>No care home is aligned to your PCN.</p>
      ) : (
        <TableRegion label="Care homes">
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption">Care homes</caption>
            <TableHead headings={['Care home', 'Code', 'Postcode', 'Aligned PCN']} />
            <tbody className="nhsuk-table__body">
              {shown.map((h) => (
                <tr className="nhsuk-table__row" key={h.code}>
                  <td className="nhsuk-table__cell">
                    <Link href={`/care-homes/${encodeURIComponent(h.code)}`}>{h.name}</Link>
                  </td>
                  <td className="nhsuk-table__cell">{h.code}</td>
                  <td className="nhsuk-table__cell">{h.postcode ?? 'Not recorded'}</td>
                  <td className="nhsuk-table__cell">{h.pcnName ?? h.pcnCode ?? 'Not aligned'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </>
  );
}

export function CareHomePage({ code }: { code: string }) {
  const home = useResource(() => api.careHome(code), `care-home:${code}`);
  usePageTitle(home.state === 'ready' ? home.data.name : 'Care home');
  if (home.state === 'loading') return <Loading what="the care home" />;
  if (home.state === 'failed') return <LoadFailed error={home.error} what="The care home" retry={home.reload} />;
  const h = home.data;
  return (
    <>
      <Breadcrumb crumbs={[{ href: '/care-homes', text: 'Care homes' }]} />
      <h1>{h.name}</h1>
      <p>
        {h.code}
        {h.postcode ? `, ${h.postcode}` : ''}. Aligned to {h.pcnName ?? h.pcnCode ?? 'no PCN yet'}.
      </p>
      {h.pcnCode === null && h.linked.length > 0 && <Align code={h.code} linked={h.linked} onAligned={home.reload} />}
      <h2>Home round for the week of {formatDate(h.weekOf)}</h2>
      <p className="nhsuk-hint">{h.roundRule}</p>
      {h.round.length === 0 ? (
        <p>Nobody is due a review this week.</p>
      ) : (
        <TableRegion label="Home round">
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-table__caption--s">Due a review this week</caption>
            <TableHead headings={['Resident', 'NHS number', 'Why']} />
            <tbody className="nhsuk-table__body">
              {h.round.map((r) => (
                <tr className="nhsuk-table__row" key={r.id}>
                  <td className="nhsuk-table__cell">
                    <Link href={`/patients/${r.id}`}>{r.name}</Link>
                  </td>
                  <td className="nhsuk-table__cell">{r.nhsNumber ? formatNhsNumber(r.nhsNumber) : 'Not recorded'}</td>
                  <td className="nhsuk-table__cell">{r.dueBecause.join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      <h2>Residents</h2>
      {h.residents.length === 0 ? (
        <p>No resident whose record you may open.</p>
      ) : (
        <TableRegion label="Residents">
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-table__caption--s">Residents whose record you may open</caption>
            <TableHead headings={['Resident', 'NHS number', 'Frailty', 'Last contact']} />
            <tbody className="nhsuk-table__body">
              {h.residents.map((r) => (
                <tr className="nhsuk-table__row" key={r.id}>
                  <td className="nhsuk-table__cell">
                    <Link href={`/patients/${r.id}`}>{r.name}</Link>
                  </td>
                  <td className="nhsuk-table__cell">{r.nhsNumber ? formatNhsNumber(r.nhsNumber) : 'Not recorded'}</td>
                  <td className="nhsuk-table__cell">{r.efiCategory ?? 'Not scored'}</td>
                  <td className="nhsuk-table__cell">{r.lastContact ? formatDate(r.lastContact) : 'None recorded'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </>
  );
}

/** A home the registry links to several PCNs: its PCN's manager (or an admin) aligns it to one; the server decides who may. */
function Align({ code, linked, onAligned }: { code: string; linked: Array<{ code: string; name: string }>; onAligned: () => Promise<void> }) {
  const user = useSession();
  const mine = user?.role === 'admin' ? linked : linked.filter((p) => p.code === user?.pcnCode);
  const [pcnCode, setPcnCode] = useState(mine[0]?.code ?? '');
  const names = linked.map((p) => p.name).join(' and ');
  const { error, busy, onSubmit } = useSubmit(async () => {
    await api.alignCareHome(code, pcnCode);
    await onAligned();
  });
  if (user?.role !== 'admin' && user?.role !== 'pcn-manager') {
    return <p>The registry links this home to {names}. Its PCN’s manager aligns it to one of them.</p>;
  }
  return (
    <form onSubmit={onSubmit} noValidate>
      <ErrorSummary error={error} fields={{ pcnCode: 'align-pcn' }} />
      <SelectField
        id="align-pcn"
        label="Align this home to"
        hint={`The registry links it to ${names}. A care home is aligned to one PCN, whose clinicians lead its rounds.`}
        value={pcnCode}
        onChange={setPcnCode}
        options={mine.map((p) => ({ value: p.code, label: p.name }))}
        error={messageFor(error, 'pcnCode')}
      />
      <SubmitButton busy={busy}>Align the home</SubmitButton>
    </form>
  );
}
