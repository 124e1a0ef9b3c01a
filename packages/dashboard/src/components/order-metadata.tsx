import { WholeText } from './ui.js';

/** The order's metadata, each key with its value shown whole (objects and arrays as JSON). */
export function OrderMetadata(props: { metadata: Record<string, unknown> | null | undefined }) {
  const entries = Object.entries(props.metadata ?? {});
  if (entries.length === 0) {
    return (
      <p class="muted small" data-testid="order-metadata">
        No metadata: it is set with <code>metadata</code> when the order is created.
      </p>
    );
  }
  return (
    <dl class="facts metadata" data-testid="order-metadata">
      {entries.map(([key, value]) => (
        <div key={key} data-key={key}>
          <dt>
            <WholeText text={key} />
          </dt>
          <dd>
            <WholeText text={typeof value === 'string' ? value : JSON.stringify(value)} class={typeof value === 'string' ? '' : 'mono'} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
