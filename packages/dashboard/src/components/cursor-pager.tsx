/**
 * Newer / Older buttons over a cursor-paged list. `cursors` is the stack of cursors of
 * the pages before this one ('' for the first page), so "Newer" can go back.
 */
export function CursorPager(props: {
  label: string;
  cursor: string | undefined;
  cursors: string[];
  nextCursor: string | null | undefined;
  hasMore: boolean | undefined;
  onMove(cursor: string | undefined, cursors: string[]): void;
}) {
  const { cursor, cursors, nextCursor } = props;
  return (
    <nav class="pager" aria-label={props.label}>
      <button
        type="button"
        class="secondary"
        disabled={cursor === undefined}
        onClick={() => {
          const previous = [...cursors];
          const back = previous.pop();
          props.onMove(back === '' ? undefined : back, previous);
        }}
      >
        ← Newer
      </button>
      <button
        type="button"
        class="secondary"
        disabled={!props.hasMore || !nextCursor}
        onClick={() => props.onMove(nextCursor ?? undefined, [...cursors, cursor ?? ''])}
      >
        Older →
      </button>
    </nav>
  );
}
