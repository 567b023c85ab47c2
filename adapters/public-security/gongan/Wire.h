// 公安局 (public security) speaks XML over HTTPS with mutual TLS: its interface knows a client by
// the certificate it presents, and exchanges flat records in the field names the approval
// systems share (DOMAIN §1.1-1.4). This is the translation both ways:
//
//   the hub's gov.case.accepted  ──►  POST /ga/sqxx  <SQXX><SBLSH/><SXBM/><SXMC/><SQRMC/>
//                                     <SQRLX/><SQRZJLX/><SQRZJHM/><SLSJ/><XZQHDM/></SQXX>
//                                ◄──  <FHXX><FHDM>0</FHDM><FHMS>成功</FHMS><YWLSH>..</YWLSH></FHXX>
//   GET /ga/gxxx?limit=N         ──►  <FHXX><FHDM>0</FHDM><JLS><JL><XH>1</XH><LX>DJ</LX>...</JL>
//                                     ...</JLS></FHXX>, acknowledged with
//                                     POST /ga/gxqr  <QRXX><XH>last</XH></QRXX>
//      LX = DJ 登记 (SBLSH + YWLSH), SP 审批 (SPHJDM, SPHJMC, SPRXM, SPYJ, SPJG, SPSJ), BZ 补正
//      (BZYY, BZCL, BZSJ), BJ 办结 (BJJGDM, BJJGMS, ZJBH, ZJMC, BJSJ): as
//      adapters/common/DeptRecords
//
// FHDM (返回代码) "0" success; "99" busy (try again); anything else a refusal with FHMS (返回描述).
// Times on the wire are local "yyyy-MM-dd HH:mm:ss"; the XML is UTF-8.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/Event.h>

#include "adapters/common/DeptRecords.h"
#include "adapters/public-security/gongan/FlatXml.h"

namespace ow::adapters::gongan {

using ow::adapters::DeptIdentity;
using ow::adapters::WireError;

inline constexpr const char* kApplicationPath = "/ga/sqxx";
inline constexpr const char* kUpdatesPath = "/ga/gxxx";
inline constexpr const char* kAcknowledgePath = "/ga/gxqr";
inline constexpr const char* kContentType = "application/xml; charset=utf-8";
inline constexpr const char* kBusyCode = "99";

/// The department's application document (<SQXX>) for a gov.case.accepted event.
std::string applicationXml(const onewindow::sdk::Event& accepted, const std::string& region,
                           int utcOffsetMinutes);

/// The acknowledgement of every update up to `last`.
std::string acknowledgementXml(long long last);

/// What the department's answer means for a call.
enum class Verdict { Done, TryAgain, Refused };
struct Answer {
    Verdict verdict = Verdict::TryAgain;
    std::string message;
    XmlElement body; ///< the <FHXX> answer when Done
};
/// Reads an HTTP answer of the department: no answer, 408, 429, 5xx or code 99: try again;
/// <FHXX> with FHDM 0: done; another FHDM or a 4xx: refused with the department's message; an
/// answer that is not its well-formed <FHXX> (malformed, hostile, oversized): refused with why.
Answer readAnswer(int status, const std::string& body);

/// The records (<JLS><JL>...) of an updates answer as JSON objects of their fields, XH and
/// VERSION as integers (the journal's form; the feed acknowledges by XH). Throws WireError
/// when a record is not a flat list of distinct fields.
nlohmann::json updateRecords(const XmlElement& answer);

/// Who 公安局's canonical events come from (source dept:public-security, ids gongan-<XH>).
const DeptIdentity& deptIdentity();

} // namespace ow::adapters::gongan
