import { LOCALES } from './locales.js';

/** How a status reads to a buyer in one language. */
export interface StatusText {
  label: string;
  description?: string;
}

/** Per status, per locale (`en`, `de`, …): the display label and description a buyer sees. Optional. */
export type StatusDisplay = Record<string, Record<string, StatusText>>;

const MAX_LABEL = 80;
const MAX_DESCRIPTION = 300;
const LOCALE_SET = new Set<string>(LOCALES);

/** Checks a lifecycle's `display`, adding what is wrong to `problems`; undefined when absent. */
export function parseStatusDisplay(input: unknown, statuses: ReadonlySet<string>, problems: string[]): StatusDisplay | undefined {
  if (input === undefined || input === null) return undefined;
  if (typeof input !== 'object' || Array.isArray(input)) {
    problems.push('display must be an object mapping a status to its labels per locale');
    return undefined;
  }
  const display: StatusDisplay = {};
  for (const [status, perLocale] of Object.entries(input as Record<string, unknown>)) {
    if (!statuses.has(status)) problems.push(`display: "${status}" is not in statuses`);
    if (typeof perLocale !== 'object' || perLocale === null || Array.isArray(perLocale)) {
      problems.push(`display.${status} must map a locale (${LOCALES.join(', ')}) to { label, description }`);
      continue;
    }
    display[status] = {};
    for (const [locale, text] of Object.entries(perLocale as Record<string, unknown>)) {
      if (!LOCALE_SET.has(locale)) problems.push(`display.${status}: unknown locale "${locale}" (known: ${LOCALES.join(', ')})`);
      const t = text as { label?: unknown; description?: unknown } | null;
      if (typeof t !== 'object' || t === null || typeof t.label !== 'string' || t.label.length === 0 || t.label.length > MAX_LABEL) {
        problems.push(`display.${status}.${locale}.label must be text of 1 to ${MAX_LABEL} characters`);
        continue;
      }
      if (t.description !== undefined && (typeof t.description !== 'string' || t.description.length > MAX_DESCRIPTION)) {
        problems.push(`display.${status}.${locale}.description must be text of at most ${MAX_DESCRIPTION} characters`);
        continue;
      }
      display[status][locale] = t.description === undefined ? { label: t.label } : { label: t.label, description: t.description };
    }
  }
  return display;
}

/** `PENDING_DELIVERY` → `Pending delivery`: the label of a status nobody labelled. */
export function humanizeStatus(status: string): string {
  const words = status
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The text of a status in a locale: that locale's, else English, else the status made readable. */
export function statusText(display: StatusDisplay | undefined, status: string, locale: string): StatusText {
  const texts = display?.[status];
  return texts?.[locale] ?? texts?.en ?? { label: humanizeStatus(status) };
}
