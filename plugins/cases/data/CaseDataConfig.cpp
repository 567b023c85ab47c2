#include "plugins/cases/data/CaseDataConfig.h"

#include "plugins/cases/calendar/CalendarFiles.h"
#include "plugins/cases/catalog/CatalogFiles.h"

namespace sdk = onewindow::sdk;

namespace ow::cases {

sdk::ConfigSpec withCaseDataFields(sdk::ConfigSpec spec) {
    using sdk::Field;
    spec.field(Field::string("catalog_dir")
                   .defaultsTo("config/catalog")
                   .describe("Folder of the service catalog (<unit>.yaml files)"))
        .field(Field::string("units_file")
                   .defaultsTo("config/units.yaml")
                   .describe("The units of the hall"))
        .field(Field::string("calendar_dir")
                   .defaultsTo("config/calendar")
                   .describe("Folder of the working-day calendar (<year>.yaml files)"))
        .field(Field::string("open").defaultsTo("09:00").describe("Business opens (HH:MM)"))
        .field(Field::string("close").defaultsTo("17:00").describe(
            "Business closes (HH:MM): deadlines end then, later events count from the next "
            "working day"))
        .field(
            Field::string("utc_offset").defaultsTo("+08:00").describe("The center's local time"));
    return spec;
}

void loadCaseData(const sdk::Config& c, WorkCalendar& calendar, Catalog& catalog) {
    BusinessHours hours;
    hours.openMinute = parseClockTime(c.get<std::string>("open", "09:00"));
    hours.closeMinute = parseClockTime(c.get<std::string>("close", "17:00"));
    hours.utcOffsetMinutes = parseUtcOffset(c.get<std::string>("utc_offset", "+08:00"));
    calendar = loadCalendar(c.get<std::string>("calendar_dir", "config/calendar"), hours);
    catalog = loadCatalog(c.get<std::string>("catalog_dir", "config/catalog"),
                          c.get<std::string>("units_file", "config/units.yaml"));
}

} // namespace ow::cases
