-- Referrals awaiting acceptance (their workflow Task requested or received), kept from the change feed with the time
-- the receiving organisation should accept by (the SLA by urgency), for the periodic overdue check: it tells that
-- organisation once per referral and due time (`notified_at`).
CREATE TABLE referral_due (
  task_id      text PRIMARY KEY,
  referral_id  text NOT NULL,
  owner_org    text NOT NULL,
  due_at       timestamptz NOT NULL,
  notified_at  timestamptz
);
CREATE INDEX referral_due_waiting ON referral_due (due_at) WHERE notified_at IS NULL;
