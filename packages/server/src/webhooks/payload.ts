export { eventPayload, type WebhookPayload } from '../domain/webhook-payload.js';
export {
  DELIVERY_EXHAUSTED,
  ENDPOINT_DISABLED,
  ENDPOINT_FAILING,
  ENDPOINT_RECOVERED,
  OPERATIONAL_EVENT_NAMES,
  TEST_EVENT_NAME,
  deliveryExhaustedPayload,
  endpointEventPayload,
  testPayload,
} from '../domain/operational-events.js';
