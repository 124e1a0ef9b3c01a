import { OrdercastError } from './errors.js';

/** How a project's buyer page (`/o/{token}`) looks, and which metadata keys a buyer may see. */
export interface Branding {
  displayName: string | null;
  logoUrl: string | null;
  accentColor: string | null;
  supportUrl: string | null;
  supportEmail: string | null;
  publicMetadataKeys: string[];
}

export const DEFAULT_BRANDING: Branding = {
  displayName: null,
  logoUrl: null,
  accentColor: null,
  supportUrl: null,
  supportEmail: null,
  publicMetadataKeys: [],
};

/** The accent when the project sets none: dark enough for text on white (WCAG AA). */
export const DEFAULT_ACCENT = '#0b6e4f';

export const MAX_PUBLIC_METADATA_KEYS = 32;
const MAX_DISPLAY_NAME = 80;
const MAX_URL = 2048;
const MAX_EMAIL = 254;
// Only a colour, and nothing a stylesheet could read as more (no `;`, `}`, `url(`).
const COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const EMAIL = /^[^\s@<>"'`()\\,;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const METADATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
// eslint-style control characters: a name is shown as text, and these have no place in it.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function fail(field: string, message: string): never {
  throw new OrdercastError('validation_failed', `${field}: ${message}`, { errors: [{ in: 'body', field, message }] });
}

/** An http(s) URL and nothing else: `javascript:`, `data:` and the like are refused. */
function webUrl(field: string, value: unknown, httpsOnly: boolean): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length > MAX_URL) fail(field, `must be a URL of at most ${MAX_URL} characters, or null`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(field, 'must be an absolute URL such as https://example.com/help');
  }
  const allowed = httpsOnly ? ['https:'] : ['https:', 'http:'];
  if (!allowed.includes(url.protocol)) fail(field, `must be an ${httpsOnly ? 'https' : 'http or https'} URL`);
  if (url.username || url.password) fail(field, 'must not carry a user name or password');
  return url.toString();
}

/**
 * Applies a change to the current branding: fields the change names are set (null clears
 * them), the others keep theirs. Every value is checked to be what it claims, because
 * each ends up in a page a buyer opens (the colour in its stylesheet, the URLs in links).
 */
export function applyBrandingChange(current: Branding, change: Record<string, unknown>): Branding {
  const next: Branding = { ...current, publicMetadataKeys: [...current.publicMetadataKeys] };
  for (const [field, value] of Object.entries(change)) {
    switch (field) {
      case 'displayName':
        if (value === null) next.displayName = null;
        else if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_DISPLAY_NAME || CONTROL.test(value)) {
          fail(field, `must be a name of 1 to ${MAX_DISPLAY_NAME} printable characters, or null`);
        } else next.displayName = value.trim();
        break;
      case 'logoUrl':
        next.logoUrl = webUrl(field, value, true);
        break;
      case 'supportUrl':
        next.supportUrl = webUrl(field, value, false);
        break;
      case 'accentColor':
        if (value === null) next.accentColor = null;
        else if (typeof value !== 'string' || !COLOR.test(value)) fail(field, 'must be a hex colour such as #0b6e4f, or null');
        else next.accentColor = value.toLowerCase();
        break;
      case 'supportEmail':
        if (value === null) next.supportEmail = null;
        else if (typeof value !== 'string' || value.length > MAX_EMAIL || !EMAIL.test(value)) fail(field, 'must be an e-mail address, or null');
        else next.supportEmail = value;
        break;
      case 'publicMetadataKeys':
        if (!Array.isArray(value) || value.length > MAX_PUBLIC_METADATA_KEYS || value.some((k) => typeof k !== 'string' || !METADATA_KEY.test(k))) {
          fail(field, `must be a list of at most ${MAX_PUBLIC_METADATA_KEYS} metadata keys (letters, digits, _ . -)`);
        }
        next.publicMetadataKeys = [...new Set(value as string[])];
        break;
      default:
        fail(field, 'unknown field');
    }
  }
  return next;
}
