// Events crossing the plugin boundary: the journal's CloudEvents JSON as the SDK's plain
// struct, and an event a plugin produced as a validated event ready for the journal.
#pragma once

#include <cstdint>
#include <string>

#include "core/event/CloudEventCodec.h"
#include "core/pipeline/AcceptItem.h"
#include "onewindow/sdk/Event.h"

namespace ow::plugin {

/// The event of an outbox row as plugins see it. Throws on unreadable JSON.
onewindow::sdk::Event toSdkEvent(const std::string& cloudEventJson);

/// An event a source emitted or a processor emitted, validated exactly like an input's
/// (time filled in from `nowMs` when empty). Throws with the reason when it is invalid.
pipeline::AcceptItem toAcceptItem(const onewindow::sdk::Event& e, std::int64_t nowMs,
                                  const event::JsonLimits& limits);

} // namespace ow::plugin
