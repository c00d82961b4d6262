import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorSummary, messageFor, SubmitButton, TextField, useSubmit } from '../components/forms.tsx';
import { navigate, useLocation } from '../router.tsx';
import { startSession } from '../session.ts';
import { usePageTitle } from '../use-resource.ts';

/** Only ever return to a path on this site after signing in. */
function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/signin') ? next : '/';
}

export function SignInPage() {
  usePageTitle('Sign in');
  const { search } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  const { error, busy, onSubmit } = useSubmit(async () => {
    const { token, user, access } = await api.login(email.trim(), password);
    startSession(token, { ...user, ...access });
    navigate(safeNext(search.get('next')), { replace: true });
  });

  return (
    <div className="nhsuk-grid-row">
      <div className="nhsuk-grid-column-two-thirds">
        <ErrorSummary error={error} fields={{ email: 'email', password: 'password' }} />
        {search.get('idle') && (
          <div className="nhsuk-inset-text" role="status">
            <p>You were signed out because PCN Hub was not used for {search.get('idle')} minutes. Sign in again to carry on.</p>
          </div>
        )}
        <h1>Sign in to PCN Hub</h1>
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
