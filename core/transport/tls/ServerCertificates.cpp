#include "core/transport/tls/ServerCertificates.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>

namespace ow::transport::tls {

struct ServerCertificates::Material {
    X509* cert = nullptr;
    STACK_OF(X509) * chain = nullptr;
    EVP_PKEY* key = nullptr;
    X509_STORE* clientCas = nullptr;         // verifies client certificates (mutual TLS)
    STACK_OF(X509_NAME) * caNames = nullptr; // sent in the certificate request
    ~Material() {
        X509_free(cert);
        sk_X509_pop_free(chain, X509_free);
        EVP_PKEY_free(key);
        X509_STORE_free(clientCas);
        sk_X509_NAME_pop_free(caNames, X509_NAME_free);
    }
};

namespace {

std::string openSslError() {
    char buf[256] = {0};
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return "not a PEM file of that kind";
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

struct Bio {
    BIO* p;
    explicit Bio(const std::string& file, const char* what) : p(BIO_new_file(file.c_str(), "r")) {
        if (!p)
            throw std::runtime_error(std::string("hub.tls.") + what + " '" + file +
                                     "': cannot read it");
    }
    ~Bio() { BIO_free(p); }
};

std::shared_ptr<const ServerCertificates::Material> load(const config::TlsServerSettings& s) {
    auto m = std::make_shared<ServerCertificates::Material>();
    {
        Bio in(s.certFile, "cert_file");
        m->cert = PEM_read_bio_X509(in.p, nullptr, nullptr, nullptr);
        if (!m->cert)
            throw std::runtime_error("hub.tls.cert_file '" + s.certFile +
                                     "': no certificate in it (" + openSslError() + ")");
        m->chain = sk_X509_new_null();
        while (X509* extra = PEM_read_bio_X509(in.p, nullptr, nullptr, nullptr))
            sk_X509_push(m->chain, extra);
        ERR_clear_error(); // the end of the file
    }
    {
        Bio in(s.keyFile, "key_file");
        m->key = PEM_read_bio_PrivateKey(in.p, nullptr, nullptr, nullptr);
        if (!m->key)
            throw std::runtime_error("hub.tls.key_file '" + s.keyFile +
                                     "': no private key in it (" + openSslError() + ")");
    }
    if (X509_check_private_key(m->cert, m->key) != 1) {
        ERR_clear_error();
        throw std::runtime_error("hub.tls.key_file '" + s.keyFile +
                                 "' is not the key of the certificate in '" + s.certFile + "'");
    }
    if (!s.clientCaFile.empty()) {
        m->clientCas = X509_STORE_new();
        if (X509_STORE_load_file(m->clientCas, s.clientCaFile.c_str()) != 1)
            throw std::runtime_error("hub.tls.client_ca_file '" + s.clientCaFile +
                                     "': no CA certificate in it (" + openSslError() + ")");
        m->caNames = SSL_load_client_CA_file(s.clientCaFile.c_str());
        if (!m->caNames)
            throw std::runtime_error("hub.tls.client_ca_file '" + s.clientCaFile +
                                     "': no CA names in it (" + openSslError() + ")");
    }
    return m;
}

} // namespace

ServerCertificates::ServerCertificates(const config::TlsServerSettings& settings)
    : material_(load(settings)) {}

ServerCertificates::~ServerCertificates() = default;

void ServerCertificates::attach(ssl_ctx_st* ctx) {
    SSL_CTX_set_cert_cb(ctx, &ServerCertificates::onHandshake, this);
}

void ServerCertificates::reload(const config::TlsServerSettings& settings) {
    auto fresh = load(settings); // throws, and nothing changes
    std::lock_guard lock(mu_);
    material_ = std::move(fresh);
}

std::shared_ptr<const ServerCertificates::Material> ServerCertificates::current() const {
    std::lock_guard lock(mu_);
    return material_;
}

int ServerCertificates::onHandshake(ssl_st* ssl, void* self) {
    const auto m = static_cast<ServerCertificates*>(self)->current();
    // The SSL object takes references of its own: it keeps working after a reload frees `m`.
    if (SSL_use_cert_and_key(ssl, m->cert, m->key, m->chain, 1) != 1) return 0;
    if (m->clientCas) {
        if (SSL_set1_verify_cert_store(ssl, m->clientCas) != 1) return 0;
        SSL_set_client_CA_list(ssl, SSL_dup_CA_list(m->caNames));
    }
    return 1;
}

} // namespace ow::transport::tls
