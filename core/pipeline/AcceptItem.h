// One validated event on its way into the journal.
#pragma once

#include <memory>
#include <string>

#include "core/event/Event.h"

namespace ow::pipeline {

struct AcceptItem {
    std::shared_ptr<const event::Event> event;
    std::string body; ///< canonical structured JSON
};

} // namespace ow::pipeline
