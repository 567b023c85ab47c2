// dept-market: the market regulation bureau's adapter. A sink that forwards canonical case
// events to the bureau's case system, and a processor that watches its promised time limit.
// Configuration example: ../README.md.
#include <memory>

#include <onewindow/sdk/Plugin.h>

#include "CaseForwarder.h"
#include "DeadlineWatch.h"

namespace {

namespace sdk = onewindow::sdk;

void registerComponents(sdk::Registry& r) {
    r.sink({sdk::ComponentKind::Sink, "case-forwarder", dept_market::CaseForwarder::spec()},
           [](sdk::Services& s) { return std::make_unique<dept_market::CaseForwarder>(s); });
    r.processor(
        {sdk::ComponentKind::Processor, "deadline-watch", dept_market::DeadlineWatch::spec()},
        [](sdk::Services& s) { return std::make_unique<dept_market::DeadlineWatch>(s); });
}

} // namespace

ONEWINDOW_PLUGIN("dept-market", "0.1.0",
                 "Market regulation bureau: case forwarding and promised-limit alerts",
                 registerComponents)
