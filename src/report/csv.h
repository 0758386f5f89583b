#pragma once
// CSV fields (RFC 4180), shared by the study report's runs.csv and the studio's CSV exports.
#include <string>

namespace impasto {

// The text as one field: quoted, with quotes doubled, when it holds a comma, quote or line break.
std::string csv_field(const std::string& text);

} // namespace impasto
