/** A request URL fit for logs: the value of `token=` (a user token, for EventSource) replaced by `***`. */
export function urlForLog(url: string): string {
  return url.includes('token=') ? url.replace(/([?&]token=)[^&#]*/gi, '$1***') : url;
}
