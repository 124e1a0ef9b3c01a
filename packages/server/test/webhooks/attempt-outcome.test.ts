import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  type AttemptResult,
  decideAttemptOutcome,
  decideHealthAfterFailures,
  decideHealthAfterSuccess,
  laneWidth,
  parseRetryAfter,
  type RetryPolicy,
} from '../../src/domain/attempt-outcome.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const POLICY: RetryPolicy = { delaysMs: [0, 10_000, 20_000], jitter: 0, maxRetryAfterMs: 60_000 };
/** The decision after the first attempt of a delivery, with no jitter. */
const afterFirst = (result: AttemptResult) => decideAttemptOutcome(result, 1, POLICY, NOW, 0.5);

describe('attempt outcome and retry schedule', () => {
  it('defaults to the spec example: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h', () => {
    const { webhooks } = loadConfig({}, {});
    expect(webhooks.retrySchedule).toEqual([0, 5e3, 300e3, 1800e3, 7200e3, 18000e3, 36000e3, 50400e3, 72000e3, 86400e3]);
    expect(webhooks).toMatchObject({ timeout: 15_000, connectTimeout: 5_000, disableAfter: 5 * 86400e3, rotationGrace: 86400e3, allowPrivate: false });
  });

  it('reads ORDERCAST_WEBHOOK_* settings and rejects nonsense clearly', () => {
    const { webhooks } = loadConfig(
      {},
      { ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0, 250ms, 2m', ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true', ORDERCAST_WEBHOOK_DISABLE_AFTER: '2d' },
    );
    expect(webhooks.retrySchedule).toEqual([0, 250, 120_000]);
    expect(webhooks.allowPrivate).toBe(true);
    expect(webhooks.disableAfter).toBe(2 * 86400e3);
    expect(() => loadConfig({}, { ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0,soon' })).toThrow(ConfigError);
    expect(() => loadConfig({}, { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'maybe' })).toThrow(/true or false/);
  });

  it('spreads each delay by the jitter fraction and gives up after the last', () => {
    const policy = { ...POLICY, jitter: 0.2 };
    const failed = { statusCode: 500 };
    expect(decideAttemptOutcome(failed, 1, policy, NOW, 0)).toEqual({ status: 'pending', retryInMs: 8_000 });
    expect(decideAttemptOutcome(failed, 1, policy, NOW, 0.999999)).toEqual({ status: 'pending', retryInMs: 12_000 });
    expect(decideAttemptOutcome(failed, 2, policy, NOW, 0)).toEqual({ status: 'pending', retryInMs: 16_000 });
    // Exhausted: the schedule has no wait left.
    expect(decideAttemptOutcome(failed, 3, policy, NOW, 0)).toEqual({ status: 'failed', reason: 'exhausted' });
  });

  it('counts any 2xx as success, and nothing else', () => {
    for (const statusCode of [200, 201, 204, 299]) expect(afterFirst({ statusCode })).toEqual({ status: 'succeeded' });
    for (const statusCode of [100, 199, 300, 302, 400, 404, 500]) expect(afterFirst({ statusCode }).status).toBe('pending');
  });

  it('stops at once on 410 Gone, even with retries left', () => {
    expect(afterFirst({ statusCode: 410 })).toEqual({ status: 'failed', reason: 'gone' });
  });

  it('retries a timeout, a refused or reset connection (no status) on the schedule', () => {
    expect(afterFirst({ statusCode: null })).toEqual({ status: 'pending', retryInMs: 10_000 });
    expect(decideAttemptOutcome({ statusCode: null }, 3, POLICY, NOW, 0.5)).toEqual({ status: 'failed', reason: 'exhausted' });
  });

  it('lets Retry-After on 429 and 503 lengthen a wait, within the cap, but never shorten it; other statuses ignore it', () => {
    for (const statusCode of [429, 503]) {
      expect(afterFirst({ statusCode, retryAfter: '30' })).toEqual({ status: 'pending', retryInMs: 30_000 });
      expect(afterFirst({ statusCode, retryAfter: '1' })).toEqual({ status: 'pending', retryInMs: 10_000 });
      expect(afterFirst({ statusCode, retryAfter: '3600' })).toEqual({ status: 'pending', retryInMs: 60_000 });
      expect(afterFirst({ statusCode, retryAfter: 'Thu, 01 Jan 2026 00:00:45 GMT' })).toEqual({ status: 'pending', retryInMs: 45_000 });
      expect(afterFirst({ statusCode, retryAfter: 'later' })).toEqual({ status: 'pending', retryInMs: 10_000 });
    }
    expect(afterFirst({ statusCode: 500, retryAfter: '30' })).toEqual({ status: 'pending', retryInMs: 10_000 });
  });

  it('makes an endpoint failing once its run of failures reaches the threshold, once per run', () => {
    const rules = { failingAfter: 3, disableAfterMs: 86_400_000 };
    const run = (failuresBefore: number, failuresAfter: number) =>
      decideHealthAfterFailures({ failuresBefore, failuresAfter, failingSinceMs: NOW, nowMs: NOW + 1000 }, rules);
    expect(run(0, 2)).toEqual({ kind: 'unchanged' });
    expect(run(2, 3)).toEqual({ kind: 'failing' });
    // A batch can cross the threshold by several failures at once.
    expect(run(1, 5)).toEqual({ kind: 'failing' });
    expect(run(3, 4)).toEqual({ kind: 'unchanged' });
  });

  it('disables an endpoint that has failed for the configured time, saying since when', () => {
    const rules = { failingAfter: 3, disableAfterMs: 60_000 };
    expect(decideHealthAfterFailures({ failuresBefore: 7, failuresAfter: 8, failingSinceMs: NOW, nowMs: NOW + 60_000 }, rules)).toEqual({
      kind: 'disable',
      reason: 'every attempt failed since 2026-01-01T00:00:00.000Z',
      alsoFailing: false,
    });
    expect(decideHealthAfterFailures({ failuresBefore: 0, failuresAfter: 3, failingSinceMs: NOW, nowMs: NOW + 60_000 }, rules)).toMatchObject({
      kind: 'disable',
      alsoFailing: true,
    });
    expect(decideHealthAfterFailures({ failuresBefore: 7, failuresAfter: 8, failingSinceMs: NOW, nowMs: NOW + 59_999 }, rules).kind).toBe('unchanged');
  });

  it('recovers an endpoint that was failing on its first success; a few failures short of that are not a recovery', () => {
    expect(decideHealthAfterSuccess(3, { failingAfter: 3 })).toEqual({ kind: 'recovered' });
    expect(decideHealthAfterSuccess(2, { failingAfter: 3 })).toEqual({ kind: 'unchanged' });
    expect(decideHealthAfterSuccess(0, { failingAfter: 3 })).toEqual({ kind: 'unchanged' });
  });

  it("narrows a failing endpoint's lane to one probe; otherwise its own width or the default", () => {
    expect(laneWidth(0, null, 4, 5)).toBe(4);
    expect(laneWidth(4, 16, 4, 5)).toBe(16);
    expect(laneWidth(5, 16, 4, 5)).toBe(1);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
