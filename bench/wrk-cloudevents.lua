-- wrk script for the benchmarks: every request is a structured CloudEvent with an id of its
-- own (prefix, wrk thread, counter), so a durable hub journals each one instead of answering
-- "duplicate"; the body is about 256 bytes, like ow-loadgen --body-bytes 256.
--   wrk -t2 -c32 -d10s -s bench/wrk-cloudevents.lua URL -- PREFIX
-- At the end it prints one JSON line with the totals and the latency percentiles.
local threads = {}

function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    prefix = (args[1] or "wrk") .. "-" .. tid .. "-"
    counter = 0
    pad = string.rep("x", 150)
end

function request()
    counter = counter + 1
    local body = '{"specversion":"1.0","id":"' .. prefix .. counter ..
        '","source":"/bench/wrk","type":"bench.event","subject":"s' .. (counter % 64) ..
        '","datacontenttype":"application/json","data":{"pad":"' .. pad .. '"}}'
    return wrk.format("POST", nil, { ["Content-Type"] = "application/cloudevents+json" }, body)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '{"requests":%d,"non2xx":%d,"socket_errors":%d,"duration_s":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}\n',
        summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
