package chatredis

import "github.com/redis/rueidis"

// The presence state in Redis, under a prefix P (ARGV[1] of every script):
//
//	P..'nodes'        sorted set: server id → its lease's expiry (ms, Redis's own clock)
//	P..'node:'..id    hash: user id → user name, the users with a socket on that server
//	P..'users'        hash: user id → on how many servers the user has a socket
//	P..'version'      counter, incremented whenever the number of distinct users changes
//	P..'epoch'        set once, by the first script to find it missing, to a value never used
//	                  before: a counter restarted from zero (Redis lost its data) is told apart
//	                  from the old one
//
// Each change is one script, so that it is atomic: two servers reaping the same dead server
// never subtract its users twice, and a user's first and last socket in the cluster are seen by
// exactly one server. Every script ends with the state: {epoch, version, distinct users}.

// luaState is appended to every script: it reads the state the script returns.
const luaState = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function state(P, epoch)
  local e = redis.call('GET', P .. 'epoch')
  if not e then
    -- Unique even if this server proposed an epoch before: Redis's clock has moved on since.
    local t = redis.call('TIME')
    e = epoch .. '-' .. t[1] .. '.' .. t[2]
    redis.call('SET', P .. 'epoch', e)
  end
  return {e, tonumber(redis.call('GET', P .. 'version') or '0'), redis.call('HLEN', P .. 'users')}
end
local function drop_node(P, node, left)
  local h = redis.call('HGETALL', P .. 'node:' .. node)
  for i = 1, #h, 2 do
    if redis.call('HINCRBY', P .. 'users', h[i], -1) <= 0 then
      redis.call('HDEL', P .. 'users', h[i])
      if left then
        table.insert(left, h[i])
        table.insert(left, h[i + 1])
      end
    end
  end
  redis.call('DEL', P .. 'node:' .. node)
  redis.call('ZREM', P .. 'nodes', node)
end
`

// connectScript: ARGV P, epoch, node, user id, user name. Returns {first, state} where first is
// 1 when this is the user's first server, 0 if not, -1 when the node holds no lease (it was
// reaped, or Redis lost its data): the caller must register again first.
var connectScript = rueidis.NewLuaScript(luaState + `
local P, epoch, node, user, name = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if not redis.call('ZSCORE', P .. 'nodes', node) then
  return {-1, state(P, epoch)}
end
local first = 0
if redis.call('HSETNX', P .. 'node:' .. node, user, name) == 1 then
  if redis.call('HINCRBY', P .. 'users', user, 1) == 1 then
    first = 1
    redis.call('INCR', P .. 'version')
  end
end
return {first, state(P, epoch)}
`)

// disconnectScript: ARGV P, epoch, node, user id. Returns {last, state}: last is 1 when that was
// the user's last server. A node that holds no lease returns 0: whoever reaped it has announced
// its users already.
var disconnectScript = rueidis.NewLuaScript(luaState + `
local P, epoch, node, user = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local last = 0
if redis.call('HDEL', P .. 'node:' .. node, user) == 1 then
  if redis.call('HINCRBY', P .. 'users', user, -1) <= 0 then
    redis.call('HDEL', P .. 'users', user)
    last = 1
    redis.call('INCR', P .. 'version')
  end
end
return {last, state(P, epoch)}
`)

// renewScript: ARGV P, epoch, node, lease ms. Extends the node's lease if it holds one and
// returns {held, state}; held is 0 when the node must register again.
var renewScript = rueidis.NewLuaScript(luaState + `
local P, epoch, node, lease = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if not redis.call('ZSCORE', P .. 'nodes', node) then
  return {0, state(P, epoch)}
end
redis.call('ZADD', P .. 'nodes', now_ms() + lease, node)
return {1, state(P, epoch)}
`)

// registerScript: ARGV P, epoch, node, lease ms, then user id and name pairs. Replaces whatever
// Redis holds for the node by the given users and takes a lease. Returns {1, state}.
var registerScript = rueidis.NewLuaScript(luaState + `
local P, epoch, node, lease = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
drop_node(P, node, nil)
for i = 5, #ARGV, 2 do
  redis.call('HSET', P .. 'node:' .. node, ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', P .. 'users', ARGV[i], 1)
end
redis.call('ZADD', P .. 'nodes', now_ms() + lease, node)
redis.call('INCR', P .. 'version')
return {1, state(P, epoch)}
`)

// reapScript: ARGV P, epoch. Takes every node whose lease expired out of the count and returns
// {left, state}, left the id and name pairs of the users who had no other server.
var reapScript = rueidis.NewLuaScript(luaState + `
local P, epoch = ARGV[1], ARGV[2]
local left = {}
local dead = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', now_ms())
for _, node in ipairs(dead) do
  drop_node(P, node, left)
end
if #dead > 0 then
  redis.call('INCR', P .. 'version')
end
return {left, state(P, epoch)}
`)

// leaveScript: ARGV P, epoch, node. Takes the node out (it is shutting down). Returns {1, state}.
var leaveScript = rueidis.NewLuaScript(luaState + `
local P, epoch, node = ARGV[1], ARGV[2], ARGV[3]
drop_node(P, node, nil)
redis.call('INCR', P .. 'version')
return {1, state(P, epoch)}
`)

// stateScript: ARGV P, epoch. Returns {1, state}.
var stateScript = rueidis.NewLuaScript(luaState + `
return {1, state(ARGV[1], ARGV[2])}
`)
