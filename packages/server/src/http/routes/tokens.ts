import type { FastifyInstance } from 'fastify';
import { MAX_USER_TOKEN_SECONDS, type AuthService } from '../../services/auth-service.js';
import { errorResponses } from '../schemas.js';

export async function tokenRoutes(app: FastifyInstance, opts: { auth: AuthService }): Promise<void> {
  app.post<{ Body: { userExternalId: string; expiresIn?: number } }>(
    '/api/v2/tokens',
    {
      config: { allow: ['secret'], permission: 'tokens:create' },
      schema: {
        summary: 'Issue a user token',
        operationId: 'createUserToken',
        description:
          "A short-lived JWT (HS256, signed with the project's token secret) that lets a browser or app read that user's orders, over REST and WebSockets.",
        tags: ['auth'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            userExternalId: { type: 'string', minLength: 1, maxLength: 255 },
            expiresIn: { type: 'integer', minimum: 1, maximum: MAX_USER_TOKEN_SECONDS, default: 3600, description: 'Seconds' },
          },
          required: ['userExternalId'],
        },
        response: {
          201: {
            type: 'object',
            properties: {
              object: { type: 'string', enum: ['user_token'] },
              token: { type: 'string' },
              userExternalId: { type: 'string' },
              projectId: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
            },
            required: ['object', 'token', 'userExternalId', 'projectId', 'expiresAt'],
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { projectId } = request.principal;
      const { token, expiresAt } = await opts.auth.issueUserToken(projectId, request.body.userExternalId, request.body.expiresIn);
      return reply.code(201).send({ object: 'user_token', token, userExternalId: request.body.userExternalId, projectId, expiresAt });
    },
  );
}
