import { useEffect, useState } from 'preact/hooks';

/** Every page lives under this path; the server answers index.html for all of them. */
export const BASE = '/dashboard';

export type Route =
  | { page: 'orders' }
  | { page: 'stuck' }
  | { page: 'order'; id: string }
  | { page: 'webhooks' }
  | { page: 'events' }
  | { page: 'project' }
  | { page: 'audit' }
  | { page: 'not-found'; path: string };

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'orders')) return { page: 'orders' };
  if (parts.length === 2 && parts[0] === 'orders') return { page: 'order', id: parts[1] as string };
  if (parts.length === 1 && parts[0] === 'stuck') return { page: 'stuck' };
  if (parts.length === 1 && parts[0] === 'webhooks') return { page: 'webhooks' };
  if (parts.length === 1 && parts[0] === 'events') return { page: 'events' };
  if (parts.length === 1 && parts[0] === 'project') return { page: 'project' };
  if (parts.length === 1 && parts[0] === 'audit') return { page: 'audit' };
  return { page: 'not-found', path: rest };
}

export function href(path: string): string {
  return `${BASE}${path}`;
}

const listeners = new Set<() => void>();

export function navigate(path: string): void {
  history.pushState(null, '', href(path));
  for (const l of listeners) l();
}

/** The current route; follows links, back and forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => {
      setRoute(parseRoute(location.pathname));
      window.scrollTo(0, 0);
    };
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** A click on an in-app link navigates without reloading; modified clicks (new tab) keep the browser's behaviour. */
export function onLinkClick(event: MouseEvent, path: string): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(path);
}
