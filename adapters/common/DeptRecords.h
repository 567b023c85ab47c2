// What department systems send back, in the field names the Chinese approval systems share
// (DOMAIN §1.1-1.4: LX record kind, SPHJDM step code, SPRXM, SPYJ, SPSJ, BZYY, BJJGDM, ZJBH,
// VERSION, ...), whether they arrive over a REST API (industry-commerce) or as rows of a
// front-end database (land-resources): one mapping to the hub's canonical gov.case.* events.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/Event.h>

namespace ow::adapters {

class WireError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A field of a department's JSON as text: strings as they are, numbers as written, "" when
/// absent or null (department systems send "1" and 1 alike).
std::string fieldText(const nlohmann::json& d, const char* key);

/// RFC 3339 -> "2026-03-02 10:15:00" local; the other way, local -> "2026-03-02T10:15:00+08:00".
std::string toWireTime(const std::string& rfc3339, int utcOffsetMinutes);
std::string fromWireTime(const std::string& wire, int utcOffsetMinutes);

/// Who the canonical events come from.
struct DeptIdentity {
    std::string department; ///< unit id, e.g. "industry-commerce"
    std::string source;     ///< e.g. "dept:industry-commerce"
    std::string idPrefix;   ///< event id = prefix + the record's XH (+ "-v<VERSION>" above 1)
};

/// The canonical event for a department record (LX = SP 审批, BZ 补正, BJ 办结) of the case
/// `caseNo`; nullopt for DJ (a registration: it carries no milestone). `sequence` numbers the
/// case's steps (or supplement rounds) when the record has no SPBZH.
std::optional<onewindow::sdk::Event> canonicalFromRecord(const nlohmann::json& record,
                                                         const std::string& caseNo, int sequence,
                                                         int utcOffsetMinutes,
                                                         const DeptIdentity& who);

} // namespace ow::adapters
