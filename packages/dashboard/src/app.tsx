import { useEffect, useState } from 'preact/hooks';
import { Api, ApiError } from './api.js';
import { Shell } from './components/shell.js';
import { SessionContext, type Session } from './context.js';
import { LiveFeed } from './live-feed.js';
import { SignIn } from './pages/sign-in.js';
import { forgetKey, storedKey, storeKey, takeKeyFromFragment } from './session.js';
import type { Project } from './types.js';

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
      const project = await api.get<Project>('/api/v2/project');
      storeKey(trimmed);
      api.onCredentialRefused = (error) => signOut(refusalMessage(error, true));
      const feed = new LiveFeed(api);
      feed.start();
      setMessage(undefined);
      setSession({ api, feed, project, origin: location.origin });
      return true;
    } catch (error) {
      forgetKey();
      setMessage(refusalMessage(error, false));
      return false;
    }
  }

  useEffect(() => {
    const key = takeKeyFromFragment() ?? storedKey();
    if (key) void signIn(key).finally(() => setChecking(false));
    else setChecking(false);
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
      <Shell onSignOut={() => signOut('You signed out. The key was removed from this tab.')} />
    </SessionContext.Provider>
  );
}
