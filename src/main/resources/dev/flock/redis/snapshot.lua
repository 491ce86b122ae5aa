-- List the live members of a room with their metadata and cursor. Read-only.
-- KEYS: none (key names from ARGV[1], see prelude.lua).
-- ARGV[1] - room id, as encoded for keys
-- Returns {{user id, metadata JSON ('{}' when no presence hash), x, y, timestamp}, ...}, with '' for each
-- cursor field the user has not written.

local out = {}
for _, u in ipairs(redis.call('SMEMBERS', mkey)) do
  if redis.call('EXISTS', pkey(u)) == 1 or entries(u) > 0 then
    local meta = redis.call('HGET', pkey(u), 'metadata') or '{}'
    local c = redis.call('HMGET', kkey(u), 'x', 'y', 'timestamp')
    table.insert(out, {u, meta, c[1] or '', c[2] or '', c[3] or ''})
  end
end
return out
