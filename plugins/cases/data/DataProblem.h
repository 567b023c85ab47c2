// A problem found in a data file the cases plugin reads (catalog, calendar), with the place
// it was found, so an operator can go straight to the line.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace ow::cases {

struct DataProblem {
    std::string file;
    int line = 0;   ///< 1-based; 0 when the problem is about the whole file
    int column = 0; ///< 1-based
    std::string message;

    /// "file:line:column: message" (or "file: message").
    [[nodiscard]] std::string str() const {
        if (line <= 0) return file + ": " + message;
        return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
    }
};

/// Thrown when a data set cannot be used; what() lists every problem, one per line.
class DataError : public std::runtime_error {
public:
    explicit DataError(std::vector<DataProblem> problems)
        : std::runtime_error(join(problems)), problems_(std::move(problems)) {}
    [[nodiscard]] const std::vector<DataProblem>& problems() const { return problems_; }

private:
    static std::string join(const std::vector<DataProblem>& problems) {
        std::string out;
        for (const auto& p : problems)
            out += (out.empty() ? "" : "\n") + p.str();
        return out;
    }
    std::vector<DataProblem> problems_;
};

} // namespace ow::cases
