// The services the hub hands one plugin instance (sdk::Services): a logger and metrics that
// carry the plugin and instance names, the hub's clock, an HTTP client (with the TLS settings
// of the sink's output or the source's input), secrets from the environment, and the
// instance's validated config.
#pragma once

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/config/HubConfig.h"
#include "core/observability/Metrics.h"
#include "core/util/Clock.h"
#include "onewindow/sdk/Components.h"

namespace ow::plugin {

class HostServices {
public:
    /// `tls`: the output's (sink) or input's (source) `tls` settings (CA, client certificate for
    /// mutual TLS) that the plugin's HTTP client uses for https:// URLs; default: the system CA
    /// store, no client certificate.
    HostServices(std::string plugin, std::string instance, onewindow::sdk::Config config,
                 observability::Metrics& metrics, const util::Clock& clock,
                 config::TlsClientSettings tls = {});
    ~HostServices();
    onewindow::sdk::Services& services() { return services_; }

private:
    class Logger;
    class MetricsAdapter;
    class ClockAdapter;
    class Http;
    class Secrets;
    std::unique_ptr<Logger> log_;
    std::unique_ptr<MetricsAdapter> metrics_;
    std::unique_ptr<ClockAdapter> clock_;
    std::unique_ptr<Http> http_;
    std::unique_ptr<Secrets> secrets_;
    onewindow::sdk::Config config_;
    onewindow::sdk::Services services_;
};

} // namespace ow::plugin
