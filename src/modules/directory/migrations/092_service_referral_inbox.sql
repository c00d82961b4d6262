-- A service's inbox a page at a time, oldest first (referrals/read-referrals.ts through directory's
-- serviceInboxPage): the open referrals of one service in (authored_on, task_id) order, read by index, so the
-- first 100 of 10,000 cost 100 rows, not a sort of all of them.
CREATE INDEX service_referral_inbox ON service_referral (service_id, authored_on, task_id);
