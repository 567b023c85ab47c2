// Config specs the reference adapters share: the keys of a source that polls a department's
// acknowledged feed (AcknowledgedFeed.h), and the spec of a RecordMapper.h processor.
#pragma once

#include <string>

#include <onewindow/sdk/Plugin.h>

namespace ow::adapters {

/// `spec` with poll_ms and batch, as every acknowledged-feed source reads them.
inline onewindow::sdk::ConfigSpec withFeedFields(onewindow::sdk::ConfigSpec spec) {
    using onewindow::sdk::Field;
    return std::move(spec.field(Field::integer("poll_ms")
                                    .defaultsTo(1000)
                                    .range(10, 600000)
                                    .describe("Wait between polls when there is nothing new"))
                         .field(Field::integer("batch").defaultsTo(100).range(1, 1000).describe(
                             "Records per poll")));
}

/// The spec of a processor that maps `updateType` records with mapDeptRecord().
inline onewindow::sdk::ConfigSpec recordMapperSpec(const std::string& updateType) {
    using onewindow::sdk::Field;
    return std::move(onewindow::sdk::ConfigSpec(
                         "Turns " + updateType +
                         " into gov.case.step_completed / supplement_requested / concluded of the "
                         "center's case, keeping YWLSH <-> SBLSH from the registrations (DJ).")
                         .field(Field::string("utc_offset")
                                    .defaultsTo("+08:00")
                                    .describe("The department's local time")));
}

} // namespace ow::adapters
