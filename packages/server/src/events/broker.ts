/**
 * That the log grew, and in which project. It carries no event: whoever hears it
 * reads the log (events/log-follower.ts), so a hint that is lost or late delays a
 * reader at most until its next read, and never loses anything.
 */
export interface LogHint {
  projectId: string;
}

export type HintListener = (hint: LogHint) => void;

/** Carries hints to every follower, in this process and (with Redis) in the others. */
export interface Broker {
  publish(hint: LogHint): void;
  subscribe(listener: HintListener): () => void;
  close(): Promise<void>;
}
