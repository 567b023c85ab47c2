// A well-formed plugin: a counting processor with durable state, and a sink that rejects
// events whose type says so and throws on others that ask for it (for boundary tests).
#include <onewindow/sdk/Plugin.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace sdk = onewindow::sdk;

namespace {

class CountingProcessor final : public sdk::Processor {
public:
    explicit CountingProcessor(sdk::Services& s)
        : key_(s.config.get<std::string>("key", "count")) {}
    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        if (e.type == "test.throw") throw std::runtime_error("processor asked to throw");
        long n = std::stol(ctx.get(key_).value_or("0"));
        ctx.put(key_, std::to_string(n + 1));
        return sdk::Result::ok();
    }

private:
    std::string key_;
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

ONEWINDOW_PLUGIN("test-good", "1.0.0", "A well-formed test plugin", registerComponents)
