/**
 * The parts of a patient's record page: the banner, "What matters to me", the care team, problems,
 * medicines, allergies and measurements. Each reads FHIR resources through entries.ts.
 */
import type { AllergyIntolerance, CareTeam, Condition, MedicationRequest, MedicationStatement, Patient, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import type { ReactNode } from 'react';
import { api } from '../../api.ts';
import { formatDate } from '../../format.ts';
import { Link } from '../../router.tsx';
import { TableHead, TableRegion } from '../page-parts.tsx';
import { useResource } from '../../use-resource.ts';
import {
  addressText,
  ageText,
  agencyLabel,
  agencyOf,
  answersOf,
  authorOf,
  bannerName,
  codeText,
  entryDate,
  formatNhsNumber,
  genderText,
  isWhatMatters,
  newestFirst,
  nhsNumberOf,
  noteText,
  observationValue,
  organisationOf,
  organisationText,
  otherObservations,
  registeredPractice,
  trendsOf,
} from './entries.ts';
import { TrendChart } from './trend-chart.tsx';
import './record.css';

// -----------------------------------------------------------------------------------------------
// Banner
// -----------------------------------------------------------------------------------------------

export function PatientBanner({ patient }: { patient: Patient }) {
  const practice = registeredPractice(patient);
  const age = ageText(patient.birthDate);
  const facts: [string, ReactNode][] = [
    ['NHS number', formatNhsNumber(nhsNumberOf(patient)) || 'Not recorded'],
    ['Born', patient.birthDate ? `${formatDate(patient.birthDate)}${age ? ` (${age})` : ''}` : 'Not recorded'],
    ['Gender', genderText(patient.gender)],
    ['Address', addressText(patient) ?? 'Not recorded'],
    ['Registered practice', practice?.code ? <Link href={`/practices/${encodeURIComponent(practice.code)}`}>{organisationText(practice)}</Link> : organisationText(practice)],
    ['PCN', practice?.code ? <PracticePcn ods={practice.code} /> : 'Not known'],
  ];
  if (patient.deceasedBoolean || patient.deceasedDateTime) {
    facts.splice(2, 0, ['Died', patient.deceasedDateTime ? formatDate(patient.deceasedDateTime) : 'Yes']);
  }
  return (
    <section className="pcn-patient-banner" aria-labelledby="patient-name">
      <span className="nhsuk-caption-m pcn-patient-banner__caption">Shared care record</span>
      <h1 className="pcn-patient-banner__name" id="patient-name">
        {bannerName(patient)}
      </h1>
      <dl className="pcn-patient-banner__facts">
        {facts.map(([key, value]) => (
          <div className="pcn-patient-banner__fact" key={key}>
            <dt>{key}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

/** The registered practice's PCN, from the network registry (`/api/practices/:ods`). */
function PracticePcn({ ods }: { ods: string }) {
  const practice = useResource(() => api.practice(ods), ods);
  if (practice.state === 'loading') return <>Loading…</>;
  if (practice.state === 'failed') return <>Not known</>;
  const pcn = practice.data.pcn;
  return pcn ? <Link href={`/pcns/${encodeURIComponent(pcn.code)}`}>{`${pcn.name} (${pcn.code})`}</Link> : <>Not in a PCN</>;
}

// -----------------------------------------------------------------------------------------------
// What matters to me
// -----------------------------------------------------------------------------------------------

export const latestWhatMatters = (entries: Resource[]): QuestionnaireResponse | undefined => entries.filter(isWhatMatters).sort(newestFirst)[0];

function RecordedBy({ resource, verb = 'Recorded' }: { resource: Resource; verb?: string }) {
  const date = entryDate(resource);
  const org = authorOf(resource);
  const agency = agencyOf(resource);
  return (
    <p className="nhsuk-body-s pcn-muted pcn-recorded-by">
      {verb}
      {date ? ` on ${formatDate(date)}` : ''}
      {org ? ` by ${organisationText(org)}` : ''} <AgencyTag code={agency} />
    </p>
  );
}

export function WhatMattersToMe({ entries, patientName }: { entries: Resource[]; patientName: string }) {
  const latest = latestWhatMatters(entries);
  const answers = latest ? answersOf(latest) : [];
  return (
    <section className="nhsuk-card nhsuk-card--feature pcn-what-matters" aria-labelledby="what-matters-heading">
      <div className="nhsuk-card__content">
        <h2 className="nhsuk-card__heading" id="what-matters-heading">
          What matters to me
        </h2>
        {latest && answers.length > 0 ? (
          <>
            <p className="nhsuk-body-s pcn-muted">In {patientName}’s own words, shared with everyone in their care team.</p>
            <dl className="nhsuk-summary-list nhsuk-summary-list--no-last-row-border">
              {answers.map((a, i) => (
                <div className="nhsuk-summary-list__row" key={`${a.question}-${i}`}>
                  <dt className="nhsuk-summary-list__key">{a.question}</dt>
                  <dd className="nhsuk-summary-list__value pcn-what-matters__answer">{a.answer}</dd>
                </div>
              ))}
            </dl>
            <RecordedBy resource={latest} verb="Last updated" />
          </>
        ) : (
          <p>
            Not recorded yet. Ask {patientName} what matters to them, and add it under <a href="#add-entry">Add an entry</a>, so nobody needs to ask again.
          </p>
        )}
      </div>
    </section>
  );
}

// -----------------------------------------------------------------------------------------------
// Tags
// -----------------------------------------------------------------------------------------------

const AGENCY_COLOURS: Record<string, string> = {
  'gp-practice': 'nhsuk-tag--blue',
  pcn: 'nhsuk-tag--blue',
  'community-pharmacy': 'nhsuk-tag--green',
  'social-care': 'nhsuk-tag--purple',
  'mental-health': 'nhsuk-tag--pink',
  voluntary: 'nhsuk-tag--aqua-green',
  'community-services': 'nhsuk-tag--yellow',
  acute: 'nhsuk-tag--orange',
  'nhs-trust': 'nhsuk-tag--orange',
};

export function AgencyTag({ code }: { code: string }) {
  return <strong className={`nhsuk-tag ${AGENCY_COLOURS[code] ?? 'nhsuk-tag--grey'} pcn-agency-tag`}>{agencyLabel(code)}</strong>;
}

const ACTIVE = new Set(['active', 'recurrence', 'relapse']);

function StatusTag({ status }: { status: string | null | undefined }) {
  if (!status) return <strong className="nhsuk-tag nhsuk-tag--grey">Not recorded</strong>;
  const word = status.charAt(0).toUpperCase() + status.slice(1).replace(/-/g, ' ');
  const colour = ACTIVE.has(status) ? 'nhsuk-tag--green' : status === 'entered-in-error' ? 'nhsuk-tag--red' : 'nhsuk-tag--grey';
  return <strong className={`nhsuk-tag ${colour}`}>{word}</strong>;
}

// -----------------------------------------------------------------------------------------------
// Lists
// -----------------------------------------------------------------------------------------------

function RecordTable({ caption, headers, rows, empty }: { caption: string; headers: string[]; rows: Array<{ key: string; cells: ReactNode[] }>; empty: string }) {
  if (rows.length === 0) return <p>{empty}</p>;
  return (
    <TableRegion label={caption}>
      <table className="nhsuk-table pcn-record-table">
        <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">{caption}</caption>
        <TableHead headings={headers} />
        <tbody className="nhsuk-table__body">
          {rows.map((row) => (
            <tr className="nhsuk-table__row" key={row.key}>
              {row.cells.map((cell, i) =>
                i === 0 ? (
                  <th scope="row" className="nhsuk-table__cell" key={i}>
                    {cell}
                  </th>
                ) : (
                  <td className="nhsuk-table__cell" key={i}>
                    {cell}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

const ofType = <T extends Resource>(entries: Resource[], ...types: T['resourceType'][]) => entries.filter((e): e is T => (types as string[]).includes(e.resourceType));

function withNote(title: string, resource: Resource): ReactNode {
  const note = noteText(resource);
  return note ? (
    <>
      {title}
      <span className="pcn-cell-note">{note}</span>
    </>
  ) : (
    title
  );
}

function Recorder({ resource }: { resource: Resource }) {
  const org = authorOf(resource);
  return (
    <>
      {organisationText(org)}
      <br />
      <AgencyTag code={agencyOf(resource)} />
    </>
  );
}

export function Problems({ entries }: { entries: Resource[] }) {
  const conditions = ofType<Condition>(entries, 'Condition')
    .filter((c) => c.verificationStatus?.coding?.[0]?.code !== 'entered-in-error')
    .sort((a, b) => {
      const active = Number(ACTIVE.has(b.clinicalStatus?.coding?.[0]?.code ?? '')) - Number(ACTIVE.has(a.clinicalStatus?.coding?.[0]?.code ?? ''));
      return active || newestFirst(a, b);
    });
  return (
    <section aria-labelledby="problems-heading">
      <h2 id="problems-heading">Problems</h2>
      <RecordTable
        caption="Problems, active first"
        headers={['Problem', 'Status', 'Since', 'Recorded by']}
        empty="No problems are recorded."
        rows={conditions.map((c) => ({
          key: c.id ?? codeText(c.code) ?? '',
          cells: [
            withNote(codeText(c.code) ?? 'Problem', c),
            <StatusTag status={c.clinicalStatus?.coding?.[0]?.code} />,
            formatDate(c.onsetDateTime ?? c.recordedDate ?? entryDate(c)),
            <Recorder resource={c} />,
          ],
        }))}
      />
    </section>
  );
}

export function Medicines({ entries }: { entries: Resource[] }) {
  const medicines = ofType<MedicationRequest | MedicationStatement>(entries, 'MedicationRequest', 'MedicationStatement')
    .filter((m) => m.status !== 'entered-in-error')
    .sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active') || newestFirst(a, b));
  return (
    <section aria-labelledby="medicines-heading">
      <h2 id="medicines-heading">Medicines</h2>
      <RecordTable
        caption="Medicines, current first"
        headers={['Medicine', 'How to take it', 'Status', 'From', 'Prescribed or recorded by']}
        empty="No medicines are recorded."
        rows={medicines.map((m) => {
          const dosage = m.resourceType === 'MedicationRequest' ? m.dosageInstruction?.[0]?.text : m.dosage?.[0]?.text;
          return {
            key: m.id ?? '',
            cells: [
              withNote(codeText(m.medicationCodeableConcept) ?? m.medicationReference?.display ?? 'Medicine', m),
              dosage ?? '',
              <StatusTag status={m.status} />,
              formatDate(entryDate(m)),
              <Recorder resource={m} />,
            ],
          };
        })}
      />
    </section>
  );
}

export function Allergies({ entries }: { entries: Resource[] }) {
  const allergies = ofType<AllergyIntolerance>(entries, 'AllergyIntolerance').sort(newestFirst);
  return (
    <section aria-labelledby="allergies-heading">
      <h2 id="allergies-heading">Allergies and adverse reactions</h2>
      <RecordTable
        caption="Allergies and adverse reactions, newest first"
        headers={['Substance', 'Reaction', 'Criticality', 'Recorded', 'Recorded by']}
        empty="No allergies are recorded. This does not mean the patient has none."
        rows={allergies.map((a) => ({
          key: a.id ?? '',
          cells: [
            withNote(codeText(a.code) ?? 'Allergy', a),
            (a.reaction ?? [])
              .flatMap((r) => (r.manifestation ?? []).map(codeText))
              .filter(Boolean)
              .join(', '),
            a.criticality ? a.criticality.charAt(0).toUpperCase() + a.criticality.slice(1).replace(/-/g, ' ') : '',
            formatDate(entryDate(a)),
            <Recorder resource={a} />,
          ],
        }))}
      />
    </section>
  );
}

/**
 * The patient's active care teams as the record holds them, read-only: all of them (as "Care team"), or — beside the
 * care team panel, which shows and edits THE care team — the others (`except` its id, as "Other care teams").
 */
export function CareTeams({ entries, except }: { entries: Resource[]; except?: string | null }) {
  const teams = ofType<CareTeam>(entries, 'CareTeam').filter((t) => t.status !== 'entered-in-error' && t.status !== 'inactive' && (except === undefined || t.id !== except));
  if (teams.length === 0) return null;
  const others = except !== undefined;
  return (
    <section aria-labelledby={others ? 'other-care-teams-heading' : 'care-team-heading'}>
      {others ? <h3 id="other-care-teams-heading">Other care teams</h3> : <h2 id="care-team-heading">Care team</h2>}
      {teams.map((team) => (
        <div key={team.id} className="pcn-care-team">
          {(teams.length > 1 || others) && <h3 className={others ? 'nhsuk-heading-s' : undefined}>{team.name ?? 'Care team'}</h3>}
          <RecordTable
            caption={team.name ?? 'Care team'}
            headers={['Member', 'Role', 'Organisation']}
            empty="No members are listed."
            rows={(team.participant ?? []).map((p, i) => ({
              key: `${team.id}-${i}`,
              cells: [
                p.member?.display ?? p.member?.reference ?? 'Not named',
                p.role?.map(codeText).filter(Boolean).join(', ') ?? '',
                organisationText(organisationOf(p.onBehalfOf) ?? (p.member?.identifier ? organisationOf(p.member) : null)),
              ],
            }))}
          />
        </div>
      ))}
    </section>
  );
}

export function Measurements({ entries }: { entries: Resource[] }) {
  const trends = trendsOf(entries);
  const others = otherObservations(entries);
  return (
    <section aria-labelledby="measurements-heading">
      <h2 id="measurements-heading">Measurements and results</h2>
      {trends.length === 0 && others.length === 0 && <p>No measurements or results are recorded.</p>}
      <div className="pcn-trends">
        {trends.map((trend) => (
          <section key={trend.kind} className="pcn-trends__item" aria-labelledby={`trend-${trend.kind}`}>
            <h3 id={`trend-${trend.kind}`}>{trend.title}</h3>
            <TrendChart trend={trend} />
          </section>
        ))}
      </div>
      {others.length > 0 && (
        <>
          <h3>Other results</h3>
          <RecordTable
            caption="Other measurements and results, newest first"
            headers={['Measurement', 'Value', 'Date', 'Recorded by']}
            empty=""
            rows={others.map((o) => ({
              key: o.id ?? '',
              cells: [codeText(o.code) ?? 'Observation', observationValue(o) ?? '', formatDate(entryDate(o)), <Recorder resource={o} />],
            }))}
          />
        </>
      )}
    </section>
  );
}
