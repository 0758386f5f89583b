#pragma once
// Every error the library raises derives from impasto::Error. The CLI and the server turn
// them into one line (or a JSON body) and an exit code; the library itself never prints.
#include <stdexcept>
#include <string>

namespace impasto {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    // Stable short code for exit statuses and JSON errors ("input", "weights", ...).
    virtual const char* code() const noexcept { return "error"; }
};

// The caller passed a bad value: unknown layer, negative weight, size 0, bad path.
class ConfigError : public Error {
public:
    using Error::Error;
    const char* code() const noexcept override { return "config"; }
};

// An image or other input file is missing, empty, truncated or not what it claims to be.
class InputError : public Error {
public:
    using Error::Error;
    const char* code() const noexcept override { return "input"; }
};

// Weights are not installed, fail their checksum, or have an unexpected layout.
class WeightsError : public Error {
public:
    using Error::Error;
    const char* code() const noexcept override { return "weights"; }
};

// Writing an output failed (folder missing, not writable, disk full).
class OutputError : public Error {
public:
    using Error::Error;
    const char* code() const noexcept override { return "output"; }
};

// The requested work does not fit in the memory available.
class ResourceError : public Error {
public:
    using Error::Error;
    const char* code() const noexcept override { return "resource"; }
};

// Prefix an error message with what was being done, keeping the error's type.
template <class E> [[noreturn]] void rethrow_with_context(const E& error, const std::string& context) {
    throw E(context + ": " + error.what());
}

} // namespace impasto
