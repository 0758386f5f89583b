#pragma once
// A small RAII layer over the SQLite C API for the studio's stores. Every failure throws
// impasto::OutputError naming what was being done and SQLite's own message; a full disk, a lock
// held too long and I/O failures throw its subclass StorageError (server/storage_error.h).
//
// A Database is one connection; it is not safe to share between threads without a lock, so each
// store keeps its own connection behind its own mutex. Several connections (and processes) may
// use the same file at once: the file is in WAL mode and writers wait up to busy_timeout_ms.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

// The C API's handles, declared here so that users of this header need not see <sqlite3.h>.
struct sqlite3;
struct sqlite3_stmt;

namespace impasto::studio::sqlite {

struct ConnectionCloser {
    void operator()(sqlite3* connection) const noexcept;
};
struct StatementFinalizer {
    void operator()(sqlite3_stmt* statement) const noexcept;
};

class Database {
  public:
    static constexpr int busy_timeout_ms = 5000;

    // Opens the file, creating it when absent (its folder must exist), with WAL journaling, full
    // synchronous commits and foreign keys on.
    explicit Database(const std::filesystem::path& path);

    Database(Database&&) noexcept = default;
    Database& operator=(Database&&) noexcept = default;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database() = default;

    // Runs one or more statements that return no rows. `what` goes into the error message.
    void exec(const std::string& sql, const std::string& what = "running SQL");

    // PRAGMA integrity_check says "ok".
    bool integrity_ok();

    // The schema version, kept in PRAGMA user_version (0 for a new file).
    int schema_version();

    // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    std::int64_t changes() const;

    sqlite3* handle() const { return connection_.get(); }
    const std::filesystem::path& path() const { return path_; }

    // Throws OutputError "<what>: <SQLite's message> (database '<path>')", or StorageError for
    // SQLITE_FULL, SQLITE_BUSY/LOCKED and I/O-class failures.
    [[noreturn]] void raise(const std::string& what) const;

  private:
    std::filesystem::path path_;
    std::unique_ptr<sqlite3, ConnectionCloser> connection_;
};

// One prepared statement. Bind indices are 1-based and column indices 0-based, as in SQLite.
class Statement {
  public:
    Statement(Database& database, const std::string& sql);

    Statement(Statement&&) noexcept = default;
    Statement& operator=(Statement&&) noexcept = default;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement() = default;

    Statement& bind(int index, const std::string& value);
    Statement& bind(int index, const char* value);
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind_null(int index);

    // Advances to the next row: true when there is one, false when the statement is done.
    bool step();
    // Steps a statement that returns no rows (INSERT, UPDATE, ...).
    void run();
    // Makes the statement ready to step again; bindings are kept.
    void reset();

    std::string column_text(int column) const; // "" for NULL
    std::int64_t column_int64(int column) const;
    double column_double(int column) const;
    bool column_is_null(int column) const;

  private:
    [[noreturn]] void raise(const std::string& what) const;
    void check_bind(int result, int index);

    Database* database_;
    std::string sql_;
    std::unique_ptr<sqlite3_stmt, StatementFinalizer> statement_;
};

// BEGIN IMMEDIATE on construction, so the write lock is taken before anything is read: two
// connections cannot both read a row and then both change it. Rolls back unless commit() ran.
class Transaction {
  public:
    explicit Transaction(Database& database);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();

    void commit();

  private:
    Database& database_;
    bool open_ = true;
};

// Brings the schema up to date: migration i turns version i into version i + 1, and each runs
// at most once per file, in one transaction with setting the new version. A file whose version
// is newer than the list (written by a later impasto) is refused rather than misread.
void migrate(Database& database, const std::vector<std::string>& migrations);

// The studio's database: jobs and votes in one file. Opens it and migrates it to the current
// schema; every store opens its connection through this.
Database open_studio_database(const std::filesystem::path& path);
// The same on a connection the caller opened.
void migrate_studio_database(Database& database);

} // namespace impasto::studio::sqlite
