// Personal data (PIPL; MLPS 2.0 level 3 "personal information protection"): applicants' and
// contacts' ID numbers, mobiles, names and addresses. Two ways to find them:
//
// - declared fields: JSON pointers per event type (`personal_data` in the configuration),
//   e.g. gov.case.* -> /data/applicant/id_number; a `*` segment matches every array element
//   or object member;
// - recognised in any text: resident ID numbers (18 characters, GB 11643 check digit, a real
//   birth date) and mainland mobile numbers (11 digits, 1[3-9]...), standing alone (not inside
//   a longer run of letters or digits, so case numbers and hashes are left alone).
//
// Masking keeps what a person needs to tell records apart and nothing that identifies
// someone: 350581********1234, 138****5678, 张*, 福建省石狮********.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/HubConfig.h"

namespace ow::privacy {

/// An 18-character resident ID number with a valid check digit and birth date.
bool isResidentId(std::string_view s);
/// An 11-digit mainland mobile number.
bool isMobile(std::string_view s);

/// The value masked by its shape: ID number, mobile, or any other text (a name, an address)
/// keeping its first third.
std::string maskValue(std::string_view value);

/// `text` with every recognised ID number and mobile masked.
std::string maskText(std::string_view text);
/// True when `text` holds a recognised ID number or mobile (for tests and checks).
bool containsPersonalData(std::string_view text);

/// What an output gets of personal data.
enum class Treatment { Keep, Mask, Drop };

/// The declared personal fields: for each event type glob, the JSON pointers (into the whole
/// event, e.g. "/data/applicant/mobile") of its personal fields.
struct Declarations {
    std::vector<std::pair<std::string, std::vector<std::string>>> byType;
    [[nodiscard]] bool empty() const { return byType.empty(); }
};

/// The declarations of a configuration's `personal_data` section.
Declarations declarationsOf(const std::vector<config::PersonalDataSpec>& specs);

class Masker {
public:
    explicit Masker(Declarations d = {});

    /// Masks (Mask) or removes (Drop) the declared fields of the event `type` in `event`,
    /// then masks what is recognised in every string left. Keep changes nothing.
    void apply(nlohmann::json& event, Treatment t) const;
    /// A stored event (structured JSON text) with `t` applied; text that is not JSON gets
    /// maskText.
    [[nodiscard]] std::string applyToText(std::string_view eventJson, Treatment t) const;

private:
    Declarations d_;
};

/// "keep", "mask", "drop".
const char* toString(Treatment t);

} // namespace ow::privacy
