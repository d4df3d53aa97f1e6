/**
 * The fair dispatcher's Redis scripts (dispatcher.ts).
 *
 * POP_ROUND_ROBIN takes up to ARGV[1] ids from the tenants' pending lists, one per tenant per turn
 * of the ring (KEYS[1], a list of tenant names), and records each in the in-flight hash (KEYS[2]:
 * id → tenant) in the same step, so an id is always either pending, in flight, or has its job. A
 * tenant whose pending list is empty leaves the ring (the API adds it back with its next batch);
 * the others go to the back, so the next call resumes with the next tenant. The pending list of
 * tenant t is ARGV[2] .. t .. ARGV[3] (keys.tenantPending), under the same prefix as the keys.
 * Returns tenant, id, tenant, id, …
 */
export const POP_ROUND_ROBIN = `
local ring, inflight = KEYS[1], KEYS[2]
local want, head, tail = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local out = {}
local popped = 0
while popped < want do
  local tenant = redis.call('LPOP', ring)
  if not tenant then break end
  local pending = head .. tenant .. tail
  local id = redis.call('LPOP', pending)
  if id then
    redis.call('HSET', inflight, id, tenant)
    out[#out + 1] = tenant
    out[#out + 1] = id
    popped = popped + 1
  end
  if redis.call('LLEN', pending) > 0 then redis.call('RPUSH', ring, tenant) end
end
return out`;

/** Releases the lock KEYS[1] only if this holder (ARGV[1]) still has it. */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
