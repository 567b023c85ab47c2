// The cryptography of the audit trail: the hash that links each record to the one before
// (SHA-256, or SM3 for the national-algorithm profile) and the signature of checkpoints
// (Ed25519, or SM2 with SM3 and the GM/T 0009 default distinguishing ID). Keys are PEM files;
// the kind of key decides the signature algorithm.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ow::audit {

enum class HashAlgorithm { Sha256, Sm3 };

/// "sha256" or "sm3".
const char* toString(HashAlgorithm h);
std::optional<HashAlgorithm> hashAlgorithmNamed(std::string_view name);

/// The digest of `data` (32 bytes for both algorithms).
std::string digest(HashAlgorithm h, std::string_view data);

/// Lower-case hex of `bytes`; and back (nullopt for anything that is not even-length hex).
std::string toHex(std::string_view bytes);
std::optional<std::string> fromHex(std::string_view hex);

/// A checkpoint signing key (private) or its public half, loaded from a PEM file.
class SigningKey {
public:
    ~SigningKey();
    SigningKey(const SigningKey&) = delete;
    SigningKey& operator=(const SigningKey&) = delete;

    /// Loads a private key (PKCS#8 PEM, as `openssl genpkey` writes) or, with `publicOnly`,
    /// a public key or the public half of a private key. On failure: nullptr and `error`
    /// says what is wrong with the file (unreadable, not PEM, not Ed25519 or SM2).
    static std::unique_ptr<SigningKey> load(const std::string& path, bool publicOnly,
                                            std::string& error);

    /// "ed25519" or "sm2".
    [[nodiscard]] const char* algorithm() const;
    /// SHA-256 of the public key (DER), hex, first 16 characters: names the key in records.
    [[nodiscard]] const std::string& keyId() const { return keyId_; }
    /// Signs `message`; throws std::runtime_error if OpenSSL fails.
    [[nodiscard]] std::string sign(std::string_view message) const;
    [[nodiscard]] bool verify(std::string_view message, std::string_view signature) const;

private:
    SigningKey() = default;
    struct Pkey;
    std::unique_ptr<Pkey> key_;
    bool sm2_ = false;
    bool private_ = false;
    std::string keyId_;
};

} // namespace ow::audit
