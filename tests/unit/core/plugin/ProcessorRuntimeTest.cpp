// The processor runtime's generation rule, driven call by call: a commit refused while a call
// is under way must take that call's commit down with it, because the call may have read the
// refused commit's writes from the overlay.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/plugin/ProcessorRuntime.h"
#include "core/store/Journal.h"
#include "tests/support/TempDir.h"
#include "tests/support/Wait.h"

using namespace ow;
namespace sdk = onewindow::sdk;
using namespace std::chrono_literals;

namespace {

// Counts events; the call for an event of type "test.slow" waits, after reading the count,
// until the test lets it go on.
class GatedCounter final : public sdk::Processor {
public:
    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        const long n = std::stol(ctx.get("count").value_or("0"));
        if (e.type == "test.slow") {
            std::unique_lock lock(mu);
            readDone = true;
            cv.notify_all();
            cv.wait(lock, [&] { return go; });
        }
        ctx.put("count", std::to_string(n + 1));
        return sdk::Result::ok();
    }
    std::mutex mu;
    std::condition_variable cv;
    bool readDone = false, go = false;
};

store::OutboxRow row(std::int64_t id, const std::string& type) {
    store::OutboxRow r;
    r.id = id;
    r.eventSeq = id;
    r.output = "ledger";
    r.body =
        std::make_shared<const std::string>(R"({"specversion":"1.0","id":"e)" + std::to_string(id) +
                                            R"(","source":"/t","type":")" + type + R"("})");
    return r;
}

// A runtime over a real journal's state tables, with a committer that holds the commits
// until the test answers them.
struct GatedRuntime {
    testkit::TempDir dir;
    store::Journal journal{dir.path(), "full"};
    observability::Metrics metrics;
    util::SystemClock clock;
    std::shared_ptr<GatedCounter> processor = std::make_shared<GatedCounter>();
    std::shared_ptr<plugin::ProcessorRuntime> rt;
    std::mutex mu;
    std::vector<std::pair<pipeline::ProcessorCommit, pipeline::CommitCallback>> held;

    GatedRuntime() {
        plugin::ProcessorRuntime::Settings settings;
        settings.plugin = "test";
        settings.component = "counter";
        settings.output = "ledger";
        settings.journalFile = store::Journal::fileName(dir.path());
        rt = std::make_shared<plugin::ProcessorRuntime>(
            settings,
            std::make_unique<plugin::HostServices>("test", "ledger", sdk::Config{}, metrics, clock),
            processor, metrics, clock);
        rt->setCommitter([this](pipeline::ProcessorCommit c, pipeline::CommitCallback done) {
            std::lock_guard lock(mu);
            held.emplace_back(std::move(c), std::move(done));
        });
    }
    std::size_t heldCount() {
        std::lock_guard lock(mu);
        return held.size();
    }
    void handle(std::int64_t id, const std::string& type) {
        rt->handle(row(id, type), [](delivery::DeliveryResult) {});
    }

    /// Event 1 commits count 1 (held); event 2 reads it from the overlay and waits; the
    /// writer then refuses the first commit, ending the generation; event 2 goes on and
    /// submits count 2.
    void refuseDuringACall() {
        handle(1, "test.fast");
        REQUIRE(testkit::waitUntil([&] { return heldCount() == 1; }, 10s));
        handle(2, "test.slow");
        REQUIRE(testkit::waitUntil(
            [&] {
                std::lock_guard lock(processor->mu);
                return processor->readDone;
            },
            10s));
        {
            std::lock_guard lock(mu);
            held[0].second(pipeline::CommitOutcome::AlreadyHandled, "");
        }
        {
            std::lock_guard lock(processor->mu);
            processor->go = true;
        }
        processor->cv.notify_all();
        REQUIRE(testkit::waitUntil([&] { return heldCount() == 2; }, 10s));
    }
};

} // namespace

TEST_CASE("ProcessorRuntime: a commit refused during a call refuses that call's commit too",
          "[plugin][processor]") {
    GatedRuntime g;
    g.refuseDuringACall();
    std::lock_guard lock(g.mu);
    // The second commit wrote count 2 on the refused commit's count 1: it belongs to the
    // refused generation, so the writer refuses it as well and the event is handled again.
    CHECK(g.held[1].first.state.at("count") == std::optional<std::string>("2"));
    CHECK(g.held[1].first.generation == g.held[0].first.generation);
    g.held[1].second(pipeline::CommitOutcome::Failed, "refused with its generation");
    g.rt->stop();
}

TEST_CASE("ProcessorRuntime: the writes of a call that outlived its generation are not read",
          "[plugin][processor]") {
    GatedRuntime g;
    g.refuseDuringACall(); // event 2's count 2 is of a generation that has ended
    // The next call reads the journal (no count yet), not the stale call's count 2.
    g.handle(3, "test.fast");
    REQUIRE(testkit::waitUntil([&] { return g.heldCount() == 3; }, 10s));
    std::lock_guard lock(g.mu);
    CHECK(g.held[2].first.state.at("count") == std::optional<std::string>("1"));
    CHECK(g.held[2].first.generation > g.held[1].first.generation);
    g.held[1].second(pipeline::CommitOutcome::Failed, "refused with its generation");
    g.held[2].second(pipeline::CommitOutcome::Committed, "");
    g.rt->stop();
}
