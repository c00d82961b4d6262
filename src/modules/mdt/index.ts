/**
 * MDT meetings and care homes (issue 12): a PCN's multidisciplinary meetings — schedule, attendance, an agenda built
 * from a population-health cohort or worklist or by hand, per-patient discussion and actions written to the record
 * (Procedure, Task of kind mdt-action, or a referral through the referrals module), minutes on each patient's record when the meeting closes — and care homes
 * aligned to one PCN, their residents and the weekly home round. Owns `mdt_meeting`, `mdt_agenda_item`,
 * `mdt_attendance` (migration 090) and `mdt_care_home_alignment` (091).
 */
export {
  attendanceInput,
  listMeetings,
  recordAttendance,
  removeAttendance,
  scheduleMeeting,
  scheduleMeetingInput,
  type AttendanceInput,
  type Attendee,
  type Meeting,
  type MeetingStatus,
  type ScheduleMeetingInput,
} from './meetings.ts';
export { AGENDA_LIMIT, addToAgenda, addToAgendaInput, readMeeting, removeFromAgenda, type ActionView, type AddToAgendaInput, type AgendaItemView, type MeetingView } from './agenda.ts';
export { actionInput, addAction, addReferralAction, closeMeeting, discussionInput, referralActionInput, saveDiscussion, type ActionInput, type ReferralActionInput } from './minutes.ts';
export { ROUND_RULE, alignCareHome, listCareHomes, readCareHome, type CareHome, type Resident } from './care-homes.ts';
export { CARE_HOME_EXTENSION, MDT_CODE_SYSTEM, MDT_MEETING_SYSTEM, OWNER_ROLE_EXTENSION, TASK_KIND_SYSTEM, USER_EMAIL_SYSTEM } from './shapes.ts';
