export function ProjectPage() { return <p>Coming soon</p>; }
