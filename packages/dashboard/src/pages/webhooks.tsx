export function WebhooksPage() { return <p>Coming soon</p>; }
