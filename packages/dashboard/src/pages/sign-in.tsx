import { useEffect, useRef, useState } from 'preact/hooks';

export function SignIn(props: { message?: string; onSubmit(key: string): Promise<boolean> }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), [props.message]);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    const ok = await props.onSubmit(key);
    if (!ok) {
      setBusy(false);
      input.current?.select();
    }
  }

  return (
    <main class="sign-in">
      <form class="card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">
          <span class="logo" aria-hidden="true" /> Ordercast dashboard
        </h1>
        <p class="hint">Sign in with your project’s secret key. It stays in this browser tab only (sessionStorage) and is sent only to this server’s API.</p>
        {props.message && (
          <p class="notice error" role="alert" id="sign-in-error">
            {props.message}
          </p>
        )}
        <label for="secret-key">Secret key</label>
        <input
          id="secret-key"
          ref={input}
          type="password"
          name="secret-key"
          autoComplete="off"
          spellcheck={false}
          placeholder="sk_…"
          required
          value={key}
          aria-invalid={props.message ? true : undefined}
          aria-describedby={props.message ? 'sign-in-error' : undefined}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="hint small">
          <code>npm start</code> prints a sign-in link for the demo project. For another project:{' '}
          <code>npx ordercast projects create --name Shop --lifecycle onramp</code>.
        </p>
        <p class="hint small">
          No secret key? Ask for a one-time sign-in link (<code>ordercast dashboard-link --project … --role viewer</code>): it signs you in with a role, without
          the key.
        </p>
      </form>
    </main>
  );
}
