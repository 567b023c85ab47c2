// Sends each case's exchange objects in the order e-supervision requires: nothing of a case
// before its basic information (申办 / 预受理 / 受理), so a department's step that reaches the hub
// before the window's acceptance is held (in the processor's durable state) and sent right
// after it. Corrections (a higher data_version of a fact already sent) are sent again with
// the higher VERSION; repeats are not. Each object leaves as a gov.supervision.exchange event
// (subject = case number, `sptype` extension, data = the wire object) that ordinary outputs
// deliver over HTTP (binary mode: the body is the object) or MQTT, in order per case.
#pragma once

#include <string>

#include <onewindow/sdk/Components.h>

#include "adapters/e-supervision/exchange/ExchangeObjects.h"

namespace ow::adapters::esupervision {

struct OrderSettings {
    MappingSettings mapping;
    std::string source = "onewindow://e-supervision"; ///< of the exchange events
    int maxHeldPerCase = 100; ///< objects held for one case waiting for its basic information
};

class ExchangeOrder {
public:
    explicit ExchangeOrder(OrderSettings s) : s_(std::move(s)) {}

    /// A gov.case.* / gov.supervision.alert* event (or the fee book's gov.fee.paid shares,
    /// which give 办结 its fee amount). Reject when it cannot be mapped, or when a case holds
    /// more than maxHeldPerCase objects without basic information.
    onewindow::sdk::Result process(const onewindow::sdk::Event& e,
                                   onewindow::sdk::ProcessContext& ctx);

    static std::string caseKey(const std::string& caseNo) { return "case/" + caseNo; }

private:
    void emit(const ExchangeObject& o, onewindow::sdk::ProcessContext& ctx) const;

    OrderSettings s_;
};

} // namespace ow::adapters::esupervision
