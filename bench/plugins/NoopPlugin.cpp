// The cheapest possible processor: it reads nothing, writes nothing and emits nothing, so a
// route through it measures what the plugin boundary itself costs (bench/processor-overhead.sh).
#include <onewindow/sdk/Plugin.h>

namespace sdk = onewindow::sdk;

namespace {

class Noop final : public sdk::Processor {
public:
    sdk::Result process(const sdk::Event&, sdk::ProcessContext&) override {
        return sdk::Result::ok();
    }
};

void registerComponents(sdk::Registry& r) {
    r.processor({sdk::ComponentKind::Processor, "noop",
                 sdk::ConfigSpec("Does nothing; for measuring the plugin boundary.")},
                [](sdk::Services&) { return std::make_unique<Noop>(); });
}

} // namespace

ONEWINDOW_PLUGIN("bench-noop", "1.0.0", "A processor that does nothing (benchmarks)",
                 registerComponents)
