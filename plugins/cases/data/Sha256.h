// SHA-256 as lower-case hex, for the query password of a case: the ledger keeps only the
// hash of (case number, ":", password), never the password.
#pragma once

#include <string>

namespace ow::cases {

std::string sha256Hex(const std::string& bytes);

} // namespace ow::cases
