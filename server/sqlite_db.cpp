#include "server/sqlite_db.h"

#include "impasto/error.h"
#include "server/storage_error.h"

#include <sqlite3.h>

namespace impasto::studio::sqlite {

void ConnectionCloser::operator()(sqlite3* connection) const noexcept {
    // sqlite3_close_v2 defers the close until any statement still alive is finalised.
    sqlite3_close_v2(connection);
}

void StatementFinalizer::operator()(sqlite3_stmt* statement) const noexcept {
    sqlite3_finalize(statement);
}

Database::Database(const std::filesystem::path& path) : path_(path) {
    sqlite3* raw = nullptr;
    // FULLMUTEX makes each call safe; a sequence of calls (step, then changes()) still needs the store's lock.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    const int result = sqlite3_open_v2(path.string().c_str(), &raw, flags, nullptr);
    // Even a failed open may hand back a connection, which then carries the error message.
    connection_.reset(raw);
    if (result != SQLITE_OK) {
        if (raw == nullptr) {
            throw OutputError("opening database '" + path.string() + "': " + sqlite3_errstr(result));
        }
        raise("opening database");
    }
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    // WAL: readers never block the writer, and a commit is one append to the log. FULL makes
    // that append reach the disk before COMMIT returns, so a job the API acknowledged survives a
    // power cut, not only a crash of the process.
    Statement journal(*this, "PRAGMA journal_mode=WAL");
    if (!journal.step() || journal.column_text(0) != "wal") {
        throw OutputError("opening database '" + path.string() + "': it cannot use write-ahead logging");
    }
    exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", "setting up the connection");
}

// Not const, though no member changes: the database does.
// NOLINTNEXTLINE(readability-make-member-function-const)
void Database::exec(const std::string& sql, const std::string& what) {
    if (sqlite3_exec(handle(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        raise(what);
    }
}

bool Database::integrity_ok() {
    Statement check(*this, "PRAGMA integrity_check");
    // One row "ok" when sound; otherwise one row per problem found.
    return check.step() && check.column_text(0) == "ok" && !check.step();
}

int Database::schema_version() {
    Statement version(*this, "PRAGMA user_version");
    version.step();
    return static_cast<int>(version.column_int64(0));
}

std::int64_t Database::changes() const {
    return sqlite3_changes64(handle());
}

void Database::raise(const std::string& what) const {
    const std::string message = what + ": " + sqlite3_errmsg(handle()) + " (database '" + path_.string() + "')";
    // The primary code (the low byte) names the class: SQLITE_IOERR_WRITE is an SQLITE_IOERR.
    switch (sqlite3_extended_errcode(handle()) & 0xff) {
    case SQLITE_FULL:
        throw StorageError(StorageError::Kind::Full, message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        throw StorageError(StorageError::Kind::Busy, message);
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        throw StorageError(StorageError::Kind::Unavailable, message);
    default:
        throw OutputError(message);
    }
}

Statement::Statement(Database& database, const std::string& sql) : database_(&database), sql_(sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(database.handle(), sql.c_str(), static_cast<int>(sql.size() + 1), &raw, nullptr) !=
        SQLITE_OK) {
        raise("preparing");
    }
    statement_.reset(raw);
}

void Statement::raise(const std::string& what) const {
    database_->raise(what + " '" + sql_ + "'");
}

void Statement::check_bind(int result, int index) {
    if (result != SQLITE_OK) {
        raise("binding parameter " + std::to_string(index) + " of");
    }
}

Statement& Statement::bind(int index, const std::string& value) {
    check_bind(sqlite3_bind_text64(statement_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
               index);
    return *this;
}

Statement& Statement::bind(int index, const char* value) {
    return bind(index, std::string(value));
}

Statement& Statement::bind(int index, std::int64_t value) {
    check_bind(sqlite3_bind_int64(statement_.get(), index, value), index);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    check_bind(sqlite3_bind_double(statement_.get(), index, value), index);
    return *this;
}

Statement& Statement::bind_null(int index) {
    check_bind(sqlite3_bind_null(statement_.get(), index), index);
    return *this;
}

bool Statement::step() {
    const int result = sqlite3_step(statement_.get());
    if (result == SQLITE_ROW) {
        return true;
    }
    if (result == SQLITE_DONE) {
        return false;
    }
    raise("running");
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(statement_.get());
}

std::string Statement::column_text(int column) const {
    const auto* text = sqlite3_column_text(statement_.get(), column);
    if (text == nullptr) {
        return {};
    }
    // Ask for the size after the text: the text call may convert the value and change its size.
    const int size = sqlite3_column_bytes(statement_.get(), column);
    return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)};
}

std::int64_t Statement::column_int64(int column) const {
    return sqlite3_column_int64(statement_.get(), column);
}

double Statement::column_double(int column) const {
    return sqlite3_column_double(statement_.get(), column);
}

bool Statement::column_is_null(int column) const {
    return sqlite3_column_type(statement_.get(), column) == SQLITE_NULL;
}

Transaction::Transaction(Database& database) : database_(database) {
    database_.exec("BEGIN IMMEDIATE", "starting a transaction");
}

Transaction::~Transaction() {
    if (open_) {
        // No error can be reported from here; a failed rollback leaves SQLite to roll the
        // transaction back itself when the connection closes or the next BEGIN fails loudly.
        sqlite3_exec(database_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void Transaction::commit() {
    database_.exec("COMMIT", "committing a transaction");
    open_ = false;
}

void migrate(Database& database, const std::vector<std::string>& migrations) {
    Transaction transaction(database);
    const int known = static_cast<int>(migrations.size());
    const int version = database.schema_version();
    if (version > known) {
        throw OutputError("database '" + database.path().string() + "' has schema version " + std::to_string(version) +
                          ", newer than this impasto understands (" + std::to_string(known) + ")");
    }
    for (int step = version; step < known; ++step) {
        database.exec(migrations[static_cast<std::size_t>(step)],
                      "migrating the schema to version " + std::to_string(step + 1));
    }
    if (version != known) {
        // PRAGMA takes no bound parameters; the number is ours, not user input.
        database.exec("PRAGMA user_version=" + std::to_string(known), "setting the schema version");
    }
    transaction.commit();
}

namespace {

// Append only: a released version's migration never changes; a new column is a new entry.
// Each table keeps an AUTOINCREMENT sequence so that "oldest" and "newest" are exact even when
// two rows share a millisecond, and so a deleted row's number is never reused.
const std::vector<std::string>& studio_migrations() {
    static const std::vector<std::string> migrations = {
        R"sql(
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    request_json TEXT NOT NULL,
    content_id TEXT NOT NULL,
    settings_key TEXT NOT NULL,
    progress_json TEXT NOT NULL DEFAULT '',
    result_json TEXT NOT NULL DEFAULT '',
    error_code TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    started_ms INTEGER NOT NULL DEFAULT 0,
    finished_ms INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs (state, seq);
CREATE INDEX jobs_by_content ON jobs (content_id, seq);
CREATE TABLE votes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    job_a TEXT NOT NULL,
    job_b TEXT NOT NULL,
    winner TEXT NOT NULL CHECK (winner IN ('a', 'b')),
    settings_a TEXT NOT NULL,
    settings_b TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX votes_by_pair ON votes (job_a, job_b);
)sql",
        // 2: who submitted a job (per-client limits) and its idempotency key; the labels of voted
        // settings, so that a ranking still names them after their jobs are deleted.
        R"sql(
ALTER TABLE jobs ADD COLUMN client TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN idempotency_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs (idempotency_key) WHERE idempotency_key != '';
CREATE INDEX jobs_by_client ON jobs (client, state);
ALTER TABLE votes ADD COLUMN label_a TEXT NOT NULL DEFAULT '';
ALTER TABLE votes ADD COLUMN label_b TEXT NOT NULL DEFAULT '';
ALTER TABLE votes ADD COLUMN method_a TEXT NOT NULL DEFAULT '';
ALTER TABLE votes ADD COLUMN method_b TEXT NOT NULL DEFAULT '';
)sql",
    };
    return migrations;
}

} // namespace

void migrate_studio_database(Database& database) {
    migrate(database, studio_migrations());
}

Database open_studio_database(const std::filesystem::path& path) {
    Database database(path);
    migrate_studio_database(database);
    return database;
}

} // namespace impasto::studio::sqlite
