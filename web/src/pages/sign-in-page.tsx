import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { ErrorSummary, messageFor, SubmitButton, TextField, useSubmit } from '../components/forms.tsx';
import { navigate, useLocation } from '../router.tsx';
import { startSession } from '../session.ts';
import { usePageTitle, useResource } from '../use-resource.ts';

/** Only ever return to a path on this site after signing in. */
function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/signin') ? next : '/';
}

/** Why single sign-on sent the person back (the server's `sso-error`), in words; `provider` names their identity provider. */
function refusalWords(reason: string, provider: string): string {
  const ask = 'Ask your PCN Hub administrator.';
  switch (reason) {
    case 'not-set-up':
      return `Your ${provider} account is not set up in PCN Hub. ${ask}`;
    case 'disabled':
      return `Your PCN Hub account has been disabled. ${ask}`;
    case 'unknown-organisation':
      return `Your organisation in ${provider} is not one PCN Hub knows. ${ask}`;
    case 'no-role':
      return `Your role in ${provider} does not give you a role in PCN Hub. ${ask}`;
    case 'identity-conflict':
      return `Your PCN Hub account is already linked to a different ${provider} account. ${ask}`;
    case 'cancelled':
      return `You cancelled signing in with ${provider}.`;
    case 'expired':
      return 'Signing in took too long. Try again.';
    default:
      return `Signing in with ${provider} did not work. Try again, or ask your PCN Hub administrator if it keeps happening.`;
  }
}

export function SignInPage() {
  usePageTitle('Sign in');
  const { search } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [handoverError, setHandoverError] = useState<Error | null>(null);
  const config = useResource(api.config, 'config');
  const sso = config.state === 'ready' ? config.data.singleSignOn : null;
  const provider = (sso?.label ?? 'your identity provider').replace(/^Sign in with /i, '');
  const next = safeNext(search.get('next'));

  const { error, busy, onSubmit } = useSubmit(async () => {
    const { token, user, access } = await api.login(email.trim(), password);
    startSession(token, { ...user, ...access });
    navigate(next, { replace: true });
  });

  // Back from single sign-on: the one-time code is in the fragment (never sent to a server). It is taken out
  // of the address at once, so neither history nor a reload holds it, and swapped for a session.
  useEffect(() => {
    const code = /^#sso=([\w-]+)$/.exec(window.location.hash)?.[1];
    if (!code) return;
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    api.singleSignOn(code).then(
      ({ token, user, access, next: returnTo }) => {
        startSession(token, { ...user, ...access });
        navigate(safeNext(returnTo), { replace: true });
      },
      (caught: unknown) => setHandoverError(caught instanceof Error ? caught : new Error(String(caught))),
    );
  }, []);

  const refusal = search.get('sso-error');
  const shown = error ?? handoverError ?? (refusal ? new Error(refusalWords(refusal, provider)) : null);

  return (
    <div className="nhsuk-grid-row">
      <div className="nhsuk-grid-column-two-thirds">
        <ErrorSummary error={shown} fields={{ email: 'email', password: 'password' }} />
        {search.get('idle') && (
          <div className="nhsuk-inset-text" role="status">
            <p>You were signed out because PCN Hub was not used for {search.get('idle')} minutes. Sign in again to carry on.</p>
          </div>
        )}
        <h1>Sign in to PCN Hub</h1>
        {sso && (
          <>
            <p>Use your {provider} account, as you do for other NHS systems.</p>
            <a className="nhsuk-button" draggable={false} href={`/api/auth/oidc/start?next=${encodeURIComponent(next)}`}>
              {sso.label}
            </a>
            <h2 className="nhsuk-heading-m">Or sign in with your email and password</h2>
          </>
        )}
        <p>Use the email address and password your PCN Hub administrator gave you.</p>
        <form onSubmit={onSubmit} noValidate>
          <TextField id="email" label="Email address" type="email" autoComplete="username" spellCheck={false} value={email} onChange={setEmail} error={messageFor(error, 'email')} />
          <TextField id="password" label="Password" type="password" autoComplete="current-password" value={password} onChange={setPassword} error={messageFor(error, 'password')} />
          <SubmitButton busy={busy}>Sign in</SubmitButton>
        </form>
      </div>
    </div>
  );
}
