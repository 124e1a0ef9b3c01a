import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types, run here exactly as `npm run size` runs it.
import { BUDGET_GZIP_BYTES, measureDashboard } from '../scripts/size.mjs';

describe('dashboard size', () => {
  it('stays under 150 KB gzipped in all (index.html, scripts, styles)', () => {
    const result = measureDashboard();
    expect(result.files.map((f: { file: string }) => f.file)).toContain('index.html');
    expect(result.files.some((f: { file: string }) => f.file.endsWith('.js'))).toBe(true);
    expect(BUDGET_GZIP_BYTES).toBe(150 * 1024);
    expect(result.gzipBytes).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  });
});
