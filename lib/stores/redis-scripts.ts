import { createHash } from 'node:crypto';

/** A Lua script with its SHA1, for EVALSHA with an EVAL fallback on NOSCRIPT. */
export interface RedisScript {
  source: string;
  sha: string;
}

function script(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * KEYS[1] = set; ARGV = members. DEL then SADD in one script so readers never see a half-written set.
 * SADD goes in chunks because Lua's `unpack` fails past a few thousand values (C stack limit).
 */
export const replaceSetScript = script(`
redis.call('DEL', KEYS[1])
for i = 1, #ARGV, 1000 do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
return 1
`);

/**
 * One rate-limited attempt (see `AttemptInput` in store.ts), atomic as a whole.
 * KEYS[1] = failure counter, KEYS[2] = the action's key (absent for 'check').
 * ARGV = limit, windowMs, lockMs, now, kind, then: check -> '1'|'0'; advance -> value, ttlMs;
 * remove-member / take -> the candidates; take-advance -> value, ttlMs, the candidates (KEYS[3] =
 * the counter). Replies {'ok', 0}, {'locked', retryAfterMs} or {'invalid', failures, taken (0|1)}.
 * The counter is the string "count:until:locked". Times are the caller's clock (ARGV), never Redis's
 * TIME, so an injected clock drives locks; the key's PX TTL only collects garbage.
 * Lua 5.1 numbers are doubles: 13-digit ms timestamps are exact, but `tostring` would print them in
 * exponent form, hence string.format('%d').
 */
export const attemptScript = script(`
local limit = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local lockMs = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local kind = ARGV[5]

local count, untilMs = 0, 0
local raw = redis.call('GET', KEYS[1])
if raw then
  local c, u = string.match(raw, '^(%d+):(%-?%d+):[01]$')
  if c and tonumber(u) > now then
    count = tonumber(c)
    untilMs = tonumber(u)
  end
end
if count >= limit then
  return {'locked', untilMs - now}
end

-- Deletes \`key\` if it holds one of ARGV[first..]; true when it did.
local function take(key, first)
  local current = redis.call('GET', key)
  if not current then
    return false
  end
  for i = first, #ARGV do
    if current == ARGV[i] then
      redis.call('DEL', key)
      return true
    end
  end
  return false
end

-- Stores ARGV[6] at \`key\` (PX ARGV[7]) if it is above the number there (a missing one is below
-- anything; an unreadable one fails closed). With zeroStays, 0 passes while the number is missing
-- or 0, and is not written.
local function advance(key, zeroStays)
  local value = tonumber(ARGV[6])
  local current = redis.call('GET', key)
  local stored = current and tonumber(current)
  if zeroStays and value == 0 then
    return (not current) or stored == 0
  end
  local passes = (not current) or (stored ~= nil and stored < value)
  if passes then
    redis.call('SET', key, ARGV[6], 'PX', ARGV[7])
  end
  return passes
end

local ok = false
local taken = 0
if kind == 'check' then
  ok = ARGV[6] == '1'
elseif kind == 'advance' then
  ok = advance(KEYS[2], false)
elseif kind == 'remove-member' then
  for i = 6, #ARGV do
    if redis.call('SREM', KEYS[2], ARGV[i]) == 1 then
      ok = true
      break
    end
  end
elseif kind == 'take' then
  ok = take(KEYS[2], 6)
elseif kind == 'take-advance' then
  if take(KEYS[2], 8) then
    taken = 1
    ok = advance(KEYS[3], true)
  end
else
  return redis.error_reply('ERR unknown attempt kind ' .. tostring(kind))
end

if ok then
  if raw then
    redis.call('DEL', KEYS[1])
  end
  return {'ok', 0}
end

if count == 0 then
  untilMs = now + windowMs
end
count = count + 1
local locked = 0
if count >= limit then
  untilMs = now + lockMs
  locked = 1
end
redis.call('SET', KEYS[1], string.format('%d:%d:%d', count, untilMs, locked),
  'PX', string.format('%d', math.max(1, untilMs - now)))
return {'invalid', count, taken}
`);
