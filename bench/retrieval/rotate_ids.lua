-- wrk script: GET /metrics/{id}/values rotating over the ids in $IDS_FILE (one per line),
-- each thread starting at a different offset; prints one summary line like direct_reads.
local threads = {}

function setup(thread)
    thread:set("offset", #threads)
    table.insert(threads, thread)
end

function init(args)
    ids = {}
    for line in io.lines(os.getenv("IDS_FILE")) do
        ids[#ids + 1] = line
    end
    position = offset * 7919
end

function request()
    position = position + 1
    return wrk.format("GET", "/metrics/" .. ids[(position % #ids) + 1] .. "/values")
end

function done(summary, latency, requests)
    local e = summary.errors
    local errors = e.connect + e.read + e.write + e.status + e.timeout
    local seconds = summary.duration / 1e6
    io.write(string.format("service requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
