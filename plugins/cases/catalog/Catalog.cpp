#include "plugins/cases/catalog/Catalog.h"

namespace ow::cases {

const Step* ServiceItem::step(const std::string& c) const {
    for (const auto& s : steps)
        if (s.code == c) return &s;
    return nullptr;
}

const FeeItem* ServiceItem::fee(const std::string& c) const {
    for (const auto& f : fees)
        if (f.code == c) return &f;
    return nullptr;
}

Catalog::Catalog(std::vector<Unit> units, std::vector<ServiceItem> items, bool sampleData)
    : units_(std::move(units)), items_(std::move(items)), sampleData_(sampleData) {
    for (std::size_t i = 0; i < items_.size(); ++i)
        byCode_.emplace(items_[i].code, i);
    for (std::size_t i = 0; i < units_.size(); ++i)
        unitById_.emplace(units_[i].id, i);
}

const ServiceItem* Catalog::item(const std::string& code) const {
    auto it = byCode_.find(code);
    return it == byCode_.end() ? nullptr : &items_[it->second];
}

const Unit* Catalog::unit(const std::string& id) const {
    auto it = unitById_.find(id);
    return it == unitById_.end() ? nullptr : &units_[it->second];
}

const char* toString(HandlingType t) {
    switch (t) {
    case HandlingType::Immediate:
        return "immediate";
    case HandlingType::Promised:
        return "promised";
    case HandlingType::Joint:
        return "joint";
    case HandlingType::Reported:
        return "reported";
    case HandlingType::Special:
        return "special";
    }
    return "?";
}

const char* toString(ItemKind k) {
    switch (k) {
    case ItemKind::License:
        return "license";
    case ItemKind::NonLicense:
        return "non_license";
    case ItemKind::PublicService:
        return "public_service";
    }
    return "?";
}

} // namespace ow::cases
