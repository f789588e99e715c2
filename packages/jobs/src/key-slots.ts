// Which Redis Cluster slot each key lands in. On one server a slot changes nothing; on a
// cluster it picks the master. A Lua script, MULTI or pipeline may only touch keys of one slot,
// so keys used together share a {hash tag}; all others hash on their whole name and spread.
//
// With a prefix that has no hash tag of its own (e.g. `conduit`):
//   queue `refresh-fathom` (BullMQ's keys)  conduit:{refresh-fathom}:refresh-fathom:…  a slot per lane
//   the refresh sweep's claims on a lane     conduit:{refresh-fathom}:claims:refresh-fathom  the lane's slot
//   lock, rescue slot, forced-refresh key    conduit:lock:refresh:<id> …                 their own slot each
//   Fathom account budget (log + pause)      conduit:budget:{fathom:<account>}[:paused]  a slot per account
//   refresh stats (60 buckets per read)      conduit:stats:{refresh}:<minute>            one slot
// A prefix with a hash tag (`{conduit}`, the default on one server) pins every key to that
// slot; the names are then exactly those of releases before cluster support.

/** Whether `prefix` has a `{…}` hash tag of its own, which then decides every key's slot. */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open !== -1 && prefix.indexOf('}', open) > open + 1;
}

/** `scope` as a hash tag under `prefix`, or as is when the prefix's own tag decides the slot. */
export function slotTag(prefix: string, scope: string): string {
  return hasHashTag(prefix) ? scope : `{${scope}}`;
}

/** BullMQ's `prefix` option for queue `name`: every key of one queue in one slot, a slot per queue. */
export function queueKeyPrefix(prefix: string, name: string): string {
  return hasHashTag(prefix) ? prefix : `${prefix}:{${name}}`;
}
