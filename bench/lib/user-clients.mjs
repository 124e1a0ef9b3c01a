import { SignJWT } from 'jose';

/**
 * One benchmark client per order: order `i` belongs to `user-<i>`, who gets a user
 * token signed with the project's token secret, as a merchant backend would sign it.
 */
export function userClients(project, orderIds) {
  const secret = new TextEncoder().encode(project.tokenSecret);
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return Promise.all(
    orderIds.map(async (orderId, i) => ({
      orderId,
      userExternalId: `user-${i}`,
      token: await new SignJWT({ pid: project.id }).setProtectedHeader({ alg: 'HS256' }).setSubject(`user-${i}`).setExpirationTime(exp).sign(secret),
    })),
  );
}
