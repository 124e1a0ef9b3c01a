import { timingSafeEqual } from 'node:crypto';

/** Compares secrets without the time taken telling how much of them matched. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
