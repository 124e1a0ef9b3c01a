/** Dates as the reader's locale writes them, with seconds: status changes are often seconds apart. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "12 s ago", "3 min ago": the list's "last change" column. */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return formatTime(iso);
}

/** How late a stuck order is: "12 s late", "3 min late", "2 h late", "4 d late". */
export function formatLate(expectedBy: string | null | undefined, now = Date.now()): string {
  if (!expectedBy) return 'late';
  const seconds = Math.max(0, Math.round((now - Date.parse(expectedBy)) / 1000));
  if (seconds < 60) return `${seconds} s late`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min late`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h late`;
  return `${Math.floor(seconds / 86_400)} d late`;
}

export function formatAmount(amount: string | null | undefined, currency: string | null | undefined): string {
  if (!amount) return '—';
  return currency ? `${amount} ${currency}` : amount;
}

/** A stable colour family per status name, so a custom lifecycle gets badges too. */
export function statusTone(status: string, finalStatuses: string[] = []): string {
  const s = status.toLowerCase();
  if (/(fail|error|declin|reject|expire)/.test(s)) return 'bad';
  if (/(cancel|refund|void)/.test(s)) return 'muted';
  if (/(complete|done|deliver|success|paid|succeed)/.test(s) && !/pending/.test(s)) return 'good';
  if (finalStatuses.includes(status)) return 'good';
  if (/(process|pending|progress)/.test(s)) return 'busy';
  return 'wait';
}

/** Who made a change, in words: "secret key key_…", "viewer session dss_…", "CLI". */
export function describeActor(actor: { kind: string; id: string | null; role?: string } | null | undefined): string {
  if (!actor) return '—';
  switch (actor.kind) {
    case 'cli':
      return 'CLI';
    case 'dashboard_session':
      return `${actor.role ?? 'dashboard'} session ${actor.id}`;
    case 'secret_key':
      return `secret key ${actor.id}`;
    case 'admin_key':
      return `admin key ${actor.id}`;
    default:
      return `${actor.kind.replace(/_/g, ' ')} ${actor.id ?? ''}`.trim();
  }
}
