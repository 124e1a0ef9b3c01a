/** Creates `count` orders through the REST API with `concurrency` requests in flight. */
export async function seedOrders(baseUrl, secretKey, count, body = () => ({}), concurrency = 32) {
  const ids = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      const res = await fetch(`${baseUrl}/api/v2/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body(i)),
      });
      if (res.status !== 201) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
      ids[i] = (await res.json()).id;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}
