import { useEffect, useRef } from 'preact/hooks';
import { useSession } from './context.js';
import type { FeedListener } from './live-feed.js';

/** Subscribes a page to the live feed for as long as it is shown; the latest callbacks are always the ones called. */
export function useFeed(listener: Pick<FeedListener, 'events' | 'resync'>): void {
  const { feed } = useSession();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(
    () =>
      feed.subscribe({
        events: (events) => latest.current.events?.(events),
        resync: () => latest.current.resync?.(),
      }),
    [feed],
  );
}

/** Re-runs `load` every `ms` while the tab is visible (for lists the event feed does not carry, such as deliveries). */
export function useRefresh(load: () => void, ms: number): void {
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') latest.current();
    }, ms);
    return () => clearInterval(timer);
  }, [ms]);
}
