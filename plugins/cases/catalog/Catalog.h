// The service catalog (事项目录): the units of the hall and the items they handle, with the
// limits, steps, materials, fees and publications the ledger, the fee checks and the public
// query work from. Read from config/units.yaml and config/catalog/*.yaml (CatalogFiles).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ow::cases {

enum class UnitKind { Department, TradingCenter, ConvenienceUnit };

/// A unit with a window in the hall (config/units.yaml).
struct Unit {
    std::string id;   ///< "industry-commerce"
    std::string name; ///< "工商局", authoritative
    UnitKind kind = UnitKind::Department;
};

enum class ItemKind { License, NonLicense, PublicService };

/// 即办, 承诺, 联办, 报批, 特办: fixed at acceptance (DOMAIN §2); 退回 and 补办 are states a case
/// of any type passes through.
enum class HandlingType { Immediate, Promised, Joint, Reported, Special };

enum class LimitUnit { WorkingDays, CalendarDays };

struct Limit {
    int days = 0;
    LimitUnit unit = LimitUnit::WorkingDays;
};

/// After acceptance, a supplement request either pauses the clock or restarts it from the
/// day the materials are complete (视为重新受理); sources differ, so it is set per item.
enum class SupplementRule { Pause, Restart };

struct Step {
    std::string code; ///< "undertake", "review", "approve", "site-survey", ...
    std::string name; ///< 承办, 审核, 批准, 现场核查
    int limitDays = 0;
    bool counted = true; ///< false: not counted in the item's limit (the clock pauses)
};

struct Material {
    std::string name;
    int originals = 1;
    int copies = 0;
    bool required = true;
};

/// One fee line of the published standard; money in fen, never floating point.
struct FeeItem {
    std::string code;
    std::string name;
    std::string unit; ///< 件, 本, 宗
    std::int64_t standardFen = 0;
    std::string basis; ///< the legal basis of the fee
};

/// A co-department of a joint (联办) item and the working days of its sub-task.
struct JointPart {
    std::string department;
    int limitDays = 0;
};

/// 八公开: the eight texts published for every item.
struct Publications {
    std::string content, basis, conditions, materials, procedure, timeLimit, feeStandard, results;
};

struct ServiceItem {
    std::string code;
    std::string name;
    std::string department;
    ItemKind kind = ItemKind::License;
    HandlingType handling = HandlingType::Promised;
    std::optional<Limit> legalLimit;
    Limit promisedLimit;
    SupplementRule supplement = SupplementRule::Pause;
    std::optional<int> supplementDays; ///< working days the applicant has to supply
    std::vector<JointPart> joint;
    std::string reportedTo;
    std::vector<Step> steps;
    std::vector<Material> materials;
    std::vector<FeeItem> fees;
    Publications publications;
    std::string file; ///< where it was read, for messages
    int line = 0;

    [[nodiscard]] const Step* step(const std::string& code) const;
    [[nodiscard]] const FeeItem* fee(const std::string& code) const;
};

class Catalog {
public:
    Catalog() = default;
    Catalog(std::vector<Unit> units, std::vector<ServiceItem> items, bool sampleData);

    [[nodiscard]] const ServiceItem* item(const std::string& code) const;
    [[nodiscard]] const Unit* unit(const std::string& id) const;
    [[nodiscard]] const std::vector<ServiceItem>& items() const { return items_; }
    [[nodiscard]] const std::vector<Unit>& units() const { return units_; }
    /// True when any file says `sample_data: true`.
    [[nodiscard]] bool sampleData() const { return sampleData_; }

private:
    std::vector<Unit> units_;
    std::vector<ServiceItem> items_;
    std::map<std::string, std::size_t> byCode_;
    std::map<std::string, std::size_t> unitById_;
    bool sampleData_ = false;
};

const char* toString(HandlingType t);
const char* toString(ItemKind k);

} // namespace ow::cases
