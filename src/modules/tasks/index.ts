/**
 * Tasks between colleagues and organisations (docs/coordination.md, "Tasks between colleagues"): FHIR `Task`s
 * coded `task-kind|colleague-task` (MDT actions `|mdt-action`) written through the store as the actor, assigned
 * to a person or a role in an organisation, with "my tasks" and "my team's tasks"; and in-app notifications raised
 * from the change feed (new referrals, tasks, overdue items) through a `Notifier`. Owns `task_notification`,
 * `task_notification_read` and `task_due` (migration 087) and `referral_due` (093).
 */
export { assigneeInput, type AssigneeInput } from './assignee.ts';
export { createTask, createTaskInput, type CreateTaskInput } from './create-task.ts';
export { reassignTask, reassignTaskInput, type ReassignTaskInput } from './reassign-task.ts';
export { TASK_ACTIONS, transitionTask, transitionTaskInput, type TaskAction, type TransitionTaskInput } from './transition-task.ts';
export { FINISHED_TASK_LIMIT, OPEN_TASK_LIMIT, TASK_VIEWS, listTasks, readTaskView, type TaskList, type TaskViewName } from './read-tasks.ts';
export {
  CHANGED_BY_EXTENSION,
  OWNER_ORGANISATION_TAG,
  OWNER_ROLE_EXTENSION,
  TASK_KIND_SYSTEM,
  TASK_KINDS,
  USER_EMAIL_SYSTEM,
  type TaskKind,
  type TaskOwner,
  type TaskView,
} from './task-shape.ts';
export {
  NOTIFICATION_KINDS,
  NOTIFICATION_LIMIT,
  inAppNotifier,
  markAllNotificationsRead,
  markNotificationRead,
  myNotifications,
  type NewNotification,
  type NotificationKind,
  type Notifications,
  type NotificationView,
  type Notifier,
  type Recipient,
} from './notifications.ts';
export { FRESH_HOURS, NOTIFICATIONS_CONSUMER, keepNotifying, notifyChanges, raiseOverdueNotifications, type KeepNotifyingOptions } from './notify-from-feed.ts';
