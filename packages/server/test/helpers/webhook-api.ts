import type { CreatedProject } from '../../src/services/project-service.js';
import type { TestServer } from './test-server.js';
import { eventually } from './webhook-receiver.js';

/** Small wrappers over the public API, so tests read like a user's steps. */
export function webhookApi(server: TestServer, project: CreatedProject) {
  const key = project.secretKey;
  const api = {
    key,
    project,
    request: (method: string, path: string, body?: unknown) => server.request(method, path, { key, body }),
    async createEndpoint(url: string, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
      const response = await server.request('POST', '/api/v2/webhook-endpoints', { key, body: { url, ...extra } });
      if (response.status !== 201) throw new Error(`endpoint not created: ${response.status} ${response.text}`);
      return { id: response.body.id, secret: response.body.secret };
    },
    async createOrder(body: Record<string, unknown> = {}): Promise<{ id: string }> {
      const response = await server.request('POST', '/api/v2/orders', { key, body });
      if (response.status !== 201) throw new Error(`order not created: ${response.status} ${response.text}`);
      return response.body;
    },
    async transition(orderId: string, status: string): Promise<void> {
      const response = await server.request('POST', `/api/v2/orders/${orderId}/status`, { key, body: { status } });
      if (response.status !== 200) throw new Error(`transition refused: ${response.status} ${response.text}`);
    },
    async deliveries(query = ''): Promise<any[]> {
      const response = await server.request('GET', `/api/v2/webhook-deliveries?limit=100${query}`, { key });
      if (response.status !== 200) throw new Error(`deliveries: ${response.status} ${response.text}`);
      return response.body.data;
    },
    async delivery(id: string): Promise<any> {
      return (await server.request('GET', `/api/v2/webhook-deliveries/${id}`, { key })).body;
    },
    async endpoint(id: string): Promise<any> {
      return (await server.request('GET', `/api/v2/webhook-endpoints/${id}`, { key })).body;
    },
    /** Waits until the delivery is no longer pending and returns it with its attempts. */
    async settled(deliveryId: string, timeoutMs = 15_000): Promise<any> {
      return eventually(
        async () => {
          const d = await api.delivery(deliveryId);
          return d.status !== 'pending' ? d : undefined;
        },
        timeoutMs,
        `delivery ${deliveryId} to finish`,
      );
    },
    async sendTest(endpointId: string): Promise<any> {
      const response = await server.request('POST', `/api/v2/webhook-endpoints/${endpointId}/test`, { key });
      if (response.status !== 202) throw new Error(`test not sent: ${response.status} ${response.text}`);
      return response.body;
    },
  };
  return api;
}
