#include "plugins/cases/catalog/CatalogFiles.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "plugins/cases/data/YamlReader.h"

namespace ow::cases {
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t MaxDays = 3650;

class ItemReader {
public:
    ItemReader(YamlReader& r, const Catalog& units, std::string department)
        : r_(r), units_(units), department_(std::move(department)) {}

    /// The item, and whether it was read without a problem.
    std::pair<ServiceItem, bool> read(const YAML::Node& n) {
        const std::size_t before = r_.problemCount();
        ServiceItem it;
        it.file = r_.file();
        it.line = n.Mark().line + 1;
        it.department = department_;
        r_.onlyKeys(n,
                    {"code", "name", "kind", "handling_type", "legal_limit", "promised_limit",
                     "supplement", "supplement_days", "joint", "reported_to", "steps", "materials",
                     "fees", "publications"},
                    "in an item");
        it.code = r_.text(n, "code", "in an item", true).value_or("");
        const std::string where = "in item " + (it.code.empty() ? "(no code)" : it.code);
        it.name = r_.text(n, "name", where, true).value_or("");
        it.kind = r_.choice<ItemKind>(n, "kind", where, true,
                                      {{"license", ItemKind::License},
                                       {"non_license", ItemKind::NonLicense},
                                       {"public_service", ItemKind::PublicService}})
                      .value_or(ItemKind::License);
        it.handling = r_.choice<HandlingType>(n, "handling_type", where, true,
                                              {{"immediate", HandlingType::Immediate},
                                               {"promised", HandlingType::Promised},
                                               {"joint", HandlingType::Joint},
                                               {"reported", HandlingType::Reported},
                                               {"special", HandlingType::Special}})
                          .value_or(HandlingType::Promised);
        it.legalLimit = limit(n, "legal_limit", where, false);
        auto promised = limit(n, "promised_limit", where, true);
        if (promised) it.promisedLimit = *promised;
        it.supplement = r_.choice<SupplementRule>(n, "supplement", where, false,
                                                  {{"pause", SupplementRule::Pause},
                                                   {"restart", SupplementRule::Restart}})
                            .value_or(SupplementRule::Pause);
        if (auto d = r_.integer(n, "supplement_days", where, false, 1, MaxDays))
            it.supplementDays = static_cast<int>(*d);
        if (auto to = r_.text(n, "reported_to", where, false)) it.reportedTo = *to;
        readJoint(n, where, it);
        readSteps(n, where, it);
        readMaterials(n, where, it);
        readFees(n, where, it);
        readPublications(n, where, it);
        checkLimits(n, where, it, promised.has_value());
        const bool ok = r_.problemCount() == before;
        return {std::move(it), ok};
    }

private:
    std::optional<Limit> limit(const YAML::Node& n, const char* key, const std::string& where,
                               bool required) {
        const YAML::Node m = n[key];
        if (!m) {
            if (required) r_.problem(n, "missing '" + std::string(key) + "' " + where);
            return std::nullopt;
        }
        if (!m.IsMap()) {
            r_.problem(m, "'" + std::string(key) + "' " + where +
                              " must be { days: N, unit: working | calendar }");
            return std::nullopt;
        }
        const std::string w = "in '" + std::string(key) + "' of " + where.substr(3);
        r_.onlyKeys(m, {"days", "unit"}, w);
        auto days = r_.integer(m, "days", w, true, 0, MaxDays);
        auto unit = r_.choice<LimitUnit>(
            m, "unit", w, true,
            {{"working", LimitUnit::WorkingDays}, {"calendar", LimitUnit::CalendarDays}});
        if (!days || !unit) return std::nullopt;
        return Limit{static_cast<int>(*days), *unit};
    }

    /// Each element of the list at `key`, or a problem when it is not a list of maps.
    template <typename Fn>
    void eachOf(const YAML::Node& n, const char* key, const std::string& where, Fn fn) {
        const YAML::Node list = n[key];
        if (!list || list.IsNull()) return;
        if (!list.IsSequence()) {
            r_.problem(list, "'" + std::string(key) + "' " + where + " must be a list");
            return;
        }
        for (const auto& e : list) {
            if (!e.IsMap()) {
                r_.problem(e, "each entry of '" + std::string(key) + "' " + where + " is a map");
                continue;
            }
            fn(e);
        }
    }

    void readJoint(const YAML::Node& n, const std::string& where, ServiceItem& it) {
        eachOf(n, "joint", where, [&](const YAML::Node& e) {
            const std::string w = "in a joint part of " + where.substr(3);
            r_.onlyKeys(e, {"department", "limit_days"}, w);
            JointPart p;
            p.department = r_.text(e, "department", w, true).value_or("");
            p.limitDays =
                static_cast<int>(r_.integer(e, "limit_days", w, true, 0, MaxDays).value_or(0));
            if (!p.department.empty()) {
                if (!units_.unit(p.department))
                    r_.problem(e["department"], "unknown department '" + p.department + "' " + w);
                else if (p.department == department_)
                    r_.problem(e["department"],
                               "the item's own department cannot be its co-department " + w);
            }
            it.joint.push_back(p);
        });
    }

    void readSteps(const YAML::Node& n, const std::string& where, ServiceItem& it) {
        std::set<std::string> codes;
        eachOf(n, "steps", where, [&](const YAML::Node& e) {
            const std::string w = "in a step of " + where.substr(3);
            r_.onlyKeys(e, {"code", "name", "limit_days", "counted"}, w);
            Step s;
            s.code = r_.text(e, "code", w, true).value_or("");
            s.name = r_.text(e, "name", w, true).value_or("");
            s.limitDays =
                static_cast<int>(r_.integer(e, "limit_days", w, true, 0, MaxDays).value_or(0));
            s.counted = r_.boolean(e, "counted", w, false).value_or(true);
            if (!s.code.empty() && !codes.insert(s.code).second)
                r_.problem(e["code"], "step '" + s.code + "' appears twice " + where);
            it.steps.push_back(s);
        });
    }

    void readMaterials(const YAML::Node& n, const std::string& where, ServiceItem& it) {
        eachOf(n, "materials", where, [&](const YAML::Node& e) {
            const std::string w = "in a material of " + where.substr(3);
            r_.onlyKeys(e, {"name", "originals", "copies", "required"}, w);
            Material m;
            m.name = r_.text(e, "name", w, true).value_or("");
            m.originals =
                static_cast<int>(r_.integer(e, "originals", w, false, 0, 100).value_or(1));
            m.copies = static_cast<int>(r_.integer(e, "copies", w, false, 0, 100).value_or(0));
            m.required = r_.boolean(e, "required", w, false).value_or(true);
            it.materials.push_back(m);
        });
    }

    void readFees(const YAML::Node& n, const std::string& where, ServiceItem& it) {
        std::set<std::string> codes;
        eachOf(n, "fees", where, [&](const YAML::Node& e) {
            const std::string w = "in a fee of " + where.substr(3);
            r_.onlyKeys(e, {"code", "name", "unit", "standard_fen", "basis"}, w);
            FeeItem f;
            f.code = r_.text(e, "code", w, true).value_or("");
            f.name = r_.text(e, "name", w, true).value_or("");
            f.unit = r_.text(e, "unit", w, true).value_or("");
            // Up to 100 million yuan per line: larger is a typo, not a fee.
            f.standardFen = r_.integer(e, "standard_fen", w, true, 0, 10'000'000'000LL).value_or(0);
            f.basis = r_.text(e, "basis", w, true).value_or("");
            if (!f.code.empty() && !codes.insert(f.code).second)
                r_.problem(e["code"], "fee code '" + f.code + "' appears twice " + where);
            it.fees.push_back(f);
        });
    }

    void readPublications(const YAML::Node& n, const std::string& where, ServiceItem& it) {
        const YAML::Node p = n["publications"];
        if (!p) {
            r_.problem(n, "missing 'publications' (八公开) " + where);
            return;
        }
        if (!p.IsMap()) {
            r_.problem(p, "'publications' " + where + " must be a map of the eight texts");
            return;
        }
        const std::string w = "in 'publications' of " + where.substr(3);
        r_.onlyKeys(p,
                    {"content", "basis", "conditions", "materials", "procedure", "time_limit",
                     "fee_standard", "results"},
                    w);
        auto& pub = it.publications;
        pub.content = r_.text(p, "content", w, true).value_or("");
        pub.basis = r_.text(p, "basis", w, true).value_or("");
        pub.conditions = r_.text(p, "conditions", w, true).value_or("");
        pub.materials = r_.text(p, "materials", w, true).value_or("");
        pub.procedure = r_.text(p, "procedure", w, true).value_or("");
        pub.timeLimit = r_.text(p, "time_limit", w, true).value_or("");
        pub.feeStandard = r_.text(p, "fee_standard", w, true).value_or("");
        pub.results = r_.text(p, "results", w, true).value_or("");
    }

    void checkLimits(const YAML::Node& n, const std::string& where, const ServiceItem& it,
                     bool havePromise) {
        if (!havePromise) return;
        const Limit& p = it.promisedLimit;
        const YAML::Node at = n["promised_limit"];
        if (it.legalLimit && it.legalLimit->unit == p.unit && p.days > it.legalLimit->days)
            r_.problem(at, "the promised limit (" + std::to_string(p.days) +
                               " days) is longer than the legal limit (" +
                               std::to_string(it.legalLimit->days) + " days) " + where);
        if (it.handling == HandlingType::Immediate && p.days != 0)
            r_.problem(at, "an immediate item promises 0 days, not " + std::to_string(p.days) +
                               " " + where);
        int counted = 0;
        for (std::size_t i = 0; i < it.steps.size(); ++i) {
            const auto& s = it.steps[i];
            if (s.limitDays > p.days)
                r_.problem(n["steps"][i]["limit_days"],
                           "step '" + s.code + "' takes " + std::to_string(s.limitDays) +
                               " days, more than the item's promised " + std::to_string(p.days) +
                               " " + where);
            if (s.counted) counted += s.limitDays;
        }
        if (counted > p.days)
            r_.problem(n["steps"], "the counted steps take " + std::to_string(counted) +
                                       " days together, more than the promised " +
                                       std::to_string(p.days) + " " + where);
        for (std::size_t i = 0; i < it.joint.size(); ++i)
            if (it.joint[i].limitDays > p.days)
                r_.problem(n["joint"][i]["limit_days"], "the sub-task of '" +
                                                            it.joint[i].department + "' takes " +
                                                            std::to_string(it.joint[i].limitDays) +
                                                            " days, more than the promised " +
                                                            std::to_string(p.days) + " " + where);
        const bool joint = it.handling == HandlingType::Joint;
        if (joint && it.joint.empty())
            r_.problem(n, "a joint item needs 'joint' (its co-departments) " + where);
        if (!joint && n["joint"])
            r_.problem(n["joint"], "'joint' is for joint items only " + where);
        const bool reported = it.handling == HandlingType::Reported;
        if (reported && it.reportedTo.empty())
            r_.problem(n, "a reported item needs 'reported_to' (the higher authority) " + where);
        if (!reported && n["reported_to"])
            r_.problem(n["reported_to"], "'reported_to' is for reported items only " + where);
    }

    YamlReader& r_;
    const Catalog& units_;
    std::string department_;
};

} // namespace

std::vector<Unit> loadUnits(const std::string& unitsFile) {
    std::vector<DataProblem> problems;
    YamlReader r(unitsFile, problems);
    std::vector<Unit> units;
    if (auto root = r.load()) {
        std::set<std::string> ids;
        for (const auto& [key, kind] :
             {std::pair{"departments", UnitKind::Department},
              std::pair{"trading_centers", UnitKind::TradingCenter},
              std::pair{"convenience_units", UnitKind::ConvenienceUnit}}) {
            const YAML::Node list = (*root)[key];
            if (!list || !list.IsSequence()) {
                r.fileProblem(std::string("missing the list '") + key + "'");
                continue;
            }
            for (const auto& e : list) {
                Unit u;
                u.kind = kind;
                u.id =
                    r.text(e, "id", std::string("in an entry of '") + key + "'", true).value_or("");
                u.name = r.text(e, "name", "of unit '" + u.id + "'", true).value_or("");
                if (u.id.empty()) continue;
                if (!ids.insert(u.id).second)
                    r.problem(e["id"], "unit '" + u.id + "' appears twice");
                units.push_back(u);
            }
        }
    }
    if (!problems.empty()) throw DataError(std::move(problems));
    return units;
}

Catalog loadCatalog(const std::string& dir, const std::string& unitsFile) {
    const Catalog units(loadUnits(unitsFile), {}, false);
    std::vector<DataProblem> problems;
    std::vector<ServiceItem> items;
    std::map<std::string, std::string> codeAt; // item code -> where it was first given
    bool sample = false;
    const auto files = yamlFilesIn(dir, "catalog folder");
    if (files.empty()) throw DataError({{dir, 0, 0, "no catalog files (*.yaml)"}});
    for (const auto& file : files) {
        YamlReader r(file, problems);
        auto root = r.load();
        if (!root) continue;
        if (!root->IsMap()) {
            r.fileProblem("expected a map with 'department' and 'items'");
            continue;
        }
        r.onlyKeys(*root, {"sample_data", "department", "items"}, "in a catalog file");
        sample =
            r.boolean(*root, "sample_data", "of a catalog file", false).value_or(false) || sample;
        const auto department = r.text(*root, "department", "in a catalog file", true);
        if (!department) continue;
        if (!units.unit(*department)) {
            r.problem((*root)["department"],
                      "unknown department '" + *department + "' (not a unit of " + unitsFile + ")");
            continue;
        }
        if (fs::path(file).stem().string() != *department)
            r.problem((*root)["department"], "the file of department '" + *department +
                                                 "' must be named " + *department + ".yaml");
        const YAML::Node list = (*root)["items"];
        if (!list || !list.IsSequence()) {
            r.problem(*root, "'items' must be a list of items");
            continue;
        }
        ItemReader reader(r, units, *department);
        for (const auto& n : list) {
            if (!n.IsMap()) {
                r.problem(n, "each item is a map");
                continue;
            }
            auto [item, ok] = reader.read(n);
            // A code is taken even by an item with a problem: its fix must not collide.
            const std::string here = file + ":" + std::to_string(item.line);
            if (auto [it, fresh] = codeAt.emplace(item.code, here); !fresh && !item.code.empty()) {
                r.problem(n["code"],
                          "item code '" + item.code + "' is already used at " + it->second);
                continue;
            }
            if (ok) items.push_back(std::move(item));
        }
    }
    if (!problems.empty()) throw DataError(std::move(problems));
    return Catalog(units.units(), std::move(items), sample);
}

} // namespace ow::cases
