import { describe, expect, it } from 'vitest';
import { fullJitterDelay, parseRetryAfter } from '../src/backoff.js';

describe('full-jitter backoff', () => {
  const options = { baseMs: 100, capMs: 1000 };

  it('spreads each retry over [0, min(cap, base·2^attempt))', () => {
    expect(fullJitterDelay(0, options, () => 0)).toBe(0);
    expect(fullJitterDelay(0, options, () => 0.999)).toBe(99);
    expect(fullJitterDelay(3, options, () => 0.5)).toBe(400);
    expect(fullJitterDelay(20, options, () => 0.999)).toBe(999);
  });

  it('draws different delays for clients that failed together', () => {
    const delays = Array.from({ length: 200 }, () => fullJitterDelay(4, options));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(1000);
    expect(new Set(delays).size).toBeGreaterThan(50);
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates, and ignores nonsense', () => {
    const now = Date.parse('2026-11-22T21:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 21:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 20:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
