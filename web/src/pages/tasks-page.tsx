/**
 * Tasks between colleagues and organisations (issue 12): "My tasks" (assigned to me, or to my role in my
 * organisation) and "My team's tasks" (anyone in my organisation), open first and by due date, overdue marked;
 * start, complete or cancel one; and a form to create one for a person or a role in an organisation, about a
 * patient when opened from their record (`/tasks?patient=<id>`). `?task=<id>` (a notification's link) marks one.
 */
import type { Patient } from '@medplum/fhirtypes';
import { Fragment, useEffect, useState } from 'react';
import { api, type Role, type TaskAction, type TaskAssignee, type TaskView, type TaskViewName, type User } from '../api.ts';
import {
  Confirmation,
  DateField,
  type DateParts,
  ErrorSummary,
  emptyDate,
  FormGroup,
  describedBy,
  InlineRadios,
  isoFromParts,
  messageFor,
  SelectField,
  SubmitButton,
  TextField,
  useSubmit,
} from '../components/forms.tsx';
import { LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { plainName } from '../components/record/entries.ts';
import { formatDate } from '../format.ts';
import { readPatient } from '../record-api.ts';
import { ROLE_OPTIONS } from '../roles.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { useSession } from '../session.ts';
import { usePageTitle, useResource } from '../use-resource.ts';

const VIEWS: Array<{ view: TaskViewName; text: string }> = [
  { view: 'mine', text: 'My tasks' },
  { view: 'team', text: 'My team’s tasks' },
];

const STATUS_WORDS: Record<string, { text: string; colour: string }> = {
  requested: { text: 'To do', colour: 'blue' },
  received: { text: 'To do', colour: 'blue' },
  accepted: { text: 'To do', colour: 'blue' },
  'in-progress': { text: 'In progress', colour: 'yellow' },
  completed: { text: 'Completed', colour: 'green' },
  cancelled: { text: 'Cancelled', colour: 'grey' },
};

const ACTION_OF: Record<string, { action: TaskAction; text: string }> = {
  'in-progress': { action: 'start', text: 'Start' },
  completed: { action: 'complete', text: 'Complete' },
  cancelled: { action: 'cancel', text: 'Cancel' },
};

export function TasksPage() {
  const { search } = useLocation();
  const user = useSession();
  const view: TaskViewName = search.get('view') === 'team' ? 'team' : 'mine';
  const patientId = search.get('patient');
  const marked = search.get('task');
  usePageTitle(view === 'team' ? 'My team’s tasks' : 'My tasks');
  const tasks = useResource(() => api.tasks(view), `tasks:${view}`);
  const [message, setMessage] = useState<string | null>(null);
  const query = (next: Record<string, string | null>) => {
    const params = new URLSearchParams(search);
    for (const [key, value] of Object.entries(next)) {
      if (value === null) params.delete(key);
      else params.set(key, value);
    }
    const text = params.toString();
    return `/tasks${text ? `?${text}` : ''}`;
  };

  return (
    <>
      <h1>Tasks</h1>
      <nav className="pcn-task-views" aria-label="Task lists">
        <ul className="nhsuk-list pcn-task-views__list">
          {VIEWS.map((v) => (
            <li key={v.view}>
              <Link
                href={query({ view: v.view === 'mine' ? null : v.view, task: null })}
                aria-current={v.view === view ? 'page' : undefined}
                className={v.view === view ? 'pcn-task-views__current' : undefined}
              >
                {v.text}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <Confirmation message={message} />
      {tasks.state === 'loading' && <Loading what="the tasks" />}
      {tasks.state === 'failed' && <LoadFailed error={tasks.error} what="The tasks" retry={tasks.reload} />}
      {tasks.state === 'ready' && (
        <TaskTable
          view={view}
          tasks={tasks.data.items}
          marked={marked}
          more={tasks.data.more}
          user={user}
          onMoved={async (task, done) => {
            await tasks.reload();
            setMessage(`Task “${task.description}” ${done}.`);
          }}
        />
      )}
      {user && (
        <CreateTask
          key={patientId ?? 'none'}
          user={user}
          patientId={patientId}
          onCreated={async (task) => {
            setMessage(`Task “${task.description}” created for ${task.owner.display}.`);
            if (patientId) navigate(query({ patient: null }), { replace: true });
            await tasks.reload();
          }}
        />
      )}
    </>
  );
}

function TaskTable({
  view,
  tasks,
  marked,
  more,
  user,
  onMoved,
}: {
  view: TaskViewName;
  tasks: TaskView[];
  marked: string | null;
  more: boolean;
  user: User | null;
  onMoved: (task: TaskView, done: string) => Promise<void>;
}) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [reassigning, setReassigning] = useState<string | null>(null);
  const caption = view === 'team' ? 'My team’s tasks' : 'My tasks';
  if (tasks.length === 0) return <p>{view === 'team' ? 'Nobody in your organisation has a task.' : 'You have no tasks.'}</p>;
  const open = tasks.filter((t) => t.open).length;
  const overdue = tasks.filter((t) => t.overdue).length;
  const move = async (task: TaskView, status: string) => {
    const { action } = ACTION_OF[status]!;
    setBusy(true);
    setError(null);
    try {
      await api.moveTask(task.id, action, task.version);
      await onMoved(task, action === 'start' ? 'started' : action === 'complete' ? 'completed' : 'cancelled');
    } catch (caught) {
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <p>
        {open} open{overdue > 0 ? `, ${overdue} overdue` : ''}.{more ? ' Only the first open tasks are listed.' : ''}
      </p>
      <ErrorSummary error={error} />
      <TableRegion label={caption}>
        <table className="nhsuk-table">
          <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">{caption}</caption>
          <TableHead headings={['Due', 'What', 'Patient', 'Assigned to', 'Status', 'Actions']} />
          <tbody className="nhsuk-table__body">
            {tasks.map((task) => (
              <Fragment key={task.id}>
                <tr className={`nhsuk-table__row${task.overdue ? ' pcn-task--overdue' : ''}${task.id === marked ? ' pcn-task--marked' : ''}`} aria-current={task.id === marked ? 'true' : undefined}>
                  <td className="nhsuk-table__cell">
                    {task.due ? formatDate(task.due) : 'No date'}
                    {task.overdue && (
                      <>
                        {' '}
                        <strong className="nhsuk-tag nhsuk-tag--red">Overdue</strong>
                      </>
                    )}
                  </td>
                  <td className="nhsuk-table__cell">
                    {task.description}
                    {task.kind === 'mdt-action' && <span className="nhsuk-body-s"> (MDT action)</span>}
                    {task.requester && <div className="nhsuk-body-s pcn-task__from">From {task.requester}</div>}
                  </td>
                  <td className="nhsuk-table__cell">
                    {task.patient ? <Link href={`/patients/${encodeURIComponent(task.patient.id)}`}>{task.patient.name}</Link> : task.patientId ? 'A patient whose record you cannot open' : 'None'}
                  </td>
                  <td className="nhsuk-table__cell">{task.owner.display}</td>
                  <td className="nhsuk-table__cell">
                    <strong className={`nhsuk-tag nhsuk-tag--${STATUS_WORDS[task.status]?.colour ?? 'grey'}`}>{STATUS_WORDS[task.status]?.text ?? task.status}</strong>
                  </td>
                  <td className="nhsuk-table__cell">
                    {task.next.map((status) => (
                      <button
                        key={status}
                        type="button"
                        className={`nhsuk-button nhsuk-button--small ${status === 'cancelled' ? 'nhsuk-button--secondary' : ''} pcn-task__action`}
                        disabled={busy}
                        onClick={() => void move(task, status)}
                      >
                        {ACTION_OF[status]?.text ?? status}
                        <span className="nhsuk-u-visually-hidden"> “{task.description}”</span>
                      </button>
                    ))}
                    {task.open && (
                      <button
                        type="button"
                        className="nhsuk-button nhsuk-button--small nhsuk-button--secondary pcn-task__action"
                        aria-expanded={reassigning === task.id}
                        onClick={() => setReassigning(reassigning === task.id ? null : task.id)}
                      >
                        Reassign<span className="nhsuk-u-visually-hidden"> “{task.description}”</span>
                      </button>
                    )}
                  </td>
                </tr>
                {reassigning === task.id && (
                  <tr className="nhsuk-table__row">
                    <td className="nhsuk-table__cell" colSpan={6}>
                      <Reassign
                        task={task}
                        user={user}
                        onClose={() => setReassigning(null)}
                        onDone={async (moved) => {
                          setReassigning(null);
                          await onMoved(moved, `given to ${moved.owner.display}`);
                        }}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </>
  );
}

type AssignTo = 'role' | 'person';

/** Who a task is for, as the form holds it: a person by email, or a role in an organisation. */
interface AssigneeChoice {
  assignTo: AssignTo;
  email: string;
  org: string;
  role: Role;
}

const assigneeOf = (choice: AssigneeChoice): TaskAssignee => (choice.assignTo === 'person' ? { email: choice.email.trim() } : { org: choice.org.trim(), role: choice.role });

/** The "who is it for" fields, for creating a task and for giving one to someone else; `prefix` keeps ids apart. */
function AssigneeFields({ prefix, value, onChange, error }: { prefix: string; value: AssigneeChoice; onChange: (next: AssigneeChoice) => void; error: Error | null }) {
  const set = (part: Partial<AssigneeChoice>) => onChange({ ...value, ...part });
  return (
    <>
      <InlineRadios
        name={`${prefix}-assign`}
        legend="Who is it for?"
        options={
          [
            ['role', 'A role in an organisation'],
            ['person', 'A person'],
          ] as const
        }
        value={value.assignTo}
        onChange={(assignTo) => set({ assignTo })}
      />
      {value.assignTo === 'person' ? (
        <TextField
          id={`${prefix}-email`}
          label="Their email address"
          type="email"
          autoComplete="off"
          spellCheck={false}
          value={value.email}
          onChange={(email) => set({ email })}
          error={messageFor(error, 'email')}
        />
      ) : (
        <>
          <TextField
            id={`${prefix}-org`}
            label="Organisation code"
            hint="The ODS code of the PCN, practice or partner, for example your PCN’s."
            width={10}
            value={value.org}
            onChange={(org) => set({ org })}
            error={messageFor(error, 'org')}
          />
          <SelectField id={`${prefix}-role`} label="Role" value={value.role} onChange={(role) => set({ role: role as Role })} options={ROLE_OPTIONS} error={messageFor(error, 'role')} />
        </>
      )}
    </>
  );
}

/** Gives an open task to another person or role (the server refuses a finished task, or a change since it was read). */
function Reassign({ task, user, onDone, onClose }: { task: TaskView; user: User | null; onDone: (task: TaskView) => Promise<void>; onClose: () => void }) {
  const [choice, setChoice] = useState<AssigneeChoice>({ assignTo: 'person', email: '', org: user?.pcnCode ?? user?.org ?? '', role: 'clinical-pharmacist' });
  const prefix = `reassign-${task.id}`;
  const { error, busy, onSubmit } = useSubmit(async () => {
    const moved = await api.reassignTask(task.id, assigneeOf(choice), task.version);
    await onDone(moved);
  });
  return (
    <form onSubmit={(event) => void onSubmit(event)} noValidate aria-labelledby={`${prefix}-heading`} className="pcn-task__reassign">
      <h2 id={`${prefix}-heading`} className="nhsuk-heading-s">
        Give “{task.description}” to someone else
      </h2>
      <ErrorSummary error={error} fields={{ email: `${prefix}-email`, org: `${prefix}-org`, role: `${prefix}-role` }} />
      <AssigneeFields prefix={prefix} value={choice} onChange={setChoice} error={error} />
      <div className="nhsuk-button-group">
        <SubmitButton busy={busy}>Give the task to them</SubmitButton>
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={onClose}>
          Back
        </button>
      </div>
    </form>
  );
}

function CreateTask({ user, patientId, onCreated }: { user: User; patientId: string | null; onCreated: (task: TaskView) => Promise<void> }) {
  const [description, setDescription] = useState('');
  const [assignee, setAssignee] = useState<AssigneeChoice>({ assignTo: 'role', email: '', org: user.pcnCode ?? user.org ?? '', role: 'clinical-pharmacist' });
  const [due, setDue] = useState<DateParts>(emptyDate);
  const [patient, setPatient] = useState<Patient | null>(null);
  useEffect(() => {
    if (!patientId) return;
    let live = true;
    readPatient(patientId).then(
      (found) => live && setPatient(found),
      () => live && setPatient(null),
    );
    return () => {
      live = false;
    };
  }, [patientId]);

  const { error, busy, onSubmit } = useSubmit(async () => {
    const dueDate = isoFromParts(due, 'due', 'The due date');
    const task = await api.createTask({ description, assignee: assigneeOf(assignee), ...(dueDate ? { due: dueDate } : {}), ...(patientId ? { patientId } : {}) });
    setDescription('');
    setDue(emptyDate);
    await onCreated(task);
  });
  const descriptionError = messageFor(error, 'description');
  return (
    <section aria-labelledby="create-task-heading" className="pcn-create-task">
      <h2 id="create-task-heading">Create a task</h2>
      <ErrorSummary error={error} fields={{ description: 'task-description', email: 'task-email', org: 'task-org', role: 'task-role', due: 'task-due-day' }} />
      <form onSubmit={(event) => void onSubmit(event)} noValidate>
        {patientId && (
          <p>
            About{' '}
            <Link href={`/patients/${encodeURIComponent(patientId)}`}>
              <strong>{patient ? plainName(patient) : 'the patient'}</strong>
            </Link>
          </p>
        )}
        <FormGroup id="task-description" label="What needs doing" hint="Do not write the patient’s name here: it is shown with the task." error={descriptionError}>
          <textarea
            className={`nhsuk-textarea${descriptionError ? ' nhsuk-textarea--error' : ''}`}
            id="task-description"
            name="task-description"
            rows={3}
            value={description}
            aria-describedby={describedBy('task-description', 'hint', descriptionError)}
            onChange={(event) => setDescription(event.target.value)}
          />
        </FormGroup>
        <AssigneeFields prefix="task" value={assignee} onChange={setAssignee} error={error} />
        <DateField id="task-due" legend="Due by" hint="For example, 15 3 2027. Leave blank if there is no date." value={due} onChange={setDue} error={messageFor(error, 'due')} />
        <SubmitButton busy={busy}>Create task</SubmitButton>
      </form>
    </section>
  );
}
