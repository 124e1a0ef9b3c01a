// A full garbage collection in another Node process, through its inspector (the process
// was started with --inspect): heap readings taken right after one count live objects
// only, not whatever garbage the last few seconds left.
import WebSocket from 'ws';

export function collectGarbage(inspectorUrl) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(inspectorUrl);
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
    socket.on('message', (data) => {
      const reply = JSON.parse(data.toString());
      if (reply.id !== 1) return;
      socket.close();
      if (reply.error) reject(new Error(`collectGarbage: ${reply.error.message}`));
      else resolve();
    });
  });
}
