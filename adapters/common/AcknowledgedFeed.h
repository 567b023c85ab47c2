// A department feed that keeps every record until it is acknowledged (工商局's updates, EMS's
// tracking records): read a page, journal it, and only then acknowledge up to its last
// sequence number. A crash in between reads the page again; the records' ids (their sequence
// numbers) make the repeats duplicates. The source's run() is this loop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/Components.h>

namespace ow::adapters {

struct FeedPage {
    bool ok = false;        ///< false: the system could not be read (why says so)
    nlohmann::json records; ///< a JSON array
    std::string why;
};

struct AcknowledgedFeed {
    std::function<FeedPage()> read;
    const char* seqField = "seq"; ///< the record's integer sequence number
    /// The event for a record (id, type, source, data); its sequence number is given.
    std::function<onewindow::sdk::Event(const nlohmann::json& record, long long seq)> toEvent;
    /// Acknowledges every record up to `last`; false when the system did not take it.
    std::function<bool(long long last)> acknowledge;
    std::int64_t pollMs = 1000;

    /// Runs until ctx.stopping(), waiting pollMs when there is nothing new or after a failure.
    void run(onewindow::sdk::SourceContext& ctx, onewindow::sdk::Logger& log) const {
        while (!ctx.stopping()) {
            const FeedPage page = read();
            if (!page.ok || !page.records.is_array()) {
                log.log(onewindow::sdk::LogLevel::Warn, "cannot read the department's feed",
                        {{"reason", page.ok ? "the records are not a list" : page.why}});
                ctx.waitFor(pollMs);
                continue;
            }
            std::vector<onewindow::sdk::Event> events;
            long long last = 0;
            for (const auto& r : page.records) {
                // A record without its number cannot be acknowledged or told apart: skipped.
                if (!r.is_object() || !r.contains(seqField) || !r[seqField].is_number_integer())
                    continue;
                const long long seq = r[seqField].get<long long>();
                last = std::max(last, seq);
                events.push_back(toEvent(r, seq));
            }
            if (events.empty() || !ctx.emit(events) || !acknowledge(last)) ctx.waitFor(pollMs);
        }
    }
};

} // namespace ow::adapters
