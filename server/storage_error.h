#pragma once
// A failure of the studio's storage that says nothing about the request: the disk is full, or the
// database is locked or failing. The server answers it with 507 or 503 and keeps running; a worker
// that meets one fails its job (or retries recording the outcome) instead of ending the process.
#include "impasto/error.h"

#include <string>

namespace impasto::studio {

class StorageError : public OutputError {
  public:
    enum class Kind {
        Full,       // no space left (SQLITE_FULL, ENOSPC, a byte quota)
        Busy,       // locked by another connection for longer than the busy timeout
        Unavailable // any other I/O or database failure
    };

    StorageError(Kind kind, const std::string& message) : OutputError(message), kind_(kind) {}

    Kind kind() const noexcept { return kind_; }
    // 507 Insufficient Storage when full, else 503 Service Unavailable: both say "not now" and
    // neither blames the request.
    int http_status() const noexcept { return kind_ == Kind::Full ? 507 : 503; }
    const char* http_code() const noexcept {
        switch (kind_) {
        case Kind::Full:
            return "storage_full";
        case Kind::Busy:
            return "busy";
        case Kind::Unavailable:
            break;
        }
        return "unavailable";
    }

  private:
    Kind kind_;
};

} // namespace impasto::studio
