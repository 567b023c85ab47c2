// What an operator should do about a failed storage operation: every storage error the hub
// reports names the file and ends with one of these sentences.
#pragma once

#include <string>

namespace ow::store {

/// Advice for SQLite result `code` (extended codes allowed) on `file`; "" when there is none
/// better than the error itself.
std::string storageAdvice(int code, const std::string& file);

/// True for the codes that mean the file's content is damaged.
bool isDamage(int code);

} // namespace ow::store
