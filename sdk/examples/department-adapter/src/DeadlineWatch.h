// The processor: watches the bureau's promised time limit. An accepted case starts a timer;
// a concluded, withdrawn or terminated case stops it; a timer that falls due raises a
// supervision alert event for the e-supervision system.
#pragma once

#include <cstdint>
#include <string>

#include <onewindow/sdk/Components.h>

namespace dept_market {

class DeadlineWatch final : public onewindow::sdk::Processor {
public:
    static constexpr const char* FieldLimitHours = "limit_hours";
    static constexpr std::int64_t DefaultLimitHours = 120; // five days, the bureau's promise
    static constexpr const char* AlertType = "gov.supervision.alert"; // the center's catalog

    static onewindow::sdk::ConfigSpec spec();
    explicit DeadlineWatch(onewindow::sdk::Services& services);

    onewindow::sdk::Result process(const onewindow::sdk::Event& event,
                                   onewindow::sdk::ProcessContext& ctx) override;
    onewindow::sdk::Result onTimer(const std::string& caseNo, const std::string& itemCode,
                                   onewindow::sdk::ProcessContext& ctx) override;

private:
    onewindow::sdk::Services& services_;
    std::int64_t limitMs_;
};

} // namespace dept_market
