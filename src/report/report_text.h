#pragma once
// Text helpers for the study report: HTML escaping, base64, number formats for captions.
#include <cstddef>
#include <cstdint>
#include <string>

namespace impasto::report {

// Escapes & < > " ' so that the text is safe in element content and in quoted attributes.
std::string html_escape(const std::string& text);

// RFC 4648 base64 with padding.
std::string base64_encode(const std::uint8_t* data, std::size_t size);

// A loss or other metric in 3 significant digits ("1.23e+05", "0.0412"); "–" when not finite.
std::string format_metric(double value);
// Seconds with a precision fit for tables ("0.42", "12.3", "1234").
std::string format_seconds(double seconds);
// Bytes as MiB with one decimal; "–" when unknown (0 or negative).
std::string format_mib(std::int64_t bytes);

} // namespace impasto::report
