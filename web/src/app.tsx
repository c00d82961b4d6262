import { useEffect, useRef } from 'react';
import { Header } from './components/header.tsx';
import { SeedingBanner } from './components/seeding-banner.tsx';
import { AreaPage } from './pages/area-page.tsx';
import { AuditReviewPage } from './pages/audit-review-page.tsx';
import { CohortsPage } from './pages/cohorts-page.tsx';
import { WorklistPage } from './pages/worklist-page.tsx';
import { TasksPage } from './pages/tasks-page.tsx';
import { NotificationsPage } from './pages/notifications-page.tsx';
import { ServicePage, ServicesPage } from './pages/services-page.tsx';
import { MdtPage } from './pages/mdt-page.tsx';
import { MdtMeetingPage } from './pages/mdt-meeting-page.tsx';
import { CareHomePage, CareHomesPage } from './pages/care-homes-page.tsx';
import { DashboardPage } from './pages/dashboard-page.tsx';
import { NotFoundPage } from './pages/not-found-page.tsx';
import { PeoplePage, PersonPage } from './pages/people-page.tsx';
import { PcnPage } from './pages/pcn-page.tsx';
import { PracticePage } from './pages/practice-page.tsx';
import { PatientRecordPage } from './pages/record/patient-record-page.tsx';
import { PatientSearchPage } from './pages/record/patient-search-page.tsx';
import { MyPatientsPage } from './pages/record/my-patients-page.tsx';
import { CarePlanPage } from './pages/care-plan-page.tsx';
import { ReferralFormPage } from './pages/referrals/referral-form-page.tsx';
import { ReferralPage } from './pages/referrals/referral-page.tsx';
import { ReferralsPage } from './pages/referrals/referrals-page.tsx';
import { Loading } from './components/page-parts.tsx';
import { homePath } from './roles.ts';
import { SignInPage } from './pages/sign-in-page.tsx';
import { matchPath, navigate, useLocation } from './router.tsx';
import { useSession } from './session.ts';
import { useIdleSignOut } from './idle.ts';

/** `/`: each role's home (roles.ts); the area overview for those whose home it is. */
function Home() {
  const user = useSession();
  const home = user ? homePath(user) : '/';
  useEffect(() => {
    if (home !== '/') navigate(home, { replace: true });
  }, [home]);
  return home === '/' ? <AreaPage /> : <Loading what="your home page" />;
}

function Page({ pathname }: { pathname: string }) {
  if (pathname === '/') return <Home />;
  let params = matchPath('/areas/:code', pathname);
  if (params?.code) return <AreaPage code={params.code} />;
  params = matchPath('/pcns/:code', pathname);
  if (params?.code) return <PcnPage key={params.code} code={params.code} />;
  params = matchPath('/practices/:ods', pathname);
  if (params?.ods) return <PracticePage key={params.ods} ods={params.ods} />;
  params = matchPath('/dashboards/:kind/:code', pathname);
  if (params?.code && (params.kind === 'practice' || params.kind === 'pcn' || params.kind === 'area'))
    return <DashboardPage key={`${params.kind}:${params.code}`} kind={params.kind} code={params.code} />;
  if (pathname === '/patients') return <PatientSearchPage />;
  if (pathname === '/my-patients') return <MyPatientsPage />;
  if (pathname === '/audit') return <AuditReviewPage />;
  if (pathname === '/cohorts') return <CohortsPage />;
  if (pathname === '/tasks') return <TasksPage />;
  if (pathname === '/notifications') return <NotificationsPage />;
  params = matchPath('/worklists/:id', pathname);
  if (params?.id) return <WorklistPage key={params.id} id={params.id} />;
  if (pathname === '/services') return <ServicesPage />;
  params = matchPath('/services/:id', pathname);
  if (params?.id) return <ServicePage key={params.id} id={params.id} />;
  if (pathname === '/mdt') return <MdtPage />;
  params = matchPath('/mdt/:id', pathname);
  if (params?.id) return <MdtMeetingPage key={params.id} id={params.id} />;
  if (pathname === '/care-homes') return <CareHomesPage />;
  params = matchPath('/care-homes/:code', pathname);
  if (params?.code) return <CareHomePage key={params.code} code={params.code} />;
  if (pathname === '/people') return <PeoplePage />;
  params = matchPath('/people/:email', pathname);
  if (params?.email) return <PersonPage key={params.email} email={params.email} />;
  params = matchPath('/patients/:id/care-plan', pathname);
  if (params?.id) return <CarePlanPage key={params.id} patientId={params.id} />;
  if (pathname === '/referrals') return <ReferralsPage />;
  if (pathname === '/referrals/new') return <ReferralFormPage />;
  params = matchPath('/referrals/:id', pathname);
  if (params?.id) return <ReferralPage key={params.id} id={params.id} />;
  params = matchPath('/patients/:id', pathname);
  if (params?.id) return <PatientRecordPage key={params.id} id={params.id} />;
  return <NotFoundPage />;
}

export function App() {
  const { pathname, search } = useLocation();
  const user = useSession();
  useIdleSignOut(user !== null);
  const signingIn = pathname === '/signin';
  const main = useRef<HTMLElement>(null);
  const shownPath = useRef(pathname);

  // After an in-app navigation, start screen readers and keyboards at the new page's content.
  useEffect(() => {
    if (pathname !== shownPath.current) main.current?.focus({ preventScroll: true });
    shownPath.current = pathname;
  }, [pathname]);

  const query = search.toString();
  useEffect(() => {
    if (!user && !signingIn) {
      const here = pathname + (query ? `?${query}` : '');
      navigate(`/signin?next=${encodeURIComponent(here)}`, { replace: true });
    }
  }, [user, signingIn, pathname, query]);

  return (
    <>
      <a className="nhsuk-skip-link" href="#maincontent">
        Skip to main content
      </a>
      <Header />
      <div className="nhsuk-width-container">
        <main className="nhsuk-main-wrapper" id="maincontent" tabIndex={-1} ref={main}>
          <SeedingBanner />
          {signingIn ? <SignInPage /> : user ? <Page pathname={pathname} /> : null}
        </main>
      </div>
      <footer className="nhsuk-footer" role="contentinfo">
        <div className="nhsuk-width-container">
          <div className="nhsuk-footer__meta">
            <p className="nhsuk-body-s">PCN Hub – the platform a Primary Care Network runs on. Demo data is synthetic.</p>
          </div>
        </div>
      </footer>
    </>
  );
}
