/**
 * People (admins): everyone who signs in, and one person's page for what joiners, movers and leavers need
 * — a new role, organisation or name, a new password (their sessions end), or disabling them at once.
 * The server decides and audits every change; this page only hides itself from other roles.
 */
import { useState } from 'react';
import { api, type Role, type UserListing } from '../api.ts';
import { Confirmation, ErrorSummary, messageFor, SelectField, SubmitButton, TextField, useSubmit } from '../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { formatDateTime } from '../format.ts';
import { ROLE_OPTIONS, roleTitle } from '../roles.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.ts';
import { usePageTitle, useResource } from '../use-resource.ts';

export const mayManagePeople = (role: string | undefined) => role === 'admin';

const organisation = (user: UserListing) => (user.org ? `${user.orgName ?? user.org} (${user.org})` : 'None');
const status = (user: UserListing) => (user.disabledAt ? `Disabled ${formatDateTime(user.disabledAt)}` : 'Active');

export function PeoplePage() {
  const me = useSession();
  usePageTitle('People');
  const people = useResource(() => api.users(), 'people');
  if (!mayManagePeople(me?.role)) return <p>Only an administrator may manage the people who sign in.</p>;
  if (people.state === 'loading') return <Loading what="the people who sign in" />;
  if (people.state === 'failed') return <LoadFailed error={people.error} what="People" retry={people.reload} />;
  return (
    <>
      <h1>People</h1>
      <p>Everyone who signs in to PCN Hub. Open a person to change their role or organisation, set a new password or disable them.</p>
      <TableRegion label="People who sign in">
        <table className="nhsuk-table">
          <caption className="nhsuk-table__caption" id="people-caption">
            {people.data.items.length} people
          </caption>
          <TableHead headings={['Name', 'Email', 'Role', 'Organisation', 'Status']} />
          <tbody className="nhsuk-table__body">
            {people.data.items.map((user) => (
              <tr className="nhsuk-table__row" key={user.email}>
                <td className="nhsuk-table__cell">
                  <Link href={`/people/${encodeURIComponent(user.email)}`}>{user.name}</Link>
                </td>
                <td className="nhsuk-table__cell">{user.email}</td>
                <td className="nhsuk-table__cell">{roleTitle(user.role)}</td>
                <td className="nhsuk-table__cell">{organisation(user)}</td>
                <td className="nhsuk-table__cell">{status(user)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </>
  );
}

export function PersonPage({ email }: { email: string }) {
  const me = useSession();
  const people = useResource(() => api.users(), `person:${email}`);
  const person = people.state === 'ready' ? people.data.items.find((u) => u.email === email) : undefined;
  usePageTitle(person?.name ?? 'Person');
  if (!mayManagePeople(me?.role)) return <p>Only an administrator may manage the people who sign in.</p>;
  if (people.state === 'loading') return <Loading what="this person" />;
  if (people.state === 'failed') return <LoadFailed error={people.error} what="This person" retry={people.reload} />;
  if (!person) return <p>No one signs in with the email {email}.</p>;
  return (
    <>
      <Breadcrumb crumbs={[{ href: '/people', text: 'People' }]} />
      <h1>{person.name}</h1>
      <dl className="nhsuk-summary-list">
        {[
          ['Email', person.email],
          ['Role', roleTitle(person.role)],
          ['Organisation', organisation(person)],
          ['Status', status(person)],
        ].map(([key, value]) => (
          <div className="nhsuk-summary-list__row" key={key}>
            <dt className="nhsuk-summary-list__key">{key}</dt>
            <dd className="nhsuk-summary-list__value">{value}</dd>
          </div>
        ))}
      </dl>
      <ChangeForm person={person} changed={() => void people.reload()} />
      <PasswordForm person={person} />
      {!person.disabledAt && <DisableForm person={person} changed={() => void people.reload()} />}
    </>
  );
}

function ChangeForm({ person, changed }: { person: UserListing; changed: () => void }) {
  const [role, setRole] = useState<Role>(person.role);
  const [org, setOrg] = useState(person.org ?? '');
  const [name, setName] = useState(person.name);
  const [done, setDone] = useState<string | null>(null);
  const submit = useSubmit(async () => {
    setDone(null);
    const change = { ...(role !== person.role ? { role } : {}), ...(org.trim() !== (person.org ?? '') ? { org: org.trim() || null } : {}), ...(name !== person.name ? { name } : {}) };
    if (Object.keys(change).length === 0) throw new Error('Change the role, the organisation or the name first');
    const after = await api.changeUser(person.email, change);
    setDone(`Saved: ${after.name} is now ${roleTitle(after.role)}${after.org ? ` at ${after.orgName ?? after.org}` : ''}, from their next request.`);
    changed();
  });
  return (
    <form noValidate onSubmit={submit.onSubmit}>
      <h2>Role, organisation and name</h2>
      <ErrorSummary error={submit.error} fields={{ role: 'person-role', org: 'person-org', name: 'person-name' }} />
      <Confirmation message={done} />
      <SelectField id="person-role" label="Role" value={role} onChange={(v) => setRole(v as Role)} options={ROLE_OPTIONS} error={messageFor(submit.error, 'role')} />
      <TextField
        id="person-org"
        label="Organisation code"
        hint="A PCN, practice or partner organisation's code, such as U90001 or Z90101. Leave empty for none."
        value={org}
        onChange={setOrg}
        width={10}
        spellCheck={false}
        error={messageFor(submit.error, 'org')}
      />
      <TextField id="person-name" label="Full name" value={name} onChange={setName} error={messageFor(submit.error, 'name')} />
      <SubmitButton busy={submit.busy}>Save changes</SubmitButton>
    </form>
  );
}

function PasswordForm({ person }: { person: UserListing }) {
  const [password, setPassword] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const submit = useSubmit(async () => {
    setDone(null);
    await api.resetPassword(person.email, password);
    setPassword('');
    setDone(`A new password is set. ${person.name} has been signed out everywhere and signs in with it.`);
  });
  return (
    <form noValidate onSubmit={submit.onSubmit}>
      <h2>New password</h2>
      <ErrorSummary error={submit.error} fields={{ password: 'person-password' }} />
      <Confirmation message={done} />
      <TextField
        id="person-password"
        label="New password"
        hint="Give it to them in person or by phone. Their current sessions end."
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={setPassword}
        error={messageFor(submit.error, 'password')}
      />
      <SubmitButton busy={submit.busy}>Set the new password</SubmitButton>
    </form>
  );
}

function DisableForm({ person, changed }: { person: UserListing; changed: () => void }) {
  const [sure, setSure] = useState(false);
  const submit = useSubmit(async () => {
    if (!sure) throw new Error(`Confirm that ${person.name} should be disabled`);
    await api.disableUser(person.email);
    changed();
  });
  return (
    <form noValidate onSubmit={submit.onSubmit}>
      <h2>Disable</h2>
      <ErrorSummary error={submit.error} />
      <p>A leaver is disabled at once: they cannot sign in, and their sessions stop working. What they did stays on the record and in the audit.</p>
      <div className="nhsuk-form-group">
        <div className="nhsuk-checkboxes">
          <div className="nhsuk-checkboxes__item">
            <input className="nhsuk-checkboxes__input" id="person-disable-sure" type="checkbox" checked={sure} onChange={(event) => setSure(event.target.checked)} />
            <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="person-disable-sure">
              Disable {person.name} now
            </label>
          </div>
        </div>
      </div>
      <button type="submit" className="nhsuk-button nhsuk-button--warning" disabled={submit.busy}>
        Disable {person.name}
      </button>
    </form>
  );
}
