import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parseRetryAfter, RetrySchedule } from '../../src/webhooks/retry-schedule.js';

describe('retry schedule', () => {
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
    const low = new RetrySchedule([0, 10_000, 20_000], 0.2, 86400e3, () => 0);
    const high = new RetrySchedule([0, 10_000, 20_000], 0.2, 86400e3, () => 0.999999);
    expect(low.nextDelay(1)).toBe(8_000);
    expect(high.nextDelay(1)).toBe(12_000);
    expect(low.nextDelay(2)).toBe(16_000);
    expect(low.nextDelay(3)).toBeUndefined();
  });

  it('lets Retry-After lengthen a wait, within the cap, but never shorten it', () => {
    const schedule = new RetrySchedule([0, 10_000, 20_000], 0, 60_000);
    expect(schedule.nextDelay(1, 30_000)).toBe(30_000);
    expect(schedule.nextDelay(1, 1_000)).toBe(10_000);
    expect(schedule.nextDelay(1, 3_600_000)).toBe(60_000);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
