/**
 * The secret key lives in this tab's sessionStorage only: gone when the tab closes,
 * never in localStorage, a cookie or the URL once read.
 */
const STORAGE_KEY = 'ordercast.secretKey';

export function storedKey(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function storeKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * `/dashboard#link=dl_…` (what `ordercast dashboard-link` prints) signs in with a one-time
 * link: the fragment never reaches the server's logs, and is removed at once.
 */
export function takeLinkFromFragment(): string | undefined {
  const match = /^#link=([A-Za-z0-9_]+)/.exec(location.hash);
  if (!match) return undefined;
  history.replaceState(history.state, '', location.pathname + location.search);
  return match[1];
}

/**
 * `/dashboard#key=sk_…` (the link `npm start` prints) signs in: the fragment never
 * reaches the server, and is removed from the address bar and history at once.
 */
export function takeKeyFromFragment(): string | undefined {
  const match = /^#key=([^&]+)/.exec(location.hash);
  if (!match) return undefined;
  history.replaceState(history.state, '', location.pathname + location.search);
  try {
    return decodeURIComponent(match[1] as string).trim();
  } catch {
    return undefined;
  }
}
