/** Whether the page is in the background, and a way to hear when it comes back. */
export interface VisibilitySource {
  isHidden(): boolean;
  /** Calls `listener` whenever the page becomes visible; returns the unsubscribe function. */
  onVisible(listener: () => void): () => void;
}

interface DocumentLike {
  hidden: boolean;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

/** The Page Visibility API of a browser `document`; undefined in Node, where nothing is ever hidden. */
export function documentVisibility(doc: DocumentLike | undefined = (globalThis as { document?: DocumentLike }).document): VisibilitySource | undefined {
  if (!doc || typeof doc.addEventListener !== 'function') return undefined;
  return {
    isHidden: () => doc.hidden === true,
    onVisible(listener) {
      const handler = () => {
        if (!doc.hidden) listener();
      };
      doc.addEventListener('visibilitychange', handler);
      return () => doc.removeEventListener('visibilitychange', handler);
    },
  };
}
