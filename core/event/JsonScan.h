// Reads the top-level members of a JSON object straight from its text, without building a
// document. The plugin boundary reads every journaled event this way: the journal holds each
// event as compact JSON already, and parsing it into a tree only to print `data` back out
// cost more than the rest of a no-op processor call.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace ow::event {

/// One member of a JSON object, as found in the text.
struct JsonMember {
    std::string key;
    bool isString = false;
    std::string text;     ///< a string value, unescaped; empty for other values
    std::string_view raw; ///< the value's JSON text as written (a string with its quotes)
};

/// Calls `fn` for each member of the JSON object in `text`, in order. Throws
/// std::runtime_error naming the offset when the text is not one well-formed JSON object.
void forEachMember(std::string_view text, const std::function<void(const JsonMember&)>& fn);

} // namespace ow::event
