#pragma once
// What an error may tell a client. The library's messages carry context meant for the person at
// the terminal: absolute paths (the data folder, uploads, /usr/...) and, from the database layer,
// SQL and SQLite's own words. A reply keeps the message's sense and drops those.
//
// - An absolute path becomes its last component: "loading '/srv/x/uploads/u_1.png': truncated"
//   reads "loading 'u_1.png': truncated". The server makes its folders absolute (StudioServer),
//   so every path it can name is caught by this rule.
// - A message about the database (SQLite, SQL, constraints, "database ...") is replaced as a
//   whole by a fixed sentence: its parts cannot be told apart safely.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace impasto::studio {

std::string public_error_message(std::string_view message);

// Rewrites, in place and at any depth, the "message" of every {"error": {"message": ...}} object:
// a job's stored failure travels inside job JSON and event streams as well as in error replies.
void scrub_error_objects(nlohmann::json& value);

} // namespace impasto::studio
