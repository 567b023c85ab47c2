// The secrets the shipped center configuration (config/center/) needs, made up for a test:
// every unit's channel token (OW_SECRETS_DIR/dept-<id>.token) and the hall broker's password.
#pragma once

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/TempDir.h"

namespace ow::itest {

/// The ids of the hall's 34 units, from config/units.yaml.
inline std::vector<std::string> unitIds() {
    std::vector<std::string> ids;
    std::ifstream units(std::string(OW_SOURCE_DIR) + "/config/units.yaml");
    for (std::string line; std::getline(units, line);) {
        const auto at = line.find("{ id: ");
        if (at == std::string::npos) continue;
        const auto end = line.find(',', at);
        ids.push_back(line.substr(at + 6, end - at - 6));
        while (!ids.back().empty() && ids.back().back() == ' ')
            ids.back().pop_back();
    }
    return ids;
}

/// Writes a token file per unit into `dir` (the folder OW_SECRETS_DIR names); returns them.
inline std::map<std::string, std::string> writeUnitTokens(const testkit::TempDir& dir) {
    std::map<std::string, std::string> tokens;
    for (const auto& id : unitIds()) {
        tokens[id] = "channel-token-of-" + id + "-2026";
        std::ofstream(dir.file("dept-" + id + ".token")) << tokens[id] << "\n";
    }
    return tokens;
}

/// Every plugin the center's files load, as `firstPartyPluginDir` wants them.
inline const std::vector<std::string>& centerPlugins() {
    static const std::vector<std::string> files = {"cases.so",
                                                   "fees.so",
                                                   "intranet-platform.so",
                                                   "e-supervision.so",
                                                   "industry-commerce.so",
                                                   "public-security.so",
                                                   "land-resources.so",
                                                   "post.so",
                                                   "utility-accounts.so"};
    return files;
}

/// The environment the center's files need besides addresses: its secrets, with the units'
/// token files in `secrets` (see writeUnitTokens) and 公安局's TLS files from `pki`
/// (makeCertificates).
inline std::vector<std::pair<std::string, std::string>>
centerSecrets(const testkit::TempDir& secrets, const testkit::TempDir& pki) {
    return {{"OW_PLATFORM_TOKEN", "platform-token-2026-03"},
            {"OW_UNITS_TOKEN", "units-token-2026-03-02"},
            {"OW_TERMINAL_01_KEY", "cib-terminal-01-key-2026"},
            {"OW_FEE_CHECK_KEY", "check-code-key-of-the-test-day"},
            {"OW_GS_TOKEN", "gs-token-2026-03-02"},
            {"OW_EMS_KEY", "ems-key-2026-03-02"},
            {"OW_MQTT_PASSWORD", "hall-broker-password-2026"},
            {"OW_SECRETS_DIR", secrets.path()},
            {"OW_HOME", OW_SOURCE_DIR},
            {"OW_GONGAN_CA", pki.file("ca.crt")},
            {"OW_GONGAN_CERT", pki.file("client.crt")},
            {"OW_GONGAN_KEY", pki.file("client.key")}};
}

} // namespace ow::itest
