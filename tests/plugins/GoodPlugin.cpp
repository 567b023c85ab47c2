// A well-formed plugin: a counting processor with durable state, and a sink that rejects
// events whose type says so and throws on others that ask for it (for boundary tests).
#include <onewindow/sdk/Plugin.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace sdk = onewindow::sdk;

// Built twice: as 1.0.0, and as 2.0.0 for the reload test (which swaps one for the other).
#ifndef OW_TEST_PLUGIN_VERSION
#define OW_TEST_PLUGIN_VERSION "1.0.0"
#endif

namespace {

// Counts the events it sees, exactly once if the hub keeps its promise: each event's id is
// remembered in state, and one seen twice counts as a duplicate ("dups") instead. Optionally
// emits one event per event (`emit_type`) and sets a timer per event (`timer_ms`) whose
// firing is counted ("timers") and emitted too. The first time it sees a test.hang event it
// hangs for `hang_ms` before counting it, as a processor blocked on a slow lookup would.
class CountingProcessor final : public sdk::Processor {
public:
    explicit CountingProcessor(sdk::Services& s)
        : key_(s.config.get<std::string>("key", "count")),
          emitType_(s.config.get<std::string>("emit_type", "")),
          timerMs_(s.config.get<std::int64_t>("timer_ms", 0)),
          hangMs_(s.config.get<std::int64_t>("hang_ms", 0)), clock_(s.clock) {}
    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        if (e.type == "test.throw") throw std::runtime_error("processor asked to throw");
        if (e.type == "test.reject") return sdk::Result::reject("type test.reject is refused");
        if (e.type == "test.invalid-emit") {
            sdk::Event bad; // no type: the hub must refuse it, and everything of this call
            bad.subject = e.subject;
            ctx.emit(bad);
            ctx.put(key_, "corrupted");
            return sdk::Result::ok();
        }
        const std::string seen = "seen/" + e.source + "/" + e.id;
        if (ctx.get(seen)) {
            bump(ctx, "dups");
            return sdk::Result::ok();
        }
        if (e.type == "test.hang") std::this_thread::sleep_for(std::chrono::milliseconds(hangMs_));
        ctx.put(seen, "1");
        long n = bump(ctx, key_);
        if (!emitType_.empty()) {
            sdk::Event out;
            out.type = emitType_;
            out.subject = e.subject;
            out.extensions["pluginversion"] = OW_TEST_PLUGIN_VERSION;
            out.data = "{\"of\":\"" + e.id + "\",\"count\":" + std::to_string(n) + "}";
            ctx.emit(out);
        }
        if (timerMs_ > 0) ctx.setTimer("t-" + e.id, clock_.nowMs() + timerMs_, e.subject);
        return sdk::Result::ok();
    }
    sdk::Result onTimer(const std::string& name, const std::string& payload,
                        sdk::ProcessContext& ctx) override {
        bump(ctx, "timers");
        if (!emitType_.empty()) {
            sdk::Event out;
            out.type = emitType_ + ".timer";
            out.subject = payload;
            out.data = "{\"timer\":\"" + name + "\"}";
            ctx.emit(out);
        }
        return sdk::Result::ok();
    }

private:
    static long bump(sdk::ProcessContext& ctx, const std::string& key) {
        long n = std::stol(ctx.get(key).value_or("0")) + 1;
        ctx.put(key, std::to_string(n));
        return n;
    }
    std::string key_, emitType_;
    std::int64_t timerMs_, hangMs_;
    sdk::Clock& clock_;
};

class PickySink final : public sdk::Sink {
public:
    sdk::Result deliver(const sdk::Event& e) override {
        if (e.type == "test.reject") return sdk::Result::reject("type test.reject is refused");
        if (e.type == "test.throw") throw std::runtime_error("sink asked to throw");
        return sdk::Result::ok();
    }
};

// Hangs on test.hang events (as a department system that never answers would make a naive
// sink hang), for `hang_ms`; everything else is delivered at once.
class SleepySink final : public sdk::Sink {
public:
    explicit SleepySink(sdk::Services& s) : hangMs_(s.config.get<std::int64_t>("hang_ms", 30000)) {}
    sdk::Result deliver(const sdk::Event& e) override {
        if (e.type == "test.hang") std::this_thread::sleep_for(std::chrono::milliseconds(hangMs_));
        return sdk::Result::ok();
    }

private:
    std::int64_t hangMs_;
};

// Emits `count` events, one batch of one at a time, then idles until the hub stops it; with
// fail_first_run, its first run() throws (the hub must run it again after a backoff).
class Ticker final : public sdk::Source {
public:
    explicit Ticker(sdk::Services& s)
        : count_(s.config.get<std::int64_t>("count", 10)),
          prefix_(s.config.get<std::string>("prefix", "tick")),
          failFirst_(s.config.get<bool>("fail_first_run", false)) {}
    sdk::Result run(sdk::SourceContext& ctx) override {
        if (failFirst_ && !failed_) {
            failed_ = true;
            throw std::runtime_error("first run fails on purpose");
        }
        for (; next_ < count_ && !ctx.stopping(); ++next_) {
            sdk::Event e;
            e.id = prefix_ + "-" + std::to_string(next_);
            e.source = "/test/ticker";
            e.type = "test.tick";
            e.subject = "SS-" + std::to_string(next_);
            e.data = "{\"n\":" + std::to_string(next_) + "}";
            if (!ctx.emit({e})) return sdk::Result::retry("the hub did not store the event");
        }
        while (!ctx.stopping())
            ctx.waitFor(1000);
        return sdk::Result::ok();
    }

private:
    std::int64_t count_;
    std::string prefix_;
    bool failFirst_;
    bool failed_ = false;
    std::int64_t next_ = 0;
};

void registerComponents(sdk::Registry& r) {
    r.source({sdk::ComponentKind::Source, "ticker",
              sdk::ConfigSpec("Emits numbered test events.")
                  .field(sdk::Field::integer("count").defaultsTo(10).range(0, 1000000))
                  .field(sdk::Field::string("prefix").defaultsTo("tick"))
                  .field(sdk::Field::boolean("fail_first_run").defaultsTo(false))},
             [](sdk::Services& s) { return std::make_unique<Ticker>(s); });
    r.sink({sdk::ComponentKind::Sink, "sleepy",
            sdk::ConfigSpec("Hangs on test.hang events.")
                .field(sdk::Field::integer("hang_ms").defaultsTo(30000).range(0, 600000))},
           [](sdk::Services& s) { return std::make_unique<SleepySink>(s); });
    r.processor({sdk::ComponentKind::Processor, "counter",
                 sdk::ConfigSpec("Counts the events it sees in its durable state.")
                     .field(sdk::Field::string("key").defaultsTo("count").describe(
                         "State key the count is kept under"))
                     .field(sdk::Field::string("emit_type")
                                .defaultsTo("")
                                .describe("Emit one event of this type per event (empty: none)"))
                     .field(sdk::Field::integer("timer_ms")
                                .defaultsTo(0)
                                .range(0, 86400000)
                                .describe("Set a timer this far ahead per event (0: none)"))
                     .field(sdk::Field::integer("hang_ms").defaultsTo(0).range(0, 600000).describe(
                         "Hang this long on the first test.hang event"))
                     .field(sdk::Field::integer("limit")
                                .range(1, 1000000)
                                .describe("Largest count expected"))},
                [](sdk::Services& s) { return std::make_unique<CountingProcessor>(s); });
    r.sink({sdk::ComponentKind::Sink, "picky",
            sdk::ConfigSpec("Delivers everything except test.reject events.")
                .field(sdk::Field::oneOf("mode", {"strict", "lenient"}).defaultsTo("strict"))},
           [](sdk::Services&) { return std::make_unique<PickySink>(); });
}

} // namespace

ONEWINDOW_PLUGIN("test-good", OW_TEST_PLUGIN_VERSION, "A well-formed test plugin",
                 registerComponents)
