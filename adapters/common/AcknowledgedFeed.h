// A department feed that keeps every record until it is acknowledged (工商局's updates, EMS's
// tracking records): read a page, journal it, and only then acknowledge up to its last
// sequence number. A crash in between reads the page again; the records' ids (their sequence
// numbers) make the repeats duplicates. The source's run() is this loop. While the system
// cannot be read the loop tells the hub (ctx.unavailable(), which backs off and logs) instead
// of logging each failed poll itself; nothing in it throws.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/Components.h>

namespace ow::adapters {

struct FeedPage {
    bool ok = false;                          ///< false: the system could not be read (why says so)
    nlohmann::json records;                   ///< a JSON array
    std::string why;                          ///< names the system and what happened
    std::optional<std::int64_t> retryAfterMs; ///< what the system asked for, if anything

    static FeedPage down(std::string why, std::optional<std::int64_t> retryAfterMs = {}) {
        return {false, nlohmann::json(), std::move(why), retryAfterMs};
    }
};

struct AcknowledgedFeed {
    std::string system; ///< as the operator knows it ("EMS", "工商局"), for messages
    std::function<FeedPage()> read;
    const char* seqField = "seq"; ///< the record's integer sequence number
    /// The event for a record (id, type, source, data); its sequence number is given.
    std::function<onewindow::sdk::Event(const nlohmann::json& record, long long seq)> toEvent;
    /// Acknowledges every record up to `last`: "" when the system took it, else why not.
    std::function<std::string(long long last)> acknowledge;
    std::int64_t pollMs = 1000;

    /// Runs until ctx.stopping(), waiting pollMs when there is nothing new.
    void run(onewindow::sdk::SourceContext& ctx) const {
        while (!ctx.stopping()) {
            try {
                poll(ctx);
            } catch (const std::exception&) {
                // A bug of ours (a record that cannot be serialized, say), not the system's
                // words: the operator gets a sentence, and the page is read again later.
                ctx.unavailable(system + "'s records could not be made into events");
            }
        }
    }

private:
    void poll(onewindow::sdk::SourceContext& ctx) const {
        const FeedPage page = read();
        if (!page.ok) {
            ctx.unavailable(page.why, page.retryAfterMs);
            return;
        }
        if (!page.records.is_array()) {
            ctx.unavailable(system + " answered, but its records are not a list");
            return;
        }
        ctx.available();
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
        if (events.empty() || !ctx.emit(events)) {
            ctx.waitFor(pollMs);
            return;
        }
        // Journaled: what is not acknowledged comes again and is a duplicate.
        if (const std::string refused = acknowledge(last); !refused.empty())
            ctx.unavailable(refused);
    }
};

} // namespace ow::adapters
