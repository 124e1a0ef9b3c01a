/** What a Centrifuge connection may read: a whole project (secret key), or one user's orders in it (user token). */
export interface ConnectionScope {
  projectId: string;
  userExternalId?: string;
}
