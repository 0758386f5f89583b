#pragma once
// An error the studio answers with a specific HTTP status and code ("too_large", "not_found", ...).
// Library errors (impasto::Error) keep their own codes and map to 400/500 in the routes.
#include "impasto/error.h"

#include <string>

namespace impasto::studio {

class StudioError : public Error {
  public:
    StudioError(int status, std::string code, const std::string& message)
        : Error(message), status_(status), code_(std::move(code)) {}
    int status() const noexcept { return status_; }
    const char* code() const noexcept override { return code_.c_str(); }

  private:
    int status_;
    std::string code_;
};

} // namespace impasto::studio
