// libFuzzer target: the CloudEvents codec must refuse bad input with EventError only, and an
// event it accepts must survive a structured and a binary round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/event/CloudEventCodec.h"

using namespace ow::event;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string body(reinterpret_cast<const char*>(data), size);
    JsonLimits limits{32, 1000};
    try {
        Event e = parseStructured(body, limits);
        Event again = parseStructured(toStructured(e), limits);
        if (!(again == e)) std::abort();
        auto bin = toBinary(e);
        (void)parseBinary(bin.headers, bin.body, limits);
    } catch (const EventError&) {
    }
    try {
        (void)parseBatch(body, limits, 100);
    } catch (const EventError&) {
    }
    // The same bytes as a binary-mode body with a JSON content type.
    HeaderList headers{{"ce-specversion", "1.0"},
                       {"ce-id", "1"},
                       {"ce-source", "/f"},
                       {"ce-type", "t"},
                       {"content-type", "application/json"}};
    try {
        (void)parseBinary(headers, body, limits);
    } catch (const EventError&) {
    }
    return 0;
}
