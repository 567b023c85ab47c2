// The e-supervision (效能办 电子监察) exchange objects (DOMAIN §1.2, the Guangdong model that
// the Fujian systems share): one object per milestone of a case, with the wire field names the
// receiving system reads (SBLSH, SXBM, SLZTDM, SPHJDM, BJJGDM, ...). This file maps the hub's
// canonical gov.case.* (and gov.supervision.alert*) events to them; ExchangeOrder decides when
// each may be sent.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/Event.h>

#include "adapters/common/DeptRecords.h"

namespace ow::adapters::esupervision {

/// SPTYPE codes (DS_XZSP.SPTYPE), plus OneWindow's own two for alerts, which the Guangdong set
/// does not have: YJ 预警 (an alert raised) and YJJC 预警解除 (cleared).
enum class ObjectType {
    ShenBan = 0,            ///< 申办: application submitted
    YuShouLi = 1,           ///< 预受理: online pre-review
    ShouLi = 2,             ///< 受理: accepted / not accepted
    ShenPi = 3,             ///< 审批: one 承办 / 审核 / 批准 step
    BanJie = 4,             ///< 办结: concluded
    TeBieChengXuQiDong = 5, ///< 特别程序启动: the clock stops
    TeBieChengXuBanJie = 6, ///< 特别程序办结: the clock resumes
    BuJiaoGaoZhi = 7,       ///< 补交告知: supplement requested
    BuJiaoShouLi = 8,       ///< 补交受理: supplement received
    LingQuDengJi = 9,       ///< 领取登记: result collected / delivered
    YuJing = 100,           ///< YJ: an alert raised
    YuJingJieChu = 101,     ///< YJJC: an alert cleared
};

/// "0".."9", "YJ", "YJJC".
std::string code(ObjectType t);
/// "ShenBan", ... (the pinyin names the receiving systems use in their code).
const char* pinyin(ObjectType t);

/// The order the receiver requires: basic information (申办, 预受理, 受理) before the steps and
/// special nodes before the conclusion and the collection. Alerts go at once: an acceptance
/// overdue is raised before there is any acceptance to send.
enum class Tier { Basic = 0, Step = 1, Conclusion = 2, Free = 3 };
Tier tierOf(ObjectType t);

struct ExchangeObject {
    ObjectType type = ObjectType::ShenBan;
    std::string caseNo;
    std::string department;
    /// The same fact told again with a higher data_version is a correction: VERSION goes up.
    std::string factKey; ///< which fact of the case (e.g. "3/2" = the second step)
    int version = 1;
    nlohmann::json fields; ///< the wire object: SPTYPE, SBLSH, ... as the receiver reads it
};

struct MappingSettings {
    std::string regionCode = "350581"; ///< XZQHDM
    int utcOffsetMinutes = 480;        ///< times are sent as local "yyyy-MM-dd HH:mm:ss"
};

/// Thrown for an event that should map but cannot (no case number, data not an object, a
/// time that is not RFC 3339): the event is refused with this message.
using MappingError = ow::adapters::WireError;

/// The object for `e`, or nullopt for events e-supervision does not take (gov.case.received,
/// evaluations, ...). 办结 carries SFJE only when the event gives `fee_fen`; the fees paid on
/// the case are ExchangeOrder's to fill in.
std::optional<ExchangeObject> toExchange(const onewindow::sdk::Event& e, const MappingSettings& s);

/// "2026-03-02 10:15:00" in the center's time, from an RFC 3339 text; empty stays empty.
std::string wireTime(const std::string& rfc3339, int utcOffsetMinutes);
/// 8000 fen -> "80.00".
std::string wireYuan(long long fen);

} // namespace ow::adapters::esupervision
