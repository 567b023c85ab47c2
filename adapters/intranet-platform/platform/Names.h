// What this adapter's events are called and where they say they come from. Routes tell the
// adapter's events from the platform's by their source, so none of them loops back into the
// component that made it.
#pragma once

#include <string>

namespace ow::adapters::platform {

/// Every source below starts with this; the intake leaves such events alone.
inline constexpr const char* OwnSourcePrefix = "onewindow://intranet-platform/";
/// A submission that passed the intake, type unchanged: what goes on to the departments.
inline constexpr const char* CheckedSource = "onewindow://intranet-platform/checked";
/// gov.case.submission_refused, the intake's answer to a bad submission.
inline constexpr const char* RefusedSource = "onewindow://intranet-platform/refused";
inline constexpr const char* RefusedType = "gov.case.submission_refused";
/// A case's status change stamped with its sequence, for the platform's output only: a type of
/// its own, so the routes that take gov.case.* never see it a second time.
inline constexpr const char* StatusSource = "onewindow://intranet-platform/status";
inline constexpr const char* StatusType = "gov.platform.status";

/// Can the platform be told about the case `caseNo` (its address is
/// /api/cases/{case_no}/events): 1 to 64 bytes, no control characters.
inline bool addressable(const std::string& caseNo) {
    if (caseNo.empty() || caseNo.size() > 64) return false;
    for (unsigned char c : caseNo)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

} // namespace ow::adapters::platform
