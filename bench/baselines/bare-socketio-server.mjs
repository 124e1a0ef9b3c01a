// Reference for the connections scenario: the socket.io library alone, holding the
// same clients the same way (namespace /ws, websocket transport, `subscribe:order`
// acked) with none of Ordercast's code. It shows how much of the Socket.IO gateway's
// memory per connection is socket.io's own. GET /memory reports its heap.
import http from 'node:http';
import { Server } from 'socket.io';

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/memory') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ heapUsed: process.memoryUsage().heapUsed }));
    return;
  }
  res.statusCode = 404;
  res.end();
});
const io = new Server(server, { serveClient: false });
io.of('/ws').on('connection', (socket) => {
  socket.on('subscribe:order', (payload, ack) => {
    if (typeof ack === 'function') ack({ orderId: payload?.orderId, version: 1 });
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)) && io.close());
