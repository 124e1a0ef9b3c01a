/** The languages the buyer's page and the lifecycle presets ship in; the first is the fallback. */
export const LOCALES = ['en', 'de', 'fr', 'es', 'pt-BR', 'ja'] as const;

export type Locale = (typeof LOCALES)[number];

export const FALLBACK_LOCALE: Locale = 'en';

/** Longer than any language tag a browser sends: anything beyond it is not one of ours. */
const MAX_TAG_LENGTH = 35;
const MAX_ACCEPT_LANGUAGE = 512;

/** One of ours for a BCP 47 tag: exact (case-insensitive), else by its language (`pt` → `pt-BR`), else none. */
export function matchLocale(tag: string): Locale | undefined {
  if (tag.length === 0 || tag.length > MAX_TAG_LENGTH || !/^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$/.test(tag)) return undefined;
  const wanted = tag.replace('_', '-').toLowerCase();
  const exact = LOCALES.find((l) => l.toLowerCase() === wanted);
  if (exact) return exact;
  const language = wanted.split('-')[0];
  return LOCALES.find((l) => l.toLowerCase().split('-')[0] === language);
}

/**
 * The page's language: `?lang=` when it names one of ours, else the best of Accept-Language
 * by its q-values, else English. Nothing of either input is ever echoed back.
 */
export function negotiateLocale(lang: unknown, acceptLanguage: string | undefined): Locale {
  if (typeof lang === 'string') {
    const chosen = matchLocale(lang);
    if (chosen) return chosen;
  }
  if (!acceptLanguage || acceptLanguage.length > MAX_ACCEPT_LANGUAGE) return FALLBACK_LOCALE;
  const ranked = acceptLanguage
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const entry of ranked) {
    const chosen = matchLocale(entry.tag);
    if (chosen) return chosen;
  }
  return FALLBACK_LOCALE;
}
