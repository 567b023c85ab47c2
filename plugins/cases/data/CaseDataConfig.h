// The case data both first-party plugins read (the ledger and the fee book): the catalog and
// the working-day calendar, from the same instance config keys, so an operator points both at
// the same files the same way.
#pragma once

#include <onewindow/sdk/ConfigSpec.h>

#include "plugins/cases/calendar/WorkCalendar.h"
#include "plugins/cases/catalog/Catalog.h"

namespace ow::cases {

/// `spec` with catalog_dir, units_file, calendar_dir, open, close and utc_offset to `spec`.
onewindow::sdk::ConfigSpec withCaseDataFields(onewindow::sdk::ConfigSpec spec);

/// Reads the calendar and the catalog the config names; throws with every problem at its
/// file:line:column.
void loadCaseData(const onewindow::sdk::Config& c, WorkCalendar& calendar, Catalog& catalog);

} // namespace ow::cases
