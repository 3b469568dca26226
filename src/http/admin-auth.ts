/**
 * Operator actions need the admin token (`QUARTILE_ADMIN_TOKEN`), sent as
 * `Authorization: Bearer <token>` and compared in constant time. Without a configured
 * token, operator actions are disabled altogether.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Who performed an action, for the audit log: never the token itself. */
export interface Operator {
  readonly name: string;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Returns the operator when the request carries the admin token; otherwise answers
 * 401 (or 403 when no token is configured) and returns undefined.
 */
export function requireAdmin(configuredToken: string, request: FastifyRequest, reply: FastifyReply): Operator | undefined {
  if (configuredToken === '') {
    void reply.code(403).send({ code: 'ADMIN_DISABLED', message: 'Operator actions are disabled: set QUARTILE_ADMIN_TOKEN to enable them.' });
    return undefined;
  }
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  // Hash both sides so the comparison takes the same time whatever the lengths.
  if (match === null || !timingSafeEqual(digest(match[1]!.trim()), digest(configuredToken))) {
    void reply.code(401).send({ code: 'ADMIN_UNAUTHORIZED', message: 'This action needs the admin token: send Authorization: Bearer <QUARTILE_ADMIN_TOKEN>.' });
    return undefined;
  }
  const who = request.headers['x-quartile-operator'];
  return { name: typeof who === 'string' && who !== '' ? who.slice(0, 64) : 'operator' };
}
