import { api, type User } from '../api.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { clearSession, useSession } from '../session.ts';
import { mayReview } from '../pages/audit-review-page.tsx';
import { mayManagePeople } from '../pages/people-page.tsx';
import { ROLE_HOME, roleTitle, seesPatients } from '../roles.ts';
import { NotificationsIndicator } from './notifications-indicator.tsx';

const NHS_LOGO_PATH =
  'M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z';
const USER_ICON_PATH = 'M12 1a11 11 0 1 1 0 22 11 11 0 0 1 0-22Zm0 2a9 9 0 0 0-5 16.5V18a4 4 0 0 1 4-4h2a4 4 0 0 1 4 4v1.5A9 9 0 0 0 12 3Zm0 3a3.5 3.5 0 1 1-3.5 3.5A3.4 3.4 0 0 1 12 6Z';

const ROLE_LABELS: Record<string, string> = { admin: 'Administrator', 'pcn-manager': 'PCN manager', clinician: 'Clinician', analyst: 'Analyst' };

/** Their role and where they work, by name: "Social worker, Norfolk County Council Adult Social Services". */
const roleLabel = (user: User) => {
  const role = ROLE_LABELS[user.role] ?? roleTitle(user.role);
  const where = user.orgName ?? (user.role === 'pcn-manager' ? user.pcnCode : null);
  return where ? `${role}, ${where}` : role;
};

/** The NHS header (nhsuk-frontend 10 markup) with the service name and the signed-in account. */
export function Header() {
  const user = useSession();
  const { pathname } = useLocation();
  const onPatients = pathname === '/patients' || pathname.startsWith('/patients/');
  // Pages a role cannot use are not offered: patients only to roles that see records; My patients to those whose home it is.
  const patients = seesPatients(user?.role);
  const myPatients = patients && !!user && ROLE_HOME[user.role] === 'my-patients';

  const signOut = () => {
    // The server refuses the token from now on; the page signs out even if the server cannot be reached.
    void api.logout().catch(() => undefined);
    clearSession();
    navigate('/signin');
  };

  return (
    <header className="nhsuk-header">
      <div className="nhsuk-header__container nhsuk-width-container">
        <div className="nhsuk-header__service">
          <Link className="nhsuk-header__service-logo" href="/" aria-label="NHS PCN Hub homepage">
            <svg className="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" height="40" width="100" focusable="false" role="img" aria-label="NHS">
              <title>NHS</title>
              <path fill="currentcolor" d={NHS_LOGO_PATH} />
            </svg>
            <span className="nhsuk-header__service-name">PCN Hub</span>
          </Link>
        </div>
        {user && (
          <nav className="nhsuk-header__account" aria-label="Account">
            <ul className="nhsuk-header__account-list">
              <li className="nhsuk-header__account-item">
                <svg className="nhsuk-icon nhsuk-icon--user" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16" focusable="false" aria-hidden="true">
                  <path d={USER_ICON_PATH} />
                </svg>
                <span>
                  {user.name} <span className="pcn-account-role">({roleLabel(user)})</span>
                </span>
              </li>
              <li className="nhsuk-header__account-item">
                <NotificationsIndicator pathname={pathname} />
              </li>
              <li className="nhsuk-header__account-item">
                <button type="button" className="nhsuk-header__account-button" onClick={signOut}>
                  Sign out
                </button>
              </li>
            </ul>
          </nav>
        )}
      </div>
      {user && (
        <nav className="nhsuk-header__navigation" aria-label="Menu">
          <div className="nhsuk-header__navigation-container nhsuk-width-container">
            <ul className="nhsuk-header__navigation-list">
              {myPatients && <NavItem href="/my-patients" current={pathname === '/my-patients'} text="My patients" />}
              {patients && <NavItem href="/patients" current={onPatients} text={myPatients ? 'Find a patient' : 'Patients'} />}
              {patients && user.org && <NavItem href="/referrals" current={pathname === '/referrals' || pathname.startsWith('/referrals/')} text="Referrals" />}
              {(user.pcnCode || user.role === 'admin' || user.role === 'analyst') && <NavItem href="/cohorts" current={pathname === '/cohorts' || pathname.startsWith('/worklists/')} text="Cohorts" />}
              {(patients || !!user.org) && <NavItem href="/tasks" current={pathname === '/tasks'} text="Tasks" />}
              <NavItem href="/services" current={pathname === '/services' || pathname.startsWith('/services/')} text="Services" />
              {(user.pcnCode || user.role === 'admin') && <NavItem href="/mdt" current={pathname === '/mdt' || pathname.startsWith('/mdt/')} text="MDT" />}
              {(user.pcnCode || user.role === 'admin') && <NavItem href="/care-homes" current={pathname === '/care-homes' || pathname.startsWith('/care-homes/')} text="Care homes" />}
              {mayReview(user.role) && <NavItem href="/audit" current={pathname === '/audit'} text="Audit review" />}
              {mayManagePeople(user.role) && <NavItem href="/people" current={pathname === '/people' || pathname.startsWith('/people/')} text="People" />}
            </ul>
          </div>
        </nav>
      )}
    </header>
  );
}

/** One item of the header's menu; the current page's item says so to screen readers and in bold. */
function NavItem({ href, current, text }: { href: string; current: boolean; text: string }) {
  return (
    <li className={`nhsuk-header__navigation-item${current ? ' nhsuk-header__navigation-item--current' : ''}`}>
      <Link className="nhsuk-header__navigation-link" href={href} aria-current={current ? 'page' : undefined}>
        {current ? <strong className="nhsuk-header__navigation-item-current-fallback">{text}</strong> : text}
      </Link>
    </li>
  );
}
