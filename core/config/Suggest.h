// "Did you mean ...?" for misspelled configuration keys and names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ow::config {

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions each cost 1, because "conenct" is one slip of the fingers, not two.
std::size_t editDistance(std::string_view a, std::string_view b);

/// The candidate nearest to `word` (compared case-insensitively), if it is within
/// max(2, word.size() / 3) edits; ties go to the earlier candidate.
std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" or "" when nothing is near enough.
std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates);

} // namespace ow::config
