// 工商局 (industry and commerce, business registration) speaks REST/JSON with its own field
// names and codes (DOMAIN §1.1-1.4). This is the translation both ways:
//
//   the hub's gov.case.accepted  ──►  POST /api/v1/applications  {SBLSH, SXBM, SXMC, SQRMC,
//                                     SQRLX, SLSJ, XZQHDM}  ◄── {"code":"0","data":{"YWLSH":..}}
//   GET /api/v1/updates?limit=N  ──►  items {XH, LX, YWLSH, ...}, acknowledged with
//                                     POST /api/v1/updates/ack {"XH": last}
//      LX = DJ 登记 (SBLSH + YWLSH: the department registered the case), SP 审批 (SPHJDM 1 承办 /
//      2 审核 / 3 批准, SPHJMC, SPRXM, SPYJ, SPJG 1 同意 / 0 不同意, SPSJ), BZ 补正 (BZYY, BZCL),
//      BJ 办结 (BJJGDM, BJJGMS, ZJBH, BJSJ)
//
// Every answer carries a business code: "0" success; "9999" busy (try again); anything else a
// refusal with `msg`. Times on the wire are local "yyyy-MM-dd HH:mm:ss".
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/Event.h>

#include "adapters/common/DeptRecords.h"

namespace ow::adapters::gongshang {

using ow::adapters::canonicalFromRecord;
using ow::adapters::DeptIdentity;
using ow::adapters::fromWireTime;
using ow::adapters::toWireTime;
using ow::adapters::WireError;

/// The department's application body for a gov.case.accepted event.
nlohmann::json applicationBody(const onewindow::sdk::Event& accepted, const std::string& region,
                               int utcOffsetMinutes);

/// What the department's answer means for a delivery.
enum class Verdict { Done, TryAgain, Refused };
struct Answer {
    Verdict verdict = Verdict::TryAgain;
    std::string message;
    nlohmann::json data;
};
/// Reads an HTTP answer of the department: status 0 / 5xx / 429 / "9999" try again; 200 with
/// code "0" done; other codes and 4xx refused with the department's message.
Answer readAnswer(int status, const std::string& body);

/// The canonical event for an update item of a case whose center number is `caseNo`; nullopt
/// for DJ (registration: it only teaches the mapping). `sequence` numbers the case's steps.
std::optional<onewindow::sdk::Event> canonicalEvent(const nlohmann::json& item,
                                                    const std::string& caseNo, int sequence,
                                                    int utcOffsetMinutes);

} // namespace ow::adapters::gongshang
