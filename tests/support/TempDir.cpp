#include "tests/support/TempDir.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace ow::testkit {

namespace {

std::string tempRoot() {
    const char* env = std::getenv("TMPDIR");
    if (env != nullptr && *env != '\0') {
        return env;
    }
    return "/tmp";
}

bool keepRequested() {
    const char* env = std::getenv("OW_KEEP_TMP");
    return env != nullptr && std::string(env) == "1";
}

} // namespace

TempDir::TempDir(const std::string& prefix) {
    std::string pattern = tempRoot() + "/" + prefix + "-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = buffer.data();
}

TempDir::~TempDir() {
    remove();
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::move(other.path_);
        other.path_.clear();
    }
    return *this;
}

std::string TempDir::file(const std::string& relative) const {
    return path_ + "/" + relative;
}

std::string TempDir::writeFile(const std::string& relative, const std::string& content) const {
    const std::filesystem::path full = file(relative);
    std::filesystem::create_directories(full.parent_path());
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
        throw std::runtime_error("cannot write " + full.string());
    }
    return full.string();
}

void TempDir::remove() noexcept {
    if (path_.empty()) {
        return;
    }
    if (keepRequested()) {
        std::cerr << "OW_KEEP_TMP=1: keeping " << path_ << "\n";
    } else {
        // Never throw from a destructor: a leftover folder is better than a terminate().
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    path_.clear();
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

} // namespace ow::testkit
