#include "core/audit/AuditCrypto.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <stdexcept>

namespace ow::audit {
namespace {

// GM/T 0009's default distinguishing ID: other SM2 implementations use it too, and OpenSSL
// 3.0 signs with an empty ID unless told, which no other implementation would verify.
constexpr std::string_view Sm2Id = "1234567812345678";
constexpr std::size_t MaxKeyFileBytes = 64 * 1024;

struct MdCtx {
    EVP_MD_CTX* p = EVP_MD_CTX_new();
    ~MdCtx() { EVP_MD_CTX_free(p); }
};

} // namespace

struct SigningKey::Pkey {
    EVP_PKEY* p = nullptr;
    ~Pkey() { EVP_PKEY_free(p); }
};

const char* toString(HashAlgorithm h) {
    return h == HashAlgorithm::Sm3 ? "sm3" : "sha256";
}

std::optional<HashAlgorithm> hashAlgorithmNamed(std::string_view name) {
    if (name == "sha256") return HashAlgorithm::Sha256;
    if (name == "sm3") return HashAlgorithm::Sm3;
    return std::nullopt;
}

std::string digest(HashAlgorithm h, std::string_view data) {
    const EVP_MD* md = h == HashAlgorithm::Sm3 ? EVP_sm3() : EVP_sha256();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!md || !EVP_Digest(data.data(), data.size(), out, &length, md, nullptr))
        throw std::runtime_error(std::string("the ") + toString(h) +
                                 " digest is not available in this OpenSSL");
    return std::string(reinterpret_cast<const char*>(out), length);
}

std::string toHex(std::string_view bytes) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}

std::optional<std::string> fromHex(std::string_view hex) {
    if (hex.size() % 2) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi << 4 | lo));
    }
    return out;
}

SigningKey::~SigningKey() = default;

std::unique_ptr<SigningKey> SigningKey::load(const std::string& path, bool publicOnly,
                                             std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read the key file";
        return nullptr;
    }
    std::string pem(MaxKeyFileBytes + 1, '\0');
    in.read(pem.data(), static_cast<std::streamsize>(pem.size()));
    pem.resize(static_cast<std::size_t>(in.gcount()));
    if (pem.size() > MaxKeyFileBytes) {
        error = "the key file is larger than 64 KiB: not a key";
        return nullptr;
    }
    std::unique_ptr<SigningKey> key(new SigningKey());
    key->key_ = std::make_unique<Pkey>();
    auto read = [&](bool priv) {
        BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        EVP_PKEY* p = priv ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr)
                           : PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        return p;
    };
    key->key_->p = read(true);
    key->private_ = key->key_->p != nullptr;
    if (!key->key_->p && publicOnly) key->key_->p = read(false);
    if (!key->key_->p) {
        error = publicOnly ? "the file holds no PEM private or public key"
                           : "the file holds no PEM private key (make one with: openssl genpkey "
                             "-algorithm ED25519 -out FILE)";
        return nullptr;
    }
    EVP_PKEY* p = key->key_->p;
    const bool ed25519 = EVP_PKEY_is_a(p, "ED25519");
    char group[64] = {0};
    std::size_t groupLen = 0;
    key->sm2_ =
        EVP_PKEY_is_a(p, "SM2") ||
        (EVP_PKEY_is_a(p, "EC") && EVP_PKEY_get_group_name(p, group, sizeof group, &groupLen) &&
         std::string_view(group, groupLen) == "SM2");
    if (!ed25519 && !key->sm2_) {
        error = std::string("the key is ") + EVP_PKEY_get0_type_name(p) +
                "; audit checkpoints are signed with Ed25519 or SM2 keys";
        return nullptr;
    }
    unsigned char* der = nullptr;
    const int derLen = i2d_PUBKEY(p, &der);
    if (derLen <= 0) {
        error = "cannot encode the public key";
        return nullptr;
    }
    key->keyId_ =
        toHex(digest(HashAlgorithm::Sha256, std::string_view(reinterpret_cast<char*>(der),
                                                             static_cast<std::size_t>(derLen))))
            .substr(0, 16);
    OPENSSL_free(der);
    return key;
}

const char* SigningKey::algorithm() const {
    return sm2_ ? "sm2" : "ed25519";
}

std::string SigningKey::sign(std::string_view message) const {
    if (!private_) throw std::runtime_error("a public key cannot sign");
    MdCtx ctx;
    EVP_PKEY_CTX* pctx = nullptr;
    if (!ctx.p || EVP_DigestSignInit_ex(ctx.p, &pctx, sm2_ ? "SM3" : nullptr, nullptr, nullptr,
                                        key_->p, nullptr) != 1)
        throw std::runtime_error("cannot start an audit checkpoint signature");
    if (sm2_ && EVP_PKEY_CTX_set1_id(pctx, Sm2Id.data(), Sm2Id.size()) != 1)
        throw std::runtime_error("cannot set the SM2 distinguishing ID");
    std::size_t length = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(message.data());
    if (EVP_DigestSign(ctx.p, nullptr, &length, data, message.size()) != 1)
        throw std::runtime_error("cannot size the audit checkpoint signature");
    std::string sig(length, '\0');
    if (EVP_DigestSign(ctx.p, reinterpret_cast<unsigned char*>(sig.data()), &length, data,
                       message.size()) != 1)
        throw std::runtime_error("cannot sign the audit checkpoint");
    sig.resize(length);
    return sig;
}

bool SigningKey::verify(std::string_view message, std::string_view signature) const {
    MdCtx ctx;
    EVP_PKEY_CTX* pctx = nullptr;
    if (!ctx.p || EVP_DigestVerifyInit_ex(ctx.p, &pctx, sm2_ ? "SM3" : nullptr, nullptr, nullptr,
                                          key_->p, nullptr) != 1)
        return false;
    if (sm2_ && EVP_PKEY_CTX_set1_id(pctx, Sm2Id.data(), Sm2Id.size()) != 1) return false;
    return EVP_DigestVerify(
               ctx.p, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
               reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

} // namespace ow::audit
