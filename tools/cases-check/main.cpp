// ow-cases-check: checks the case ledger's data files the way the ledger reads them at start,
// so an operator can check a new catalog or calendar notice before a reload:
//
//   ow-cases-check [--catalog config/catalog] [--units config/units.yaml]
//                  [--calendar config/calendar]
//
// Prints every problem as file:line:column: message and exits 1, or a summary and exits 0.
#include <iostream>
#include <map>
#include <string>

#include "plugins/cases/calendar/CalendarFiles.h"
#include "plugins/cases/catalog/CatalogFiles.h"
#include "plugins/cases/data/DataProblem.h"

using namespace ow::cases;

int main(int argc, char** argv) {
    std::string catalogDir = "config/catalog", units = "config/units.yaml",
                calendarDir = "config/calendar";
    for (int i = 1; i < argc; ++i) {
        const std::string o = argv[i];
        if (i + 1 >= argc || (o != "--catalog" && o != "--units" && o != "--calendar")) {
            std::cerr << "usage: ow-cases-check [--catalog DIR] [--units FILE] [--calendar DIR]\n";
            return 2;
        }
        (o == "--catalog" ? catalogDir : o == "--units" ? units : calendarDir) = argv[++i];
    }
    int problems = 0;
    try {
        const auto catalog = loadCatalog(catalogDir, units);
        std::map<HandlingType, int> perType;
        for (const auto& item : catalog.items())
            ++perType[item.handling];
        std::cout << catalogDir << ": OK, " << catalog.items().size() << " items of "
                  << catalog.units().size() << " units (";
        const char* sep = "";
        for (const auto& [type, n] : perType) {
            std::cout << sep << n << " " << toString(type);
            sep = ", ";
        }
        std::cout << ")" << (catalog.sampleData() ? ", sample data" : "") << "\n";
    } catch (const DataError& e) {
        for (const auto& p : e.problems())
            std::cerr << p.str() << "\n";
        problems += static_cast<int>(e.problems().size());
    }
    try {
        const auto calendar = loadCalendar(calendarDir, BusinessHours{});
        std::cout << calendarDir << ": OK, years";
        for (int y : calendar.years())
            std::cout << " " << y;
        std::cout << "\n";
    } catch (const DataError& e) {
        for (const auto& p : e.problems())
            std::cerr << p.str() << "\n";
        problems += static_cast<int>(e.problems().size());
    }
    if (problems) std::cerr << problems << " problem(s)\n";
    return problems ? 1 : 0;
}
