// Events crossing the plugin boundary: the journal's CloudEvents JSON as the SDK's plain
// struct, and an event a plugin produced as a validated event ready for the journal.
#pragma once

#include <cstdint>
#include <string>

#include "core/config/HubConfig.h"
#include "core/event/CloudEventCodec.h"
#include "core/pipeline/AcceptItem.h"
#include "core/security/Principal.h"
#include "core/store/Records.h"
#include "onewindow/sdk/Event.h"

namespace ow::plugin {

/// The event of an outbox row as plugins see it, with the hub's attributes of who sent it
/// (owinput, owauth, authid, authtype) from `from`. Throws on unreadable JSON.
onewindow::sdk::Event toSdkEvent(const std::string& cloudEventJson,
                                 const store::Provenance& from = {});

/// An event a source emitted or a processor emitted, validated exactly like an input's
/// (time filled in from `nowMs` when empty), with `who`'s attributes set (replacing any the
/// plugin copied from another event). Throws with the reason when it is invalid, or when
/// `allow` is given and does not let it through (a source's input's allow list).
pipeline::AcceptItem toAcceptItem(const onewindow::sdk::Event& e, std::int64_t nowMs,
                                  const event::JsonLimits& limits, const security::Principal& who,
                                  const config::AllowSpec* allow = nullptr);

} // namespace ow::plugin
