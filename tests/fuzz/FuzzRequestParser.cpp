// libFuzzer target: the HTTP request parser must never crash, and must read the same bytes the
// same way whether they arrive at once or in small pieces (a difference would be a framing bug).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/transport/http/RequestParser.h"

using ow::transport::http::ParseLimits;
using ow::transport::http::RequestParser;

namespace {

struct Outcome {
    std::vector<std::string> requests; // method, target and body of each complete request
    int errorStatus = 0;
    // Which refusal is reported may depend on how much was seen (a partial over-long line is
    // 414 before its syntax can be judged); that it is refused, and after which requests, may not.
    bool operator==(const Outcome& o) const {
        return requests == o.requests && (errorStatus == 0) == (o.errorStatus == 0);
    }
};

Outcome parseAll(std::string_view input, std::size_t piece) {
    ParseLimits limits;
    limits.maxHeaderBytes = 2048;
    limits.maxBodyBytes = 4096;
    limits.maxTargetBytes = 512;
    RequestParser parser(limits);
    Outcome out;
    std::string pending;
    std::size_t offered = 0;
    while (true) {
        if (offered < input.size()) {
            std::size_t n = std::min(piece, input.size() - offered);
            pending.append(input.substr(offered, n));
            offered += n;
        }
        std::size_t used = 0;
        auto r = parser.feed(pending, used);
        pending.erase(0, used);
        if (r == RequestParser::Result::Error) {
            out.errorStatus = parser.error().status;
            return out;
        }
        if (r == RequestParser::Result::Complete) {
            const auto& q = parser.request();
            out.requests.push_back(q.method + " " + q.target + " " + q.body);
            parser.reset();
            continue;
        }
        if (offered == input.size() && (r == RequestParser::Result::NeedMore || used == 0))
            return out;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    Outcome whole = parseAll(input, input.size() + 1);
    Outcome pieces = parseAll(input, 1 + (size % 7));
    if (!(whole == pieces)) std::abort();
    return 0;
}
