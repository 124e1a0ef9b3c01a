import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api.js';
import type { LiveFeed } from './live-feed.js';
import type { Project } from './types.js';

/** What every page of a signed-in session shares. */
export interface Session {
  api: Api;
  feed: LiveFeed;
  project: Project;
  /** Where the server is, for the `curl` lines of empty states. */
  origin: string;
  /** Signed in with the secret key, or a dashboard session's role. */
  role: 'secret' | 'viewer' | 'operator';
  /** When a dashboard session ends (undefined for the secret key). */
  expiresAt?: string;
}

/** Whether this sign-in may change things: the controls that would are hidden from a viewer (the server refuses them anyway). */
export function canChange(session: Session): boolean {
  return session.role !== 'viewer';
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in session');
  return session;
}
