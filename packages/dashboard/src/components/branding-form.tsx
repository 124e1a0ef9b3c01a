import { useEffect, useState } from 'preact/hooks';
import { canChange, useSession } from '../context.js';
import { ErrorNotice } from './ui.js';

/** The buyer page's branding (`/api/v2/project/branding`), as the project page shows and edits it. */
interface Branding {
  displayName: string | null;
  logoUrl: string | null;
  accentColor: string | null;
  supportUrl: string | null;
  supportEmail: string | null;
  publicMetadataKeys: string[];
}

const FIELDS: Array<{ name: Exclude<keyof Branding, 'publicMetadataKeys'>; label: string; type: 'text' | 'url' | 'email'; placeholder: string }> = [
  { name: 'displayName', label: 'Display name', type: 'text', placeholder: 'The project name' },
  { name: 'logoUrl', label: 'Logo URL (https)', type: 'url', placeholder: 'https://example.com/logo.png' },
  { name: 'accentColor', label: 'Accent colour', type: 'text', placeholder: '#0b6e4f' },
  { name: 'supportUrl', label: 'Support URL', type: 'url', placeholder: 'https://example.com/help' },
  { name: 'supportEmail', label: 'Support e-mail', type: 'email', placeholder: 'help@example.com' },
];

/** Empty text clears a field (null): the page then uses its default. */
function orNull(value: string): string | null {
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

export function BrandingForm() {
  const session = useSession();
  const { api } = session;
  const writable = canChange(session);
  const [values, setValues] = useState<Record<string, string>>({});
  const [loaded, setLoaded] = useState(false);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    const abort = new AbortController();
    api
      .get<Branding>('/api/v2/project/branding', abort.signal)
      .then((b) => {
        setValues({
          displayName: b.displayName ?? '',
          logoUrl: b.logoUrl ?? '',
          accentColor: b.accentColor ?? '',
          supportUrl: b.supportUrl ?? '',
          supportEmail: b.supportEmail ?? '',
          publicMetadataKeys: b.publicMetadataKeys.join(', '),
        });
        setLoaded(true);
      })
      .catch((e) => {
        if (!abort.signal.aborted) setError(e);
      });
    return () => abort.abort();
  }, [api]);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setSaved(false);
    try {
      const body: Record<string, unknown> = Object.fromEntries(FIELDS.map((f) => [f.name, orNull(values[f.name] ?? '')]));
      body.publicMetadataKeys = (values.publicMetadataKeys ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean);
      await api.request<Branding>('PATCH', '/api/v2/project/branding', { body });
      setError(undefined);
      setSaved(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const set = (name: string) => (e: Event) => setValues({ ...values, [name]: (e.target as HTMLInputElement).value });
  return (
    <form class="panel branding-form" onSubmit={submit} aria-label="Buyer page branding">
      <div class="filters">
        {FIELDS.map((f) => (
          <div class="field grow" key={f.name}>
            <label for={`branding-${f.name}`}>{f.label}</label>
            <input
              id={`branding-${f.name}`}
              // Preact types each input type on its own; these three take the same attributes.
              type={f.type as 'text'}
              maxLength={f.name === 'displayName' ? 80 : 2048}
              placeholder={f.placeholder}
              value={values[f.name] ?? ''}
              disabled={!loaded || !writable}
              onInput={set(f.name)}
            />
          </div>
        ))}
        <div class="field grow">
          <label for="branding-publicMetadataKeys">Metadata keys buyers may see (comma-separated)</label>
          <input
            id="branding-publicMetadataKeys"
            value={values.publicMetadataKeys ?? ''}
            placeholder="none"
            disabled={!loaded || !writable}
            onInput={set('publicMetadataKeys')}
          />
        </div>
        {writable && (
          <div class="field buttons">
            <button type="submit" disabled={busy || !loaded}>
              Save branding
            </button>
          </div>
        )}
      </div>
      <p class="small muted" role="status">
        {saved ? 'Saved: links show it from their next load.' : ''}
      </p>
      {error !== undefined && <ErrorNotice error={error} />}
    </form>
  );
}
