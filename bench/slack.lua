-- wrk script: replay pre-signed Slack requests, each once, and count the answers.
--
-- Slack signs `v0:<timestamp>:<body>`, so requests cannot be signed here without an HMAC in
-- Lua: the benchmark signs a fresh set just before each run and writes one request per line,
-- `<timestamp>\t<signature>\t<body>` (bodies are form-encoded or JSON, so they hold no tab
-- or newline). Each wrk thread takes every n-th line. If a run outlasts its requests they
-- are sent again and counted as `repeats`, which the benchmark reports.
--
-- Environment: BENCH_BODIES (the file), BENCH_CONTENT_TYPE, BENCH_PATH (default
-- /slack/events), BENCH_EXPECT (a 200 whose body lacks this text is a wrong answer; empty:
-- any 200 is right), BENCH_THREADS (wrk's -t), BENCH_TARGETS (optional: `host:port,host:port`,
-- servers sharing the load: thread n sends to the n-th, round robin, instead of wrk's URL;
-- wrk gives each thread connections/threads connections, and `done` sees every thread's
-- latencies, so the percentiles are those of all requests together).
--
-- `done` prints one line, `BENCH_RESULT {json}`, that the benchmark parses.

local threads = {}
local created = 0

local targets = {}
for target in string.gmatch(os.getenv("BENCH_TARGETS") or "", "[^,]+") do
  local host, port = target:match("^(.*):(%d+)$")
  targets[#targets + 1] = wrk.lookup(host, port)[1]
end

function setup(thread)
  created = created + 1
  thread:set("index", created)
  if #targets > 0 then
    thread.addr = targets[(created - 1) % #targets + 1]
  end
  table.insert(threads, thread)
end

local requests_ = {}
local next_ = 1
local expect = ""

function init(args)
  local path = os.getenv("BENCH_PATH") or "/slack/events"
  local content_type = os.getenv("BENCH_CONTENT_TYPE")
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  expect = os.getenv("BENCH_EXPECT") or ""
  local line_no = 0
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    if (line_no % nthreads) + 1 == index then
      local ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      requests_[#requests_ + 1] = wrk.format("POST", path, {
        ["Content-Type"] = content_type,
        ["User-Agent"] = "Slackbot 1.0 (+https://api.slack.com/robots)",
        ["X-Slack-Request-Timestamp"] = ts,
        ["X-Slack-Signature"] = sig,
      }, body)
    end
    line_no = line_no + 1
  end
  ok, wrong, repeats = 0, 0, 0
end

function request()
  if next_ > #requests_ then
    next_ = 1
    repeats = repeats + 1
  end
  local r = requests_[next_]
  next_ = next_ + 1
  return r
end

function response(status, headers, body)
  if status ~= 200 then
    return -- wrk counts it in errors.status
  end
  if expect ~= "" and (body == nil or not string.find(body, expect, 1, true)) then
    wrong = wrong + 1
  else
    ok = ok + 1
  end
end

function done(summary, latency, requests)
  local ok_, wrong_, repeats_ = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok_ = ok_ + thread:get("ok")
    wrong_ = wrong_ + thread:get("wrong")
    repeats_ = repeats_ + thread:get("repeats")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_s": %.6f, "ok": %d, "wrong": %d, ' ..
    '"repeats": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, ok_, wrong_, repeats_,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3))
end
