/**
 * That the log grew, and in which project (and, when one order changed, which order).
 * It carries no event: whoever hears it reads the log (events/log-follower.ts), so a
 * hint that is lost or late delays a reader at most until its next read, and never
 * loses anything.
 */
export interface LogHint {
  projectId: string;
  orderId?: string;
}

/**
 * Called with a hint, or with `undefined` when hints may have been missed (a broker
 * connection came back): then a reader should read the log once whatever it follows.
 */
export type HintListener = (hint: LogHint | undefined) => void;

/** What this node's readers follow: a project (feeds, user channels) or one order (order subscriptions, long-polls). */
export type Interest = { projectId: string } | { orderId: string };

/**
 * Carries hints to every follower, in this process and (through PostgreSQL or Redis)
 * in the others. Hints from this process always reach its own listeners; hints from
 * other processes need only reach them when they concern something `follow`ed here:
 * a node no client follows a project on has nothing to wake for.
 */
export interface Broker {
  publish(hint: LogHint): void;
  subscribe(listener: HintListener): () => void;
  /** Marks `interest` as followed by this node until the returned function is called (calls are counted). */
  follow(interest: Interest): () => void;
  close(): Promise<void>;
}

/** A broker that joins server processes reports whether its connection is up (for /readyz and metrics). */
export interface ConnectedBroker extends Broker {
  /** `redis` or `postgres`: what carries hints between processes. */
  readonly transport: string;
  readonly isConnected: boolean;
}

export function isConnectedBroker(broker: Broker): broker is ConnectedBroker {
  return typeof (broker as Partial<ConnectedBroker>).transport === 'string';
}
