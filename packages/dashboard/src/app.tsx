import { useEffect, useState } from 'preact/hooks';
import { Api, ApiError } from './api.js';
import { Shell } from './components/shell.js';
import { SessionContext, type Session } from './context.js';
import { LiveFeed } from './live-feed.js';
import { SignIn } from './pages/sign-in.js';
import { forgetKey, storedKey, storeKey, takeKeyFromFragment, takeLinkFromFragment } from './session.js';
import type { DashboardSession, Project } from './types.js';

/** Why a sign-in link was refused, in words that say what to do next. */
export function linkRefusalMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'This sign-in link does not work: it was already used, revoked, or has expired. Ask for a new link.';
    if (error.status === 0) return 'The server is not answering. Check that Ordercast is running, then open the link again.';
    return `The server refused the sign-in link: ${error.message}`;
  }
  return `Sign-in failed: ${String(error)}`;
}

/** Why a key was refused, in words that say what to do next. */
export function refusalMessage(error: unknown, afterSignIn: boolean): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return 'This is a publishable key (pk_…): the dashboard needs the project’s secret key (sk_…).';
    if (error.status === 401) {
      return afterSignIn
        ? 'Your secret key no longer works: it was rotated or revoked. Sign in with the current secret key.'
        : 'This secret key was refused: it is wrong, of another server, or was rotated. Check it and try again.';
    }
    if (error.status === 0) return 'The server is not answering. Check that Ordercast is running, then try again.';
    return `The server refused the sign-in: ${error.message}`;
  }
  return `Sign-in failed: ${String(error)}`;
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(true);
  const [message, setMessage] = useState<string | undefined>();

  function signOut(reason?: string) {
    forgetKey();
    setSession((current) => {
      current?.feed.stop();
      return null;
    });
    setMessage(reason);
  }

  /** Ends the dashboard session on the server too (the cookie is HttpOnly: only the server can clear it). */
  async function signOutOfSession(api: Api) {
    await api.post('/api/v2/dashboard/sign-out').catch(() => undefined);
    signOut('You signed out. Open a new sign-in link to come back.');
  }

  async function startSession(api: Api, dashboard: DashboardSession | undefined): Promise<void> {
    const project = await api.get<Project>('/api/v2/project');
    api.onCredentialRefused = (error) =>
      signOut(
        api.isSession ? 'Your dashboard session has ended: it was signed out, revoked or has expired. Open a new sign-in link.' : refusalMessage(error, true),
      );
    const feed = new LiveFeed(api);
    feed.start();
    setMessage(undefined);
    setSession({ api, feed, project, origin: location.origin, role: dashboard?.role ?? 'secret', expiresAt: dashboard?.expiresAt });
  }

  /** Opens a one-time link: the server sets the session cookie and says the role and CSRF token. */
  async function openLink(link: string): Promise<void> {
    try {
      const dashboard = await new Api('').request<DashboardSession>('POST', '/api/v2/dashboard/sign-in', { body: { link } });
      forgetKey();
      await startSession(Api.withSession(dashboard.csrfToken), dashboard);
    } catch (error) {
      setMessage(linkRefusalMessage(error));
    }
  }

  /** A reload, or another tab: the cookie may still hold a session. */
  async function resumeSession(): Promise<void> {
    try {
      const dashboard = await Api.withSession('').get<DashboardSession>('/api/v2/dashboard/session');
      await startSession(Api.withSession(dashboard.csrfToken), dashboard);
    } catch {
      // No session: the sign-in form.
    }
  }

  async function signIn(key: string): Promise<boolean> {
    const trimmed = key.trim();
    if (!trimmed.startsWith('sk_')) {
      setMessage(
        trimmed.startsWith('pk_')
          ? 'This is a publishable key (pk_…): the dashboard needs the project’s secret key (sk_…).'
          : 'A secret key starts with sk_. Paste the one printed by `npm start` or `ordercast projects create`.',
      );
      return false;
    }
    const api = new Api(trimmed);
    try {
      await startSession(api, undefined);
      storeKey(trimmed);
      return true;
    } catch (error) {
      forgetKey();
      setMessage(refusalMessage(error, false));
      return false;
    }
  }

  useEffect(() => {
    const link = takeLinkFromFragment();
    const key = link ? undefined : (takeKeyFromFragment() ?? storedKey());
    const started = link ? openLink(link) : key ? signIn(key) : resumeSession();
    void started.finally(() => setChecking(false));
  }, []);

  if (checking) {
    return (
      <main class="center" aria-busy="true">
        <p>Signing in…</p>
      </main>
    );
  }
  if (!session) return <SignIn message={message} onSubmit={signIn} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell onSignOut={() => (session.api.isSession ? void signOutOfSession(session.api) : signOut('You signed out. The key was removed from this tab.'))} />
    </SessionContext.Provider>
  );
}
