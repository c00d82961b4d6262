/**
 * "My patients": the home of a pharmacist, social worker, mental health practitioner, link worker or care
 * coordinator — the patients whose care team names their organisation, and their organisation's inbox of
 * open referrals and tasks. A clinician sees the same caseload below patient search. Both come through
 * the access policy and are audited (/api/my/patients, /api/my/inbox).
 */
import type { ReactNode } from 'react';
import { api, type CaseloadPatient, type InboxItem, type PatientListing } from '../../api.ts';
import { LoadFailed, Loading } from '../../components/page-parts.tsx';
import { formatNhsNumber } from '../../components/record/entries.ts';
import { type Column, SortableTable } from '../../components/sortable-table.tsx';
import { formatDate } from '../../format.ts';
import { Link } from '../../router.tsx';
import { useSession } from '../../session.ts';
import { roleTitle, seesPatients } from '../../roles.ts';
import { usePageTitle, useResource } from '../../use-resource.ts';

const patientLink = (p: { id: string; name: string }) => <Link href={`/patients/${encodeURIComponent(p.id)}`}>{p.name}</Link>;

/** Who a listed patient is: name (a link to their record), NHS number, date of birth, registered practice. */
const PATIENT_COLUMNS: Column<PatientListing>[] = [
  { key: 'name', header: 'Name', sortValue: (p) => p.name, cell: patientLink },
  { key: 'nhs', header: 'NHS number', sortValue: (p) => formatNhsNumber(p.nhsNumber ?? '') || null },
  { key: 'dob', header: 'Date of birth', sortValue: (p) => p.birthDate, cell: (p) => formatDate(p.birthDate) },
  { key: 'practice', header: 'Registered practice', sortValue: (p) => p.practice },
];

export function MyPatientsPage() {
  const user = useSession();
  usePageTitle('My patients');
  if (!seesPatients(user?.role)) {
    return (
      <>
        <h1>My patients</h1>
        <p>Your role ({roleTitle(user?.role ?? '')}) does not see patient records.</p>
      </>
    );
  }
  return (
    <>
      <h1>My patients</h1>
      <p>
        {user?.name}, {roleTitle(user?.role ?? '')}
        {user?.orgName ? `, ${user.orgName}` : ''}. <Link href="/patients">Find another patient</Link>
      </p>
      <Caseload headingLevel={2} />
      <InboxSection />
    </>
  );
}

/**
 * The user's caseload: patients on a care team with their organisation (or a clear empty state), and apart,
 * the patients whose record they opened recently — each list says which it is.
 */
export function Caseload({ headingLevel }: { headingLevel: 2 | 3 }) {
  const caseload = useResource(() => api.myPatients(), 'caseload');
  const Heading = `h${headingLevel}` as const;
  let body: ReactNode;
  if (caseload.state === 'loading') body = <Loading what="your patients" />;
  else if (caseload.state === 'failed') body = <LoadFailed error={caseload.error} what="Your patients" retry={caseload.reload} />;
  else {
    const { patients, orgName, more } = caseload.data;
    const team = orgName ?? 'your organisation';
    body =
      patients.length === 0 ? (
        <p>
          No patient’s care team names {team} yet. When a patient’s care team includes {team}, they are listed here.
        </p>
      ) : (
        <>
          <p>
            Patients whose care team includes {team} ({patients.length}
            {more ? '+' : ''}).
          </p>
          <SortableTable<CaseloadPatient>
            caption={`Patients on a care team with ${team}`}
            rows={patients}
            rowKey={(p) => p.id}
            columns={[...(PATIENT_COLUMNS as Column<CaseloadPatient>[]), { key: 'team', header: 'Care team', sortValue: (p) => p.careTeam }]}
          />
        </>
      );
  }
  const recent = caseload.state === 'ready' ? caseload.data.recent : [];
  return (
    <>
      <section aria-labelledby="caseload-heading" className="pcn-caseload">
        <Heading id="caseload-heading">Your patients (care teams)</Heading>
        {body}
      </section>
      {recent.length > 0 && (
        <section aria-labelledby="recent-heading" className="pcn-recent-patients">
          <Heading id="recent-heading">Patients you opened recently</Heading>
          <p>Records you opened in the last 30 days that you may still open, most recent first.</p>
          <SortableTable<PatientListing> caption="Patients whose record you opened recently" rows={recent} rowKey={(p) => p.id} columns={PATIENT_COLUMNS} />
        </section>
      )}
    </>
  );
}

const KIND_WORDS: Record<InboxItem['kind'], string> = { referral: 'Referral', task: 'Task' };

/** Open referrals the organisation performs and open tasks it owns, or a clear empty state. */
function InboxSection() {
  const inbox = useResource(() => api.myInbox(), 'inbox');
  let body: ReactNode;
  if (inbox.state === 'loading') body = <Loading what="your inbox" />;
  else if (inbox.state === 'failed') body = <LoadFailed error={inbox.error} what="Your inbox" retry={inbox.reload} />;
  else if (inbox.data.items.length === 0) body = <p>Your inbox is empty: no open referrals or tasks for your organisation.</p>;
  else {
    body = (
      <SortableTable<InboxItem>
        caption="Open referrals and tasks for your organisation, newest first"
        rows={inbox.data.items}
        rowKey={(i) => `${i.kind}/${i.id}`}
        columns={[
          { key: 'date', header: 'Date', sortValue: (i) => i.date, cell: (i) => formatDate(i.date) },
          { key: 'kind', header: 'Kind', sortValue: (i) => KIND_WORDS[i.kind] },
          { key: 'what', header: 'What', sortValue: (i) => i.what, cell: (i) => (i.kind === 'referral' ? <Link href={`/referrals/${encodeURIComponent(i.id)}`}>{i.what}</Link> : i.what) },
          { key: 'patient', header: 'Patient', sortValue: (i) => i.patient?.name ?? null, cell: (i) => (i.patient ? patientLink(i.patient) : 'Not recorded') },
          { key: 'from', header: 'From', sortValue: (i) => i.from },
        ]}
      />
    );
  }
  return (
    <section aria-labelledby="inbox-heading" className="pcn-inbox">
      <h2 id="inbox-heading">Inbox</h2>
      {body}
    </section>
  );
}
