/**
 * The adaptive limits' state changes, each one Lua script so that concurrent workers never
 * interleave a read and a write. Every script takes the time from Redis (TIME), so all processes
 * share one clock. The cap and the rate are written into BullMQ's generate meta hash in the same
 * script (the fields Queue.setGlobalConcurrency / setGlobalRateLimit write): what BullMQ enforces
 * is always what the state says. The rate is enforced as one call per 1000/rps ms, not rps per
 * fixed second, so no sliding second ever holds much more than rps calls. Without a rate the
 * limiter's max is still set (to 2^53 - 1, as a string so that Lua keeps every digit): BullMQ
 * honours queue.rateLimit(), our cooldown, only where a max is set.
 *
 * State hash (keys.zaiLimits): cap, limit, cut_at, probe_at, raised_at, filled_at, last_start,
 * reject_ms, refusals, rps, rps_cut_at, rps_probe_at, throttles. See docs/failures.md.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function num(v) return tonumber(v) or 0 end
local function enforceRate(meta, rps)
  if rps > 0 then
    redis.call('HSET', meta, 'max', 1, 'duration', math.max(1, math.floor(1000 / rps)))
  else
    redis.call('HSET', meta, 'max', '9007199254740991', 'duration', 1000)
  end
end`;

/** KEYS: limits, meta. ARGV: ceiling, rps ceiling (0 = none), starting cap. Returns the cap. */
export const INIT = `${NOW}
local ceiling, rpsCeiling = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap = tonumber(redis.call('HGET', KEYS[1], 'cap'))
if not cap then
  cap = math.min(tonumber(ARGV[3]), ceiling)
  redis.call('HSET', KEYS[1], 'cap', cap, 'limit', 0, 'cut_at', 0, 'probe_at', 0, 'raised_at', 0, 'filled_at', 0,
    'last_start', 0, 'reject_ms', 0, 'refusals', 0, 'rps', 0, 'rps_cut_at', 0, 'rps_probe_at', 0, 'throttles', 0)
elseif cap > ceiling then
  cap = ceiling
  redis.call('HSET', KEYS[1], 'cap', cap)
end
redis.call('HSET', KEYS[2], 'concurrency', cap)
local rps = num(redis.call('HGET', KEYS[1], 'rps'))
if rpsCeiling > 0 and (rps == 0 or rps > rpsCeiling) then rps = rpsCeiling end
redis.call('HSET', KEYS[1], 'rps', rps)
enforceRate(KEYS[2], rps)
return cap`;

/**
 * A call starts. KEYS: limits, calls, starts. ARGV: call id, lease ms.
 * Returns {calls in flight before this one, calls started in the second before it, now}.
 */
export const ENTER = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local ahead = redis.call('ZCARD', KEYS[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 1000)
local sent = redis.call('ZCARD', KEYS[3])
redis.call('ZADD', KEYS[3], now, ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'cap', 'raised_at', 'filled_at')
if ahead + 1 >= num(s[1]) and num(s[2]) >= num(s[3]) then
  redis.call('HSET', KEYS[1], 'filled_at', now, 'last_start', now)
else
  redis.call('HSET', KEYS[1], 'last_start', now)
end
return {ahead, sent, now}`;

/**
 * A call succeeded with `ahead` others in flight: ahead + 1 at once works, unless the cap was cut
 * after it started. KEYS: limits, calls. ARGV: call id, ahead, started.
 */
export const SUCCEEDED = `
redis.call('ZREM', KEYS[2], ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'limit', 'cut_at')
local proven = tonumber(ARGV[2]) + 1
if tonumber(ARGV[3]) > (tonumber(s[2]) or 0) and proven > (tonumber(s[1]) or 0) then
  redis.call('HSET', KEYS[1], 'limit', proven)
end
return 1`;

/**
 * 1302: the cap comes down to what was in flight when the refused call was sent (a refusal of a
 * call sent under a higher cap, ahead >= cap, changes nothing), and stays there for the probe
 * interval. With none of our calls in flight (ahead = 0) the account is busy elsewhere: that says
 * nothing about our concurrency, so only the refusal is counted (the caller cools the queue down).
 * KEYS: limits, calls, refusals, meta. ARGV: call id, ahead, round trip ms, probe ms.
 * Returns {cap before, cap after}.
 */
export const REFUSED = `${NOW}
redis.call('ZREM', KEYS[2], ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'cap', 'reject_ms')
local before = num(s[1])
local cap = before
local ahead = tonumber(ARGV[2])
local rejectMs = math.max(tonumber(ARGV[3]), math.floor(num(s[2]) * 0.9))
if ahead > 0 then
  if ahead < cap then cap = ahead end
  redis.call('HSET', KEYS[1], 'cap', cap, 'limit', cap, 'cut_at', now, 'probe_at', now + tonumber(ARGV[4]), 'reject_ms', rejectMs)
else
  redis.call('HSET', KEYS[1], 'reject_ms', rejectMs)
end
redis.call('HINCRBY', KEYS[1], 'refusals', 1)
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 60000)
redis.call('HSET', KEYS[4], 'concurrency', cap)
return {before, cap}`;

/**
 * 1303, 1305, 429: the rate comes down to the calls started in the second before the refused one
 * (one less when that is not below the current rate and the call was sent under it), and stays
 * there for the probe interval. KEYS: limits, calls, throttles, meta. ARGV: call id, sent, started,
 * probe ms. Returns {rps before, rps after}.
 */
export const THROTTLED = `${NOW}
redis.call('ZREM', KEYS[2], ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'rps', 'rps_cut_at')
local before = num(s[1])
local rps = before
local sent = math.max(1, tonumber(ARGV[2]))
if rps == 0 or sent < rps then rps = sent
elseif tonumber(ARGV[3]) > num(s[2]) then rps = math.max(1, rps - 1) end
redis.call('HSET', KEYS[1], 'rps', rps, 'rps_cut_at', now, 'rps_probe_at', now + tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[1], 'throttles', 1)
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 60000)
enforceRate(KEYS[4], rps)
return {before, rps}`;

/**
 * Additive increase, run by every worker on a timer. The cap grows by one per step interval while
 * the fleet uses all of it, once the call that filled the last step has been out long enough to
 * have been refused (twice the slowest recent 1302), and not before the probe time after a 1302.
 * The rate grows by one per second while the limiter binds, after its probe time.
 * KEYS: limits, calls, starts, meta, marker. ARGV: ceiling, step ms, rps ceiling (0 = none).
 * Returns the new cap when it was raised, else 0.
 */
export const STEP = `${NOW}
local s = redis.call('HMGET', KEYS[1], 'cap', 'probe_at', 'raised_at', 'filled_at', 'reject_ms', 'rps', 'rps_probe_at')
local cap = tonumber(s[1])
if not cap then return 0 end
local ceiling, step, rpsCeiling = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local raised = 0
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if cap < ceiling and now >= num(s[2]) and now - num(s[3]) >= step and num(s[4]) >= num(s[3])
    and now - num(s[4]) >= math.max(step, 2 * num(s[5])) and redis.call('ZCARD', KEYS[2]) >= cap then
  cap = cap + 1
  redis.call('HSET', KEYS[1], 'cap', cap, 'raised_at', now)
  redis.call('HSET', KEYS[4], 'concurrency', cap)
  -- BullMQ wakes an idle worker only on its marker; without it the new slot waits for a drain timeout.
  redis.call('ZADD', KEYS[5], 0, '0')
  raised = cap
end
local rps = num(s[6])
if rps > 0 and (rpsCeiling == 0 or rps < rpsCeiling) and now >= num(s[7]) then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 1000)
  if redis.call('ZCARD', KEYS[3]) >= rps then
    rps = rps + 1
    redis.call('HSET', KEYS[1], 'rps', rps, 'rps_probe_at', now + 1000)
    enforceRate(KEYS[4], rps)
  end
end
return raised`;
