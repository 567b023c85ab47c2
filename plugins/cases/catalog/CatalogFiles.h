// Reads the units of the hall (config/units.yaml) and the service catalog
// (config/catalog/<unit>.yaml, shape and checks in config/catalog/README.md). A catalog with a
// mistake is refused whole, with every problem at its file:line:column: a wrong limit would
// otherwise raise wrong supervision alerts for every case of the item.
#pragma once

#include <string>
#include <vector>

#include "plugins/cases/catalog/Catalog.h"

namespace ow::cases {

/// The departments, trading centers and convenience units of units.yaml. Throws DataError.
std::vector<Unit> loadUnits(const std::string& unitsFile);

/// Every `*.yaml` file of `dir`, checked against the units of `unitsFile`. Throws DataError.
Catalog loadCatalog(const std::string& dir, const std::string& unitsFile);

} // namespace ow::cases
