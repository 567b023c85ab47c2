// The intranet platform's submissions checked against the center's catalog before they go on
// to the departments (README "Intake"): the case number in the center's form, the item in the
// catalog, the department the item's, the fields an acceptance must carry. One check, two
// uses: the `intake` gate passes a good submission on as a "checked" event and refuses a bad
// one into the dead-letter queue; the `refusals` notice tells the platform why. They are two
// components because a processor's Reject discards what it emitted.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <onewindow/sdk/Components.h>

#include "adapters/intranet-platform/platform/Names.h"
#include "plugins/cases/catalog/Catalog.h"

namespace ow::adapters::platform {

struct IntakeSettings {
    std::string regionCode = "350581"; ///< the first six digits of every case number
};

/// What the check found about one submission.
struct Finding {
    bool ownEvent = false;            ///< this adapter's own event routed back: left alone
    std::string caseNo;               ///< as given, "" if none
    std::vector<std::string> reasons; ///< empty: good
    onewindow::sdk::Event checked;    ///< good: the event to pass on
    std::string factKey;              ///< good application facts: the state key of the fact
    int dataVersion = 1;
};

class Intake {
public:
    Intake(const cases::Catalog& catalog, IntakeSettings settings);

    [[nodiscard]] Finding check(const onewindow::sdk::Event& e) const;

    /// The gate: a good submission is emitted as `checked` (once per application fact and
    /// data_version; a repeat is left out), a bad one rejected with every reason.
    onewindow::sdk::Result gate(const onewindow::sdk::Event& e, onewindow::sdk::ProcessContext& ctx,
                                bool& repeat) const;

    /// The notice: for submission `e` that check() found bad (`f`), the
    /// gov.case.submission_refused event for the platform; nullopt for a good one, and for one
    /// without a case number fit to address.
    [[nodiscard]] static std::optional<onewindow::sdk::Event> notice(const onewindow::sdk::Event& e,
                                                                     const Finding& f);

private:
    const cases::Catalog& catalog_;
    IntakeSettings s_;
};

/// Is `caseNo` <regionCode><yyyyMMdd, a real date><6-digit serial>?
bool wellFormedCaseNo(const std::string& caseNo, const std::string& regionCode);

/// `value` quoted for a message: JSON string escapes (control characters shown, bytes that
/// are not UTF-8 replaced), cut after 64 bytes at a character boundary.
std::string quote(const std::string& value);

} // namespace ow::adapters::platform
