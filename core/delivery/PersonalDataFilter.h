// An output that gets personal data masked or dropped (`personal_data: mask|drop`): wraps the
// output's client and hands it each event with the declared personal fields masked or removed
// and recognised ID numbers and mobiles masked. The journal keeps the event as it came; only
// what leaves for this output changes.
#pragma once

#include <memory>

#include "core/delivery/OutputClient.h"
#include "core/privacy/PersonalData.h"

namespace ow::delivery {

class PersonalDataFilter final : public OutputClient {
public:
    PersonalDataFilter(std::unique_ptr<OutputClient> inner,
                       std::shared_ptr<const privacy::Masker> masker, privacy::Treatment t)
        : inner_(std::move(inner)), masker_(std::move(masker)), treatment_(t) {}

    DeliveryResult deliver(const store::OutboxRow& row) override {
        return inner_->deliver(filtered(row));
    }
    [[nodiscard]] bool asynchronous() const override { return inner_->asynchronous(); }
    void deliverAsync(const store::OutboxRow& row, DeliveryCompletion done) override {
        inner_->deliverAsync(filtered(row), std::move(done));
    }
    [[nodiscard]] bool startsFromCompletions() const override {
        return inner_->startsFromCompletions();
    }

private:
    [[nodiscard]] store::OutboxRow filtered(const store::OutboxRow& row) const {
        store::OutboxRow out = row;
        if (row.body)
            out.body =
                std::make_shared<const std::string>(masker_->applyToText(*row.body, treatment_));
        return out;
    }

    std::unique_ptr<OutputClient> inner_;
    std::shared_ptr<const privacy::Masker> masker_;
    privacy::Treatment treatment_;
};

} // namespace ow::delivery
