-- In-app notifications (modules/tasks): raised from the record's change feed (a new referral for an organisation,
-- a task assigned to a person or a role, a task past its due date), each once (`dedup_key`). A recipient is a
-- person (email) or an organisation, optionally narrowed to a role in it. `what` never names the patient.
CREATE TABLE task_notification (
  id              bigserial   PRIMARY KEY,
  recipient_email text,
  recipient_org   text,
  recipient_role  text,
  kind            text        NOT NULL CHECK (kind IN ('referral', 'task', 'overdue')),
  what            text        NOT NULL,
  link            text        NOT NULL,
  source          text        NOT NULL,
  dedup_key       text        NOT NULL UNIQUE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (recipient_email IS NOT NULL OR recipient_org IS NOT NULL)
);
CREATE INDEX task_notification_person ON task_notification (recipient_email, id) WHERE recipient_email IS NOT NULL;
CREATE INDEX task_notification_org ON task_notification (recipient_org, id) WHERE recipient_org IS NOT NULL;

-- Read per person: a notification to a role is read by each of its people on their own.
CREATE TABLE task_notification_read (
  notification_id bigint      NOT NULL REFERENCES task_notification (id) ON DELETE CASCADE,
  user_email      text        NOT NULL,
  read_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (notification_id, user_email)
);

-- Open tasks with a due date, kept from the change feed, for the periodic overdue check (Task has no search
-- parameter for restriction.period). `notified_due`: the due date an overdue notification was raised for.
CREATE TABLE task_due (
  task_id      text PRIMARY KEY,
  due          date NOT NULL,
  owner_email  text,
  owner_org    text,
  owner_role   text,
  notified_due date
);
CREATE INDEX task_due_by_day ON task_due (due);
