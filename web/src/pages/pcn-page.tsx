import { useState } from 'react';
import { api, PARTNER_TYPES, type PartnerType, type PcnDetail } from '../api.ts';
import { Confirmation, ErrorSummary, messageFor, SelectField, SubmitButton, TextField, useSubmit } from '../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading, MembershipHistory, TableHead, TableRegion } from '../components/page-parts.tsx';
import { StatusTag } from '../components/status-tag.tsx';
import { SummaryList } from '../components/summary-list.tsx';
import { formatCount, formatDate, formatDateTime, formatRange, partnerTypeLabel } from '../format.ts';
import { Link } from '../router.tsx';
import { canChangePcn, useSession } from '../session.ts';
import { usePageTitle, useResource } from '../use-resource.ts';

export function PcnPage({ code }: { code: string }) {
  const pcn = useResource(() => api.pcn(code), code);
  usePageTitle(pcn.state === 'ready' ? pcn.data.name : code);

  if (pcn.state === 'loading') return <Loading what="the PCN" />;
  if (pcn.state === 'failed') return <LoadFailed error={pcn.error} what="PCN" retry={pcn.reload} />;
  return <PcnDetails pcn={pcn.data} reload={pcn.reload} />;
}

function PcnDetails({ pcn, reload }: { pcn: PcnDetail; reload: () => Promise<void> }) {
  const user = useSession();
  const [confirmation, setConfirmation] = useState<string | null>(null);
  const changed = async (message: string) => {
    await reload();
    setConfirmation(message);
  };

  return (
    <>
      <Breadcrumb crumbs={[{ href: '/', text: pcn.area.name }]} />
      <span className="nhsuk-caption-l">PCN {pcn.code}</span>
      <h1>{pcn.name}</h1>
      <Confirmation message={confirmation} />
      <p className="nhsuk-body">
        <Link href={`/dashboards/pcn/${encodeURIComponent(pcn.code)}`}>Population dashboard</Link>
      </p>

      <p className="pcn-status-line">
        <StatusTag status={pcn.sizeStatus} /> {pcn.sizeReason ?? `List size ${formatCount(pcn.listSize)} is within the area's range of ${formatRange(pcn.area.sizeMin, pcn.area.sizeMax)}`}
      </p>

      <SummaryList
        rows={[
          ['PCN code', pcn.code],
          ['Area', `${pcn.area.name} (${pcn.area.code})`],
          ['List size', `${formatCount(pcn.listSize)} patients`],
          ['Area size rule', `${formatRange(pcn.area.sizeMin, pcn.area.sizeMax)} registered patients`],
          ['Member practices', formatCount(pcn.practiceCount)],
          ['Clinical director', pcn.clinicalDirector ?? 'Not set'],
          [
            'Nominated payee',
            pcn.nominatedPayee ? (
              <Link href={`/practices/${encodeURIComponent(pcn.nominatedPayee.ods)}`}>
                {pcn.nominatedPayee.name} ({pcn.nominatedPayee.ods})
              </Link>
            ) : (
              'Not set'
            ),
          ],
          ['Open since', formatDate(pcn.openDate)],
        ]}
      />

      <MemberPractices pcn={pcn} />
      <ScheduledMoves pcn={pcn} />
      <Partners pcn={pcn} />
      <MembershipHistory
        heading="Membership history"
        empty="No membership history is recorded."
        label={`Practices that have belonged to ${pcn.name}`}
        column="Practice"
        current="Current member"
        rows={pcn.history.map((entry) => {
          const scheduled = pcn.joining.some((p) => p.ods === entry.practiceOds && p.date === entry.startDate);
          return { ...entry, href: `/practices/${encodeURIComponent(entry.practiceOds)}`, name: entry.practiceName, code: entry.practiceOds, scheduled };
        })}
      />
      <RecentChanges pcn={pcn} />

      {user?.role === 'pcn-manager' && !canChangePcn(user, pcn.code) && <p className="pcn-muted pcn-change">Only administrators and this PCN's own managers can change it.</p>}
      {canChangePcn(user, pcn.code) && (
        <section className="pcn-change" aria-labelledby="pcn-changes-heading">
          <h2 id="pcn-changes-heading">Make a change</h2>
          <ClinicalDirectorForm pcn={pcn} onChanged={changed} />
          <AddPartnerForm pcn={pcn} onChanged={changed} />
        </section>
      )}
    </>
  );
}

function MemberPractices({ pcn }: { pcn: PcnDetail }) {
  return (
    <>
      <h2>Member practices</h2>
      {pcn.practices.length === 0 ? (
        <p>This PCN has no member practices yet.</p>
      ) : (
        <TableRegion label={`Member practices of ${pcn.name}`}>
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Member practices of {pcn.name}</caption>
            <TableHead headings={['ODS code', 'Practice', 'Town', 'Postcode', { text: 'List size', numeric: true }, 'Member since']} />
            <tbody className="nhsuk-table__body">
              {pcn.practices.map((practice) => (
                <tr className="nhsuk-table__row" key={practice.ods}>
                  <th scope="row" className="nhsuk-table__cell">
                    {practice.ods}
                  </th>
                  <td className="nhsuk-table__cell">
                    <Link href={`/practices/${encodeURIComponent(practice.ods)}`}>{practice.name}</Link>
                  </td>
                  <td className="nhsuk-table__cell">{practice.town ?? ''}</td>
                  <td className="nhsuk-table__cell">{practice.postcode ?? ''}</td>
                  <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{practice.listSize === null ? 'Not known' : formatCount(practice.listSize)}</td>
                  <td className="nhsuk-table__cell">{formatDate(practice.joinedDate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </>
  );
}

/** Practices moving in or out on a later day: until then the lists and list size above do not count them. */
function ScheduledMoves({ pcn }: { pcn: PcnDetail }) {
  if (pcn.joining.length === 0 && pcn.leaving.length === 0) return null;
  const practiceLink = (p: { ods: string; name: string }) => (
    <>
      <Link href={`/practices/${encodeURIComponent(p.ods)}`}>{p.name}</Link> <span className="pcn-muted">({p.ods})</span>
    </>
  );
  return (
    <section aria-labelledby="scheduled-moves-heading">
      <h2 id="scheduled-moves-heading">Scheduled moves</h2>
      <p>Until each date the practice is counted where it is now.</p>
      <ul className="nhsuk-list nhsuk-list--bullet">
        {pcn.leaving.map((p) => (
          <li key={`leaving-${p.ods}`}>
            {practiceLink(p)}: moving to <Link href={`/pcns/${encodeURIComponent(p.toPcn.code)}`}>{p.toPcn.name}</Link> on {formatDate(p.date)}
          </li>
        ))}
        {pcn.joining.map((p) => (
          <li key={`joining-${p.ods}`}>
            {practiceLink(p)}: joining from {formatDate(p.date)}
            {p.fromPcn && (
              <>
                {' '}
                (leaving <Link href={`/pcns/${encodeURIComponent(p.fromPcn.code)}`}>{p.fromPcn.name}</Link>)
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Partners({ pcn }: { pcn: PcnDetail }) {
  // Group in the order the NHS lists the care community, then any type we do not know yet.
  const order = (type: string) => {
    const at = (PARTNER_TYPES as readonly string[]).indexOf(type);
    return at === -1 ? PARTNER_TYPES.length : at;
  };
  const types = [...new Set(pcn.partners.map((p) => p.type))].sort((a, b) => order(a) - order(b));

  return (
    <>
      <h2>Care community partners</h2>
      <div className="pcn-partners">
        {types.length === 0 && <p>No partner organisations are recorded for this PCN yet.</p>}
        {types.map((type) => (
          <section key={type} aria-labelledby={`partners-${type}`}>
            <h3 id={`partners-${type}`}>{partnerTypeLabel(type)}</h3>
            <ul className="nhsuk-list nhsuk-list--bullet">
              {pcn.partners
                .filter((p) => p.type === type)
                .map((partner) => (
                  <li key={partner.code}>
                    {partner.name} <span className="pcn-muted">({partner.code})</span>
                    {partner.role && <> – {partner.role}</>}
                    {partner.postcode && <span className="pcn-muted">, {partner.postcode}</span>}
                  </li>
                ))}
            </ul>
          </section>
        ))}
      </div>
    </>
  );
}

function RecentChanges({ pcn }: { pcn: PcnDetail }) {
  return (
    <>
      <h2>Recent changes</h2>
      {pcn.changes.length === 0 ? (
        <p>No changes have been made to this PCN in PCN Hub.</p>
      ) : (
        <TableRegion label={`Recent changes to ${pcn.name}`}>
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Recent changes to {pcn.name}</caption>
            <TableHead headings={['When', 'Who', 'What']} />
            <tbody className="nhsuk-table__body">
              {pcn.changes.map((change, i) => (
                <tr className="nhsuk-table__row" key={`${change.at}-${i}`}>
                  <td className="nhsuk-table__cell">
                    <time dateTime={change.at}>{formatDateTime(change.at)}</time>
                  </td>
                  <td className="nhsuk-table__cell">{change.actor}</td>
                  <td className="nhsuk-table__cell">{change.summary || change.action}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </>
  );
}

function ClinicalDirectorForm({ pcn, onChanged }: { pcn: PcnDetail; onChanged: (message: string) => Promise<void> }) {
  const [clinicalDirector, setClinicalDirector] = useState(pcn.clinicalDirector ?? '');
  const { error, busy, onSubmit } = useSubmit(async () => {
    await api.setClinicalDirector(pcn.code, clinicalDirector.trim());
    await onChanged(`Clinical director set to ${clinicalDirector.trim()}.`);
  });

  return (
    <section aria-labelledby="clinical-director-heading">
      <h3 id="clinical-director-heading">Set clinical director</h3>
      <ErrorSummary error={error} fields={{ clinicalDirector: 'clinical-director' }} />
      <form onSubmit={onSubmit} noValidate>
        <TextField
          id="clinical-director"
          label="Clinical director"
          hint="The GP or other clinician who leads the network"
          value={clinicalDirector}
          onChange={setClinicalDirector}
          error={messageFor(error, 'clinicalDirector')}
        />
        <SubmitButton busy={busy}>Set clinical director</SubmitButton>
      </form>
    </section>
  );
}

function AddPartnerForm({ pcn, onChanged }: { pcn: PcnDetail; onChanged: (message: string) => Promise<void> }) {
  const empty = { name: '', type: 'community-pharmacy' as PartnerType, code: '', postcode: '', role: '' };
  const [partner, setPartner] = useState(empty);
  const set = (field: keyof typeof empty) => (value: string) => setPartner((p) => ({ ...p, [field]: value }));

  const { error, busy, onSubmit } = useSubmit(async () => {
    const optional = (value: string) => (value.trim() ? value.trim() : undefined);
    await api.addPartner(pcn.code, {
      name: partner.name.trim(),
      type: partner.type,
      code: optional(partner.code)?.toUpperCase(),
      postcode: optional(partner.postcode),
      role: optional(partner.role),
    });
    setPartner(empty);
    await onChanged(`${partner.name.trim()} added as a ${partnerTypeLabel(partner.type).toLowerCase()} partner.`);
  });

  const fields = { name: 'partner-name', type: 'partner-type', code: 'partner-code', postcode: 'partner-postcode', role: 'partner-role' };

  return (
    <section aria-labelledby="add-partner-heading">
      <h3 id="add-partner-heading">Add a partner</h3>
      <ErrorSummary error={error} fields={fields} />
      <form onSubmit={onSubmit} noValidate>
        <TextField id={fields.name} label="Partner name" value={partner.name} onChange={set('name')} error={messageFor(error, 'name')} />
        <SelectField
          id={fields.type}
          label="Type of partner"
          value={partner.type}
          onChange={set('type')}
          options={PARTNER_TYPES.map((type) => ({ value: type, label: partnerTypeLabel(type) }))}
          error={messageFor(error, 'type')}
        />
        <TextField
          id={fields.code}
          label="Organisation code (optional)"
          hint="Its ODS code where it has one, for example FA123 for a community pharmacy. Leave blank to make one from the name."
          width={10}
          spellCheck={false}
          value={partner.code}
          onChange={set('code')}
          error={messageFor(error, 'code')}
        />
        <TextField id={fields.postcode} label="Postcode (optional)" width={10} value={partner.postcode} onChange={set('postcode')} error={messageFor(error, 'postcode')} />
        <TextField id={fields.role} label="Role in the PCN (optional)" hint="For example, Community pharmacy lead" value={partner.role} onChange={set('role')} error={messageFor(error, 'role')} />
        <SubmitButton busy={busy}>Add partner</SubmitButton>
      </form>
    </section>
  );
}
