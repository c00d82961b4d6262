/**
 * On the patient's record: who is on their care team, who the care coordinator is, and — for those who may write
 * care-plan entries for the patient (the server decides) — adding and removing members and naming the coordinator.
 * Any other active care team on the record (one a GP system sent, say) is listed after it, read-only.
 */
import type { Resource } from '@medplum/fhirtypes';
import { useState } from 'react';
import { carePlanApi, type CareTeamMember, type CareTeamView } from '../../careplan-api.ts';
import { Confirmation, ErrorSummary, InlineRadios, messageFor, SubmitButton, TextField, useSubmit } from '../forms.tsx';
import { LoadFailed, TableHead, TableRegion } from '../page-parts.tsx';
import { useResource } from '../../use-resource.ts';
import { CareTeams } from '../record/record-sections.tsx';

export function CareTeamPanel({ patientId, entries, onChanged }: { patientId: string; entries: Resource[]; onChanged?: () => void }) {
  const team = useResource(() => carePlanApi.careTeam(patientId), patientId);
  const [shown, setShown] = useState<CareTeamView | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<Error | null>(null);
  if (team.state === 'loading') return null;
  if (team.state === 'failed') {
    // The record's own care teams still show, read-only.
    return (
      <>
        <LoadFailed error={team.error} what="Care team" retry={team.reload} />
        <CareTeams entries={entries} />
      </>
    );
  }
  const view = shown ?? team.data;

  const changed = (next: CareTeamView, words: string) => {
    setShown(next);
    setMessage(words);
    setActionError(null);
    onChanged?.();
  };
  const act = async (work: () => Promise<CareTeamView>, words: string) => {
    try {
      changed(await work(), words);
    } catch (error) {
      setActionError(error instanceof Error ? error : new Error(String(error)));
    }
  };

  return (
    <section aria-labelledby="care-team-heading" className="pcn-care-team-panel">
      <h2 id="care-team-heading">Care team</h2>
      <Confirmation message={message} />
      <ErrorSummary error={actionError} />
      <p>
        Care coordinator: <strong>{view.careCoordinator ? `${view.careCoordinator.name} (${view.careCoordinator.role})` : 'none named yet'}</strong>
      </p>
      {view.members.length === 0 ? (
        <p>No one is on this patient’s care team yet.</p>
      ) : (
        <TableRegion label="Members of the care team">
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Members of the care team</caption>
            <TableHead headings={['Member', 'Role', 'Organisation', 'Change']} />
            <tbody className="nhsuk-table__body">
              {view.members.map((member, i) => (
                <MemberRow
                  key={member.key || `named-${i}`}
                  member={member}
                  onCoordinator={() => act(() => carePlanApi.setCoordinator(patientId, member.key), `${member.name} is now the care coordinator.`)}
                  onRemove={() => act(() => carePlanApi.removeMember(patientId, member.key), `${member.name} was removed from the care team.`)}
                />
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      <AddMemberForm patientId={patientId} onAdded={(next, name) => changed(next, `${name} was added to the care team.`)} />
      <CareTeams entries={entries} except={view.id} />
    </section>
  );
}

function MemberRow({ member, onCoordinator, onRemove }: { member: CareTeamMember; onCoordinator: () => void; onRemove: () => void }) {
  return (
    <tr className="nhsuk-table__row">
      <th scope="row" className="nhsuk-table__cell">
        {member.name}
        {member.kind === 'person' && <span className="nhsuk-u-secondary-text-color"> ({member.key})</span>}
      </th>
      <td className="nhsuk-table__cell">
        {member.role}
        {member.careCoordinator && <strong className="nhsuk-tag nhsuk-tag--blue pcn-coordinator-tag">Care coordinator</strong>}
      </td>
      <td className="nhsuk-table__cell">{member.organisation ?? (member.kind === 'organisation' ? member.key : '')}</td>
      <td className="nhsuk-table__cell">
        {member.kind === 'named' ? (
          <span className="nhsuk-u-secondary-text-color">Named by the sending system</span>
        ) : (
          <>
            {!member.careCoordinator && (
              <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small pcn-inline-button" onClick={onCoordinator}>
                Make care coordinator<span className="nhsuk-u-visually-hidden">: {member.name}</span>
              </button>
            )}
            <button type="button" className="nhsuk-button nhsuk-button--warning nhsuk-button--small pcn-inline-button" onClick={onRemove}>
              Remove<span className="nhsuk-u-visually-hidden"> {member.name}</span>
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

function AddMemberForm({ patientId, onAdded }: { patientId: string; onAdded: (team: CareTeamView, name: string) => void }) {
  const [kind, setKind] = useState<'person' | 'organisation'>('person');
  const [who, setWho] = useState('');
  const [role, setRole] = useState('');
  const [coordinator, setCoordinator] = useState(false);
  const { error, busy, onSubmit } = useSubmit(async () => {
    const team = await carePlanApi.addMember(patientId, { ...(kind === 'person' ? { email: who } : { ods: who }), role, careCoordinator: coordinator });
    const added = team.members.find((m) => m.key.toLowerCase() === who.trim().toLowerCase());
    onAdded(team, added?.name ?? who);
    setWho('');
    setRole('');
    setCoordinator(false);
  });
  const whoField = kind === 'person' ? 'email' : 'ods';
  return (
    <details className="nhsuk-details">
      <summary className="nhsuk-details__summary">
        <span className="nhsuk-details__summary-text">Add someone to the care team</span>
      </summary>
      <div className="nhsuk-details__text">
        <form onSubmit={onSubmit} noValidate>
          <ErrorSummary error={error} fields={{ email: 'member-who', ods: 'member-who', role: 'member-role' }} />
          <InlineRadios
            name="member-kind"
            legend="Who are you adding?"
            options={
              [
                ['person', 'A person (by email)'],
                ['organisation', 'An organisation (by code)'],
              ] as const
            }
            value={kind}
            onChange={setKind}
          />
          <TextField
            id="member-who"
            label={kind === 'person' ? 'Their email address' : 'The organisation’s code'}
            hint={kind === 'person' ? 'They see this patient’s care plan while they are on the team.' : 'An ODS code, or a partner’s code such as LA-NORFOLK.'}
            type={kind === 'person' ? 'email' : 'text'}
            value={who}
            onChange={setWho}
            error={messageFor(error, whoField)}
            spellCheck={false}
          />
          <TextField
            id="member-role"
            label="Their role on the team"
            hint="For example: social worker, community matron, carer’s support"
            value={role}
            onChange={setRole}
            error={messageFor(error, 'role')}
          />
          <div className="nhsuk-form-group">
            <div className="nhsuk-checkboxes">
              <div className="nhsuk-checkboxes__item">
                <input className="nhsuk-checkboxes__input" id="member-coordinator" type="checkbox" checked={coordinator} onChange={(event) => setCoordinator(event.target.checked)} />
                <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="member-coordinator">
                  Make them the care coordinator
                </label>
              </div>
            </div>
          </div>
          <SubmitButton busy={busy}>Add to the care team</SubmitButton>
        </form>
      </div>
    </details>
  );
}
