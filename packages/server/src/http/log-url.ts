/**
 * A request URL fit for logs and error messages: the value of `token=` (a user token, for
 * EventSource) and the token of a buyer's order link (`/o/<token>`) replaced by `***`.
 */
export function urlForLog(url: string): string {
  let safe = url.startsWith('/o/') ? url.replace(/^\/o\/[^/?#]*/, '/o/***') : url;
  if (safe.includes('token=')) safe = safe.replace(/([?&]token=)[^&#]*/gi, '$1***');
  return safe;
}
