-- bench/login.lua: wrk script for the login benchmark (bench/run.sh login).
--
--   ANFU_LOGIN_BODIES=FILE wrk -t2 -c8 -d20s -s bench/login.lua https://127.0.0.1:PORT
--
-- Sends POST /api/v1/auth/login with the JSON bodies of FILE (one per line,
-- written by bench/login_users.py), rotating over them; each wrk thread
-- starts at a different user. Headers are those of the device that
-- login_users.py trusted, with that user's trusted-device secret in
-- X-Device-Token (the line's text after a TAB), so a login is a returning
-- customer's: one Argon2id verification, then a session in state "active". No cookies are kept: every
-- request is a fresh password login. done() prints the status codes and
-- session states it saw, one "key=value" line for bench/run.sh.

local bodies = {}
local tokens = {}
local threads = {}
local counter = 1

local headers = {
	["Content-Type"] = "application/json",
	["X-Device-Id"] = os.getenv("ANFU_LOGIN_DEVICE") or "bench-device",
	["User-Agent"] = os.getenv("ANFU_LOGIN_UA") or "anfu-bench/1.0",
}

function setup(thread)
	thread:set("id", counter)
	table.insert(threads, thread)
	counter = counter + 1
end

function init(args)
	local path = os.getenv("ANFU_LOGIN_BODIES")
	local f = path and io.open(path, "r")
	if not f then
		error("login.lua: set ANFU_LOGIN_BODIES to the file of login bodies")
	end
	for line in f:lines() do
		if #line > 0 then
			local body, token = line:match("^([^\t]*)\t?(.*)$")
			table.insert(bodies, body)
			table.insert(tokens, token)
		end
	end
	f:close()
	if #bodies == 0 then
		error("login.lua: no login bodies in " .. path)
	end
	-- Threads start apart so they rarely log the same user in at once.
	nxt = ((id - 1) * math.floor(#bodies / 2)) % #bodies
	ok, other, active, mfa, ra, unknown = 0, 0, 0, 0, 0, 0
	statuses = {}
end

function request()
	nxt = nxt % #bodies + 1
	headers["X-Device-Token"] = tokens[nxt] ~= "" and tokens[nxt] or nil
	return wrk.format("POST", "/api/v1/auth/login", headers, bodies[nxt])
end

function response(status, hdrs, body)
	if status == 200 then
		ok = ok + 1
		if body:find('"state":%s*"active"') then
			active = active + 1
		elseif body:find('"state":%s*"mfa_required"') then
			mfa = mfa + 1
		elseif body:find('"state":%s*"required_actions"') then
			ra = ra + 1
		else
			unknown = unknown + 1
		end
	else
		other = other + 1
		statuses[status] = (statuses[status] or 0) + 1
	end
end

function done(summary, latency, requests)
	local t = { ok = 0, other = 0, active = 0, mfa = 0, ra = 0, unknown = 0 }
	local st = {}
	for _, thread in ipairs(threads) do
		for k, _ in pairs(t) do
			t[k] = t[k] + (thread:get(k) or 0)
		end
		for code, n in pairs(thread:get("statuses") or {}) do
			st[code] = (st[code] or 0) + n
		end
	end
	local codes = {}
	for code, n in pairs(st) do
		table.insert(codes, code .. ":" .. n)
	end
	table.sort(codes)
	io.write(string.format("login_200=%d login_other=%d state_active=%d " ..
		"state_mfa_required=%d state_required_actions=%d state_unknown=%d " ..
		"other_statuses=%s\n", t.ok, t.other, t.active, t.mfa, t.ra, t.unknown,
		#codes > 0 and table.concat(codes, ",") or "none"))
end
