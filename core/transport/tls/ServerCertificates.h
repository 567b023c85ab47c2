// The listener's certificate, key and client CA, replaceable while the hub runs: SIGHUP reads
// the files again (a renewed certificate, a new client CA) and every TLS handshake from then
// on uses them; connections already open keep what they were set up with. OpenSSL asks for
// the certificate per handshake (SSL_CTX_set_cert_cb), so the context the listening socket was
// made with never changes under it.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "core/config/HubConfig.h"

struct ssl_ctx_st;
struct ssl_st;

namespace ow::transport::tls {

class ServerCertificates {
public:
    /// Loads the files of `settings` (cert_file with its chain, key_file, client_ca_file);
    /// throws std::runtime_error naming the file and what is wrong with it.
    explicit ServerCertificates(const config::TlsServerSettings& settings);
    ~ServerCertificates();
    ServerCertificates(const ServerCertificates&) = delete;
    ServerCertificates& operator=(const ServerCertificates&) = delete;

    /// Makes `ctx` ask this object for its certificate at every handshake. Call once, before
    /// the listener accepts; this object must outlive the context's connections.
    void attach(ssl_ctx_st* ctx);
    /// Loads `settings` again; on success the next handshakes use them, on failure (thrown,
    /// with the reason) the current ones stay.
    void reload(const config::TlsServerSettings& settings);

    /// The material of one generation of the files (the OpenSSL objects).
    struct Material;

private:
    static int onHandshake(::ssl_st* ssl, void* self);
    [[nodiscard]] std::shared_ptr<const Material> current() const;

    mutable std::mutex mu_;
    std::shared_ptr<const Material> material_;
};

} // namespace ow::transport::tls
