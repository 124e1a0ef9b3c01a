/** The root entry as browsers resolve it: everything but webhook verification, which needs node:crypto. */
export * from './track.js';
