package dev.flock.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Lua scripts behind every shared-presence decision. Each runs atomically in Redis, so a decision ("admit
 * the last free seat", "this was the user's last connection") is taken once for the whole cluster. They compute
 * key names from the ids (ARGV[1] is the room id as encoded for keys) and use Redis' own clock, so instances
 * with skewed clocks agree on expiry. Standalone Redis (or a primary with replicas); not Redis Cluster.
 *
 * <p>A user is alive while their connections set holds an unexpired entry, or while their presence hash exists
 * (an original Node instance writes no connections set).
 */
final class Scripts {

    /** A script's text and its SHA1, for EVALSHA with an EVAL fallback on NOSCRIPT. */
    record Script(String name, String text, String sha) {
    }

    private static final String PRELUDE = """
            local function enc(s)
              if string.find(s, '[:%%]') then
                s = string.gsub(s, '%%', '%%25')
                s = string.gsub(s, ':', '%%3A')
              end
              return s
            end
            local room = ARGV[1]
            local mkey = 'flock:room:' .. room .. ':members'
            local function pkey(u) return 'flock:presence:' .. room .. ':' .. enc(u) end
            local function ckey(u) return 'flock:conns:' .. room .. ':' .. enc(u) end
            local function kkey(u) return 'flock:cursor:' .. room .. ':' .. enc(u) end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local function alive(u)
              redis.call('ZREMRANGEBYSCORE', ckey(u), '-inf', now)
              return redis.call('ZCARD', ckey(u)) > 0 or redis.call('EXISTS', pkey(u)) == 1
            end
            local function drop(u)
              redis.call('SREM', mkey, u)
              redis.call('DEL', pkey(u), kkey(u), ckey(u))
            end
            """;

    /**
     * ARGV: room, user, connection, metadata JSON, ttl ms, limit (0 = none), mode (share|evict).
     * Returns {status, stored metadata or false, {pruned users}}; status joined|present|replaced|full.
     */
    static final Script ADMIT = script("admit", """
            local user, conn, meta = ARGV[2], ARGV[3], ARGV[4]
            local ttl, limit, mode = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
            local pruned = {}
            local function addConn()
              redis.call('ZADD', ckey(user), now + ttl, conn)
              redis.call('PEXPIRE', ckey(user), ttl)
              redis.call('PEXPIRE', pkey(user), ttl)
            end
            local function fresh()
              redis.call('DEL', ckey(user), kkey(user))
              redis.call('HSET', pkey(user), 'metadata', meta, 'joinedAt', tostring(now))
              addConn()
            end
            if redis.call('SISMEMBER', mkey, user) == 1 then
              if alive(user) then
                if mode == 'share' then
                  local stored = redis.call('HGET', pkey(user), 'metadata')
                  if not stored then
                    redis.call('HSET', pkey(user), 'metadata', meta, 'joinedAt', tostring(now))
                    stored = meta
                  end
                  addConn()
                  return {'present', stored, pruned}
                end
                fresh()
                return {'replaced', false, pruned}
              end
              drop(user)
              table.insert(pruned, user)
            end
            if limit > 0 then
              local count = 0
              for _, u in ipairs(redis.call('SMEMBERS', mkey)) do
                if alive(u) then
                  count = count + 1
                else
                  drop(u)
                  table.insert(pruned, u)
                end
              end
              if count >= limit then
                return {'full', false, pruned}
              end
            end
            redis.call('SADD', mkey, user)
            fresh()
            return {'joined', false, pruned}
            """);

    /** ARGV: room, user, connection. Returns 1 when that was the user's last live connection (the user left). */
    static final Script REMOVE = script("remove", """
            local user, conn = ARGV[2], ARGV[3]
            redis.call('ZREM', ckey(user), conn)
            if redis.call('SISMEMBER', mkey, user) == 0 then
              return 0
            end
            redis.call('ZREMRANGEBYSCORE', ckey(user), '-inf', now)
            if redis.call('ZCARD', ckey(user)) > 0 then
              return 0
            end
            drop(user)
            return 1
            """);

    /** ARGV: room, [user]. Removes members (or that one) that are no longer alive; returns them. */
    static final Script SWEEP = script("sweep", """
            local removed = {}
            local list
            if ARGV[2] then list = {ARGV[2]} else list = redis.call('SMEMBERS', mkey) end
            for _, u in ipairs(list) do
              if redis.call('SISMEMBER', mkey, u) == 1 and not alive(u) then
                drop(u)
                table.insert(removed, u)
              end
            end
            return removed
            """);

    /**
     * ARGV: room, ttl ms, rewrite (0|1), n, then n × (user, connection, metadata JSON), then cursor writes as
     * (user, x, y, timestamp) with x = '' for a removal. Without rewrite only existing connections are extended
     * (a connection dropped by another instance stays dropped). With rewrite, missing presence is re-created;
     * returns the users whose presence hash had to be re-created.
     */
    static final Script REFRESH = script("refresh", """
            local ttl, rewrite, n = tonumber(ARGV[2]), ARGV[3] == '1', tonumber(ARGV[4])
            local recreated = {}
            local i = 5
            for k = 1, n do
              local u, c, meta = ARGV[i], ARGV[i + 1], ARGV[i + 2]
              i = i + 3
              if rewrite then
                redis.call('SADD', mkey, u)
                if redis.call('EXISTS', pkey(u)) == 0 then
                  redis.call('HSET', pkey(u), 'metadata', meta, 'joinedAt', tostring(now))
                  table.insert(recreated, u)
                end
                redis.call('ZADD', ckey(u), now + ttl, c)
              else
                redis.call('ZADD', ckey(u), 'XX', now + ttl, c)
              end
              redis.call('PEXPIRE', ckey(u), ttl)
              redis.call('PEXPIRE', pkey(u), ttl)
              redis.call('PEXPIRE', kkey(u), ttl)
            end
            while i <= #ARGV do
              local u, x, y, ts = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
              i = i + 4
              if x == '' then
                redis.call('DEL', kkey(u))
              elseif redis.call('SISMEMBER', mkey, u) == 1 then
                redis.call('HSET', kkey(u), 'x', x, 'y', y, 'timestamp', ts)
                redis.call('PEXPIRE', kkey(u), ttl)
              end
            end
            return recreated
            """);

    /** ARGV: room. Returns {{user, metadata, x, y, timestamp}...} of live members ('' where no cursor). */
    static final Script SNAPSHOT = script("snapshot", """
            local out = {}
            for _, u in ipairs(redis.call('SMEMBERS', mkey)) do
              if redis.call('EXISTS', pkey(u)) == 1 or redis.call('ZCOUNT', ckey(u), '(' .. now, '+inf') > 0 then
                local meta = redis.call('HGET', pkey(u), 'metadata') or '{}'
                local c = redis.call('HMGET', kkey(u), 'x', 'y', 'timestamp')
                table.insert(out, {u, meta, c[1] or '', c[2] or '', c[3] or ''})
              end
            end
            return out
            """);

    /**
     * Compare-and-set of a user's metadata. ARGV: room, user, expected JSON, new JSON. Returns {1} when written,
     * {0, current} when another instance changed it first (the caller merges again), {2} when no presence exists.
     */
    static final Script MERGE = script("merge", """
            local user, expected, new = ARGV[2], ARGV[3], ARGV[4]
            local cur = redis.call('HGET', pkey(user), 'metadata')
            if not cur then
              return {2}
            end
            if cur ~= expected then
              return {0, cur}
            end
            redis.call('HSET', pkey(user), 'metadata', new)
            return {1}
            """);

    private Scripts() {
    }

    private static Script script(String name, String body) {
        String text = PRELUDE + body;
        try {
            byte[] sha = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
            return new Script(name, text, HexFormat.of().formatHex(sha));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
