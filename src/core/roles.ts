/**
 * Roles a Quartile process can take (`quartile start --role …`). The collector and
 * the Ads Manager are stateless HTTP services; the pipeline is a consumer group
 * member (which also delivers vendor beacons unless `pixels.deliver` is off); `pixels`
 * delivers vendor beacons only; `all` runs everything in one process.
 */
export const ROLES = ['collector', 'ads-manager', 'pipeline', 'pixels', 'all'] as const;

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

/** The seams a role uses beyond the event log: it opens and health-checks only these. */
export function seamsOf(role: Role): { readonly state: boolean; readonly warehouse: boolean } {
  switch (role) {
    case 'collector':
      return { state: false, warehouse: false };
    case 'ads-manager':
      return { state: true, warehouse: false };
    case 'pipeline':
    case 'pixels':
    case 'all':
      return { state: true, warehouse: true };
  }
}
