export function EventsPage() { return <p>Coming soon</p>; }
