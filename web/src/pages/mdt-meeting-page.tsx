/**
 * One MDT meeting (issue 12): when and where, the agenda — built from a cohort or worklist or by NHS number — with,
 * for each patient, the discussion and actions (a task with an owner and a due date, or a referral to a service in the
 * directory, which goes to that service's inbox), the attendance, and
 * closing the meeting, which puts the minutes on each patient's record. A patient whose record you may not open is
 * listed without any detail.
 */
import { useState } from 'react';
import { type AgendaItemView, api, ApiError, type DirectoryService, type MeetingView } from '../api.ts';
import { Confirmation, DateField, type DateParts, ErrorSummary, emptyDate, FormGroup, isoFromParts, messageFor, SelectField, SubmitButton, TextField, useSubmit } from '../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { formatDate, formatDateTime } from '../format.ts';
import { formatNhsNumber } from '../components/record/entries.ts';
import { Link } from '../router.tsx';
import { usePageTitle, useResource } from '../use-resource.ts';

export function MdtMeetingPage({ id }: { id: string }) {
  const meeting = useResource(() => api.meeting(id), `meeting:${id}`);
  const pcnCode = meeting.state === 'ready' ? meeting.data.pcnCode : null;
  // The services a patient can be referred to from this meeting: those covering its PCN.
  const services = useResource(async () => (pcnCode ? (await api.services({ pcn: pcnCode })).items : []), `meeting-services:${pcnCode}`);
  usePageTitle(meeting.state === 'ready' ? meeting.data.title : 'MDT meeting');
  const [message, setMessage] = useState<string | null>(null);
  if (meeting.state === 'loading') return <Loading what="the meeting" />;
  if (meeting.state === 'failed') return <LoadFailed error={meeting.error} what="The meeting" retry={meeting.reload} />;
  const m = meeting.data;
  const open = m.status === 'scheduled';
  const changed = async (text: string) => {
    setMessage(text);
    await meeting.reload();
  };
  const listed = m.agenda.filter((i) => !i.removed);
  const removed = m.agenda.length - listed.length;
  return (
    <>
      <Breadcrumb crumbs={[{ href: '/mdt', text: 'MDT meetings' }]} />
      <h1>{m.title}</h1>
      <dl className="nhsuk-summary-list">
        <Row term="When" value={formatDateTime(m.startsAt)} />
        <Row term="Where" value={m.place || 'Not given'} />
        <Row term="Chair" value={m.chair.name} />
        <Row term="Status" value={open ? 'Scheduled' : m.status === 'closed' ? `Closed ${m.closedAt ? formatDateTime(m.closedAt) : ''}: the minutes are on each patient’s record` : 'Cancelled'} />
      </dl>
      <Confirmation message={message} />
      {open && <AgendaBuilder meetingId={m.id} onAdded={changed} />}
      <h2>Agenda</h2>
      {listed.length === 0 ? (
        <p>Nobody is on the agenda yet.</p>
      ) : (
        listed.map((item, n) => <AgendaItem key={item.id} meeting={m} item={item} number={n + 1} services={services.state === 'ready' ? services.data : []} onChanged={changed} />)
      )}
      {removed > 0 && <p>Taken off the agenda: {removed} patient(s). Nothing about them goes on their record from this meeting.</p>}
      <Attendance meeting={m} onChanged={changed} />
      {open && <CloseMeeting meeting={m} onClosed={changed} />}
    </>
  );
}

function Row({ term, value }: { term: string; value: string }) {
  return (
    <div className="nhsuk-summary-list__row">
      <dt className="nhsuk-summary-list__key">{term}</dt>
      <dd className="nhsuk-summary-list__value">{value}</dd>
    </div>
  );
}

function AgendaBuilder({ meetingId, onAdded }: { meetingId: string; onAdded: (message: string) => Promise<void> }) {
  const lists = useResource(async () => {
    const [cohorts, worklists] = await Promise.all([api.cohorts(), api.worklists()]);
    return [...cohorts.items.map((c) => ({ value: `cohort:${c.id}`, label: `Cohort: ${c.name}` })), ...worklists.items.map((w) => ({ value: `worklist:${w.id}`, label: `Worklist: ${w.name}` }))];
  }, 'mdt-lists');
  const [chosen, setChosen] = useState('');
  const [nhsNumber, setNhsNumber] = useState('');
  const fromList = useSubmit(async () => {
    const [kind, listId] = chosen.split(':');
    if (!listId) throw new ApiError(422, 'invalid', 'Select a cohort or worklist', 'list');
    const added = await api.addToAgenda(meetingId, kind === 'cohort' ? { cohortId: listId } : { worklistId: listId });
    await onAdded(`${added.added} patient(s) added to the agenda${added.alreadyListed ? `; ${added.alreadyListed} already on it` : ''}.`);
  });
  const byHand = useSubmit(async () => {
    const added = await api.addToAgenda(meetingId, { nhsNumber: nhsNumber.replace(/\s/g, '') });
    setNhsNumber('');
    await onAdded(added.added ? 'The patient was added to the agenda.' : 'The patient is already on the agenda.');
  });
  const options = lists.state === 'ready' ? lists.data : [];
  return (
    <>
      <h2>Build the agenda</h2>
      <form onSubmit={fromList.onSubmit} noValidate>
        <ErrorSummary error={fromList.error} fields={{ list: 'list', cohortId: 'list', worklistId: 'list' }} />
        <SelectField
          id="list"
          label="From a cohort or worklist"
          hint="Every patient on it whose record you may open is added"
          value={chosen}
          onChange={setChosen}
          options={[{ value: '', label: options.length ? 'Select a list' : 'No cohorts or worklists yet' }, ...options]}
          error={messageFor(fromList.error, 'list') ?? messageFor(fromList.error, 'cohortId') ?? messageFor(fromList.error, 'worklistId')}
        />
        <SubmitButton busy={fromList.busy}>Add the list’s patients</SubmitButton>
      </form>
      <form onSubmit={byHand.onSubmit} noValidate>
        <ErrorSummary error={byHand.error} fields={{ nhsNumber: 'nhsNumber' }} />
        <TextField id="nhsNumber" label="Or one patient by NHS number" value={nhsNumber} onChange={setNhsNumber} width={10} error={messageFor(byHand.error, 'nhsNumber')} />
        <button type="submit" className="nhsuk-button nhsuk-button--secondary" disabled={byHand.busy}>
          Add patient
        </button>
      </form>
    </>
  );
}

function AgendaItem({
  meeting,
  item,
  number,
  services,
  onChanged,
}: {
  meeting: MeetingView;
  item: AgendaItemView;
  number: number;
  services: DirectoryService[];
  onChanged: (message: string) => Promise<void>;
}) {
  const open = meeting.status === 'scheduled';
  if (!item.patient) {
    return (
      <section className="nhsuk-card" aria-label={`Agenda item ${number}`}>
        <div className="nhsuk-card__content">
          <h3 className="nhsuk-card__heading">{number}. A patient whose record you may not open</h3>
          <p className="nhsuk-card__description">Their details and discussion are shown only to those who may open their record.</p>
        </div>
      </section>
    );
  }
  const patient = item.patient;
  return (
    <section className="nhsuk-card" aria-labelledby={`item-${item.id}`}>
      <div className="nhsuk-card__content">
        <h3 className="nhsuk-card__heading" id={`item-${item.id}`}>
          {number}. <Link href={`/patients/${patient.id}`}>{patient.name}</Link>
        </h3>
        <p className="nhsuk-card__description">
          NHS number {patient.nhsNumber ? formatNhsNumber(patient.nhsNumber) : 'not recorded'}
          {patient.birthDate ? `, born ${formatDate(patient.birthDate)}` : ''}
          {patient.practice ? `, ${patient.practice}` : ''}
        </p>
        {open ? <Discussion meetingId={meeting.id} item={item} onSaved={onChanged} /> : <Minutes item={item} />}
        <Actions item={item} />
        {open && <ActionForm meetingId={meeting.id} item={item} onAdded={onChanged} />}
        {open && <ReferralActionForm meetingId={meeting.id} item={item} services={services} onAdded={onChanged} />}
        {open && <RemoveItem meetingId={meeting.id} item={item} onRemoved={onChanged} />}
      </div>
    </section>
  );
}

function Minutes({ item }: { item: AgendaItemView }) {
  if (!item.discussion) return <p>No discussion you may see.</p>;
  return (
    <>
      <h4>Minutes</h4>
      {item.discussion.notes.map((note, n) => (
        <p key={n}>{note}</p>
      ))}
    </>
  );
}

function Discussion({ meetingId, item, onSaved }: { meetingId: string; item: AgendaItemView; onSaved: (message: string) => Promise<void> }) {
  const [notes, setNotes] = useState(item.discussion?.notes.join('\n') ?? '');
  const id = `notes-${item.id}`;
  const { error, busy, onSubmit } = useSubmit(async () => {
    await api.saveDiscussion(meetingId, item.id, notes);
    await onSaved(`Discussion saved for ${item.patient?.name}.`);
  });
  return (
    <form onSubmit={onSubmit} noValidate>
      <ErrorSummary error={error} fields={{ notes: id }} />
      <FormGroup id={id} label="Discussion" hint="Saved on the patient’s record as an MDT discussion in progress; it becomes the minutes when the meeting closes" error={messageFor(error, 'notes')}>
        <textarea className="nhsuk-textarea" id={id} name={id} rows={4} value={notes} onChange={(event) => setNotes(event.target.value)} aria-describedby={`${id}-hint`} />
      </FormGroup>
      <button type="submit" className="nhsuk-button nhsuk-button--secondary" disabled={busy}>
        Save discussion
      </button>
    </form>
  );
}

function Actions({ item }: { item: AgendaItemView }) {
  if (item.actions.length === 0) return <p>No actions yet.</p>;
  return (
    <TableRegion label={`Actions for ${item.patient?.name ?? 'the patient'}`}>
      <table className="nhsuk-table">
        <caption className="nhsuk-table__caption nhsuk-table__caption--s">Actions</caption>
        <TableHead headings={['Action', 'Owner', 'Due', 'Status']} />
        <tbody className="nhsuk-table__body">
          {item.actions.map((a) => (
            <tr className="nhsuk-table__row" key={a.id}>
              <td className="nhsuk-table__cell">{a.kind === 'referral' ? <Link href={`/referrals/${encodeURIComponent(a.id)}`}>{a.description}</Link> : a.description}</td>
              <td className="nhsuk-table__cell">{a.owner}</td>
              <td className="nhsuk-table__cell">{a.kind === 'referral' ? 'By its urgency' : a.due ? formatDate(a.due) : 'No date'}</td>
              <td className="nhsuk-table__cell">{a.kind === 'referral' ? `Referral ${a.status}` : a.status === 'requested' ? 'To do' : a.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

function ActionForm({ meetingId, item, onAdded }: { meetingId: string; item: AgendaItemView; onAdded: (message: string) => Promise<void> }) {
  const [description, setDescription] = useState('');
  const [ownerEmail, setOwnerEmail] = useState('');
  const [ownerOrg, setOwnerOrg] = useState('');
  const [ownerRole, setOwnerRole] = useState('');
  const [due, setDue] = useState<DateParts>(emptyDate);
  const at = (field: string) => `${field}-${item.id}`;
  const { error, busy, onSubmit } = useSubmit(async () => {
    const dueIso = isoFromParts(due, 'due', 'The due date', 'Enter the date it is due by');
    await api.addAction(meetingId, item.id, {
      description,
      due: dueIso!,
      ...(ownerEmail.trim() ? { ownerEmail: ownerEmail.trim() } : { ownerOrg: ownerOrg.trim(), ownerRole: ownerRole.trim() }),
    });
    setDescription('');
    setOwnerEmail('');
    setOwnerOrg('');
    setOwnerRole('');
    setDue(emptyDate);
    await onAdded(`Action added for ${item.patient?.name}: it is a task for its owner.`);
  });
  return (
    <form onSubmit={onSubmit} noValidate>
      <h4>Add an action</h4>
      <ErrorSummary error={error} fields={{ description: at('description'), ownerEmail: at('ownerEmail'), due: at('due') }} />
      <TextField id={at('description')} label="What is to be done" value={description} onChange={setDescription} error={messageFor(error, 'description')} />
      <TextField
        id={at('ownerEmail')}
        label="Owner’s email address"
        hint="A person; or leave blank and give an organisation and a role below"
        type="email"
        value={ownerEmail}
        onChange={setOwnerEmail}
        error={messageFor(error, 'ownerEmail')}
      />
      <TextField id={at('ownerOrg')} label="Or an organisation (ODS or registry code)" value={ownerOrg} onChange={setOwnerOrg} width={10} />
      <TextField id={at('ownerRole')} label="And a role in it" hint="For example, social-worker" value={ownerRole} onChange={setOwnerRole} width={20} />
      <DateField id={at('due')} legend="Due by" value={due} onChange={setDue} error={messageFor(error, 'due')} />
      <button type="submit" className="nhsuk-button nhsuk-button--secondary" disabled={busy}>
        Add action
      </button>
    </form>
  );
}

function ReferralActionForm({ meetingId, item, services, onAdded }: { meetingId: string; item: AgendaItemView; services: DirectoryService[]; onAdded: (message: string) => Promise<void> }) {
  const [serviceId, setServiceId] = useState('');
  const [reason, setReason] = useState('');
  const [priority, setPriority] = useState<'routine' | 'urgent' | 'asap'>('routine');
  const [consent, setConsent] = useState(false);
  const at = (field: string) => `refer-${field}-${item.id}`;
  const { error, busy, onSubmit } = useSubmit(async () => {
    if (!serviceId) throw new ApiError(422, 'invalid', 'Choose the service to refer to', 'serviceId');
    const sent = await api.addReferralAction(meetingId, item.id, { serviceId, reason, priority, consentToShare: consent });
    setServiceId('');
    setReason('');
    setPriority('routine');
    setConsent(false);
    await onAdded(`Referral sent for ${item.patient?.name} to ${sent.owner}: it is in the service’s inbox.`);
  });
  const consentError = messageFor(error, 'consentToShare');
  return (
    <form onSubmit={onSubmit} noValidate>
      <h4>Or refer to a service</h4>
      <ErrorSummary error={error} fields={{ serviceId: at('service'), reason: at('reason'), consentToShare: at('consent') }} />
      <SelectField
        id={at('service')}
        label="Service"
        hint="Services in the directory that cover this PCN"
        value={serviceId}
        onChange={setServiceId}
        options={[{ value: '', label: services.length ? 'Choose a service' : 'No services cover this PCN' }, ...services.map((s) => ({ value: s.id, label: `${s.name} – ${s.provider.name}` }))]}
        error={messageFor(error, 'serviceId')}
      />
      <TextField id={at('reason')} label="Reason for referral" value={reason} onChange={setReason} error={messageFor(error, 'reason')} />
      <SelectField
        id={at('priority')}
        label="Urgency"
        value={priority}
        onChange={(value) => setPriority(value as typeof priority)}
        options={[
          { value: 'routine', label: 'Routine (accept within 14 days)' },
          { value: 'urgent', label: 'Urgent (accept within 2 days)' },
          { value: 'asap', label: 'As soon as possible (accept within 4 hours)' },
        ]}
      />
      <div className={`nhsuk-form-group${consentError ? ' nhsuk-form-group--error' : ''}`}>
        {consentError && (
          <span className="nhsuk-error-message" id={`${at('consent')}-error`}>
            <span className="nhsuk-u-visually-hidden">Error: </span>
            {consentError}
          </span>
        )}
        <div className="nhsuk-checkboxes">
          <div className="nhsuk-checkboxes__item">
            <input className="nhsuk-checkboxes__input" id={at('consent')} type="checkbox" checked={consent} onChange={(event) => setConsent(event.target.checked)} />
            <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={at('consent')}>
              {item.patient?.name} agrees to their information being shared with the service
            </label>
          </div>
        </div>
      </div>
      <button type="submit" className="nhsuk-button nhsuk-button--secondary" disabled={busy}>
        Send referral
      </button>
    </form>
  );
}

function RemoveItem({ meetingId, item, onRemoved }: { meetingId: string; item: AgendaItemView; onRemoved: (message: string) => Promise<void> }) {
  const { error, busy, onSubmit } = useSubmit(async () => {
    await api.removeFromAgenda(meetingId, item.id);
    await onRemoved(`${item.patient?.name} was taken off the agenda: their draft discussion was removed and open actions cancelled.`);
  });
  return (
    <form onSubmit={onSubmit} noValidate>
      <ErrorSummary error={error} />
      <button type="submit" className="nhsuk-button nhsuk-button--warning" disabled={busy}>
        Take {item.patient?.name} off the agenda
      </button>
    </form>
  );
}

function Attendance({ meeting, onChanged }: { meeting: MeetingView; onChanged: (message: string) => Promise<void> }) {
  const [name, setName] = useState('');
  const [org, setOrg] = useState('');
  const [role, setRole] = useState('');
  const [status, setStatus] = useState<'present' | 'apologies'>('present');
  const { error, busy, onSubmit } = useSubmit(async () => {
    await api.recordAttendance(meeting.id, { name, org, role, status });
    setName('');
    setOrg('');
    setRole('');
    await onChanged(`${name} recorded as ${status === 'present' ? 'present' : 'sending apologies'}.`);
  });
  return (
    <>
      <h2>Attendance</h2>
      {meeting.attendance.length === 0 ? (
        <p>Nobody recorded yet.</p>
      ) : (
        <TableRegion label="Attendance">
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-table__caption--s">Attendance</caption>
            <TableHead headings={['Name', 'Organisation', 'Role', 'Attendance']} />
            <tbody className="nhsuk-table__body">
              {meeting.attendance.map((a) => (
                <tr className="nhsuk-table__row" key={a.id}>
                  <td className="nhsuk-table__cell">{a.name}</td>
                  <td className="nhsuk-table__cell">{a.org || 'Not given'}</td>
                  <td className="nhsuk-table__cell">{a.role || 'Not given'}</td>
                  <td className="nhsuk-table__cell">{a.status === 'present' ? 'Present' : 'Apologies'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      {meeting.status === 'scheduled' && (
        <form onSubmit={onSubmit} noValidate>
          <ErrorSummary error={error} fields={{ name: 'attendee-name' }} />
          <TextField id="attendee-name" label="Name" value={name} onChange={setName} error={messageFor(error, 'name')} />
          <TextField id="attendee-org" label="Organisation" value={org} onChange={setOrg} />
          <TextField id="attendee-role" label="Role" value={role} onChange={setRole} />
          <SelectField
            id="attendee-status"
            label="Attendance"
            value={status}
            onChange={(value) => setStatus(value as 'present' | 'apologies')}
            options={[
              { value: 'present', label: 'Present' },
              { value: 'apologies', label: 'Sent apologies' },
            ]}
          />
          <button type="submit" className="nhsuk-button nhsuk-button--secondary" disabled={busy}>
            Record attendance
          </button>
        </form>
      )}
    </>
  );
}

function CloseMeeting({ meeting, onClosed }: { meeting: MeetingView; onClosed: (message: string) => Promise<void> }) {
  const { error, busy, onSubmit } = useSubmit(async () => {
    const closed = await api.closeMeeting(meeting.id);
    await onClosed(`Meeting closed. The minutes are on ${closed.minutesWritten} patient record(s).`);
  });
  return (
    <form onSubmit={onSubmit} noValidate>
      <h2>Close the meeting</h2>
      <p>Closing puts the minutes — the discussion, the actions with their owners, and who was there — on the record of each patient on the agenda. The meeting can then no longer be changed.</p>
      <ErrorSummary error={error} />
      <SubmitButton busy={busy}>Close meeting and write the minutes</SubmitButton>
    </form>
  );
}
