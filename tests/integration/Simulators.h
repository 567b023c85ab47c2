// Department simulators (tools/*-sim) as the adapter tests run them: started on a port of
// their own choosing (they write it to a file), stopped by PID, their summary line read back.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/HubFixture.h"

namespace ow::itest {

class Simulator {
public:
    /// Runs ow-`tool` with `args`. With `picksPort`, it also gets --port 0 --port-file and is
    /// waited for until it serves; without, `args` say everything (a file to work on, or a
    /// port fixed beforehand).
    Simulator(const testkit::TempDir& dir, const std::string& tool, std::vector<std::string> args,
              bool picksPort = true)
        : out_(dir.file(tool + ".out")) {
        const std::string portFile = dir.file(tool + ".port");
        args.insert(args.begin(), itest::tool(tool));
        if (picksPort) args.insert(args.end(), {"--port", "0", "--port-file", portFile});
        process_ = testkit::Process::spawn(args, {}, out_, dir.file(tool + ".err"));
        if (!picksPort) return;
        REQUIRE(testkit::waitUntil([&] { return !testkit::readFile(portFile).empty(); },
                                   std::chrono::seconds(10)));
        url_ = "http://127.0.0.1:" + std::to_string(std::stoi(testkit::readFile(portFile)));
    }

    /// "http://127.0.0.1:<port>" followed by `path`.
    [[nodiscard]] std::string url(const std::string& path = "") const { return url_ + path; }

    /// Stops it (SIGTERM) and returns the summary line it printed.
    nlohmann::json stop() {
        process_.stop();
        return nlohmann::json::parse(testkit::readFile(out_));
    }

private:
    std::string out_, url_;
    testkit::Process process_;
};

} // namespace ow::itest
