/**
 * Roles a Quartile process can take (`quartile start --role …`). The collector and
 * the Ads Manager are stateless HTTP services; the pipeline is a consumer group
 * member; `all` runs everything in one process.
 */
export const ROLES = ['collector', 'ads-manager', 'pipeline', 'all'] as const;

/** A process role. */
export type Role = (typeof ROLES)[number];

/** True when `value` names a role. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** True when a process with `role` runs the part `part`. */
export function runs(role: Role, part: Exclude<Role, 'all'>): boolean {
  return role === 'all' || role === part;
}
