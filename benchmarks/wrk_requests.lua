-- wrk request generator for benchmarks/http_load.py: KIND and TARGET come from the
-- environment; each request of a "register" run carries a fresh email address.
local kind = os.getenv("BENCH_KIND") or "ping"
local target = os.getenv("BENCH_TARGET") or ""
-- A Cookie header for every request (a signed-in organiser), when given.
local cookie = os.getenv("BENCH_COOKIE") or ""
if cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
-- A language to register in and to be answered in, when given.
local language = os.getenv("BENCH_LANGUAGE") or ""
if language ~= "" then
  wrk.headers["Accept-Language"] = language
end
local language_field = language ~= "" and string.format(', "language": "%s"', language) or ""
local threads = 0
local counter = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function request()
  counter = counter + 1
  if kind == "ping" then
    return wrk.format("GET", "/bench/ping")
  elseif kind == "insert" then
    return wrk.format("POST", "/bench/insert", {["Content-Type"] = "application/json"},
      string.format('{"name": "row %d-%d"}', thread_id, counter))
  elseif kind == "register" then
    local body = string.format(
      '{"name": "Procurer %d", "email": "p%d-%d@example.org", "organisation_name": "City of Example", ' ..
      '"organisation_kind": "public_authority", "country": "BE", "job_title": "Procurement officer", ' ..
      '"consent": true%s}', counter, thread_id, counter, language_field)
    return wrk.format("POST", "/api/events/" .. target .. "/registrations",
      {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", target)
end
