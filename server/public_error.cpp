#include "server/public_error.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace impasto::studio {

namespace {

constexpr const char* kDatabaseFailed = "the studio's database could not complete the request";

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool contains_word(const std::string& text, std::string_view word) {
    for (std::size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        const bool starts = at == 0 || !is_word_char(text[at - 1]);
        const std::size_t end = at + word.size();
        if (starts && (end == text.size() || !is_word_char(text[end]))) {
            return true;
        }
    }
    return false;
}

bool is_about_the_database(std::string_view message) {
    const std::string text = lower(message);
    static constexpr std::array<std::string_view, 10> kFragments{
        "sqlite",      "constraint failed", "no such table", "no such column", "syntax error",
        "insert into", "delete from",       "create table",  "select ",        "pragma "};
    for (const std::string_view fragment : kFragments) {
        if (text.find(fragment) != std::string::npos) {
            return true;
        }
    }
    return contains_word(text, "sql") || contains_word(text, "database");
}

// A '/' starts a path unless it continues a word ("image/png", "multipart/form-data", "1/2").
bool starts_path(std::string_view text, std::size_t at) {
    if (text[at] != '/' || at + 1 >= text.size() || std::isspace(static_cast<unsigned char>(text[at + 1])) != 0) {
        return false;
    }
    if (at == 0) {
        return true;
    }
    const char before = text[at - 1];
    return !(is_word_char(before) || before == '.' || before == '-' || before == '~' || before == '/');
}

bool ends_path(std::string_view text, std::size_t at) {
    const char c = text[at];
    return std::isspace(static_cast<unsigned char>(c)) != 0 || c == ')' || c == ']' || c == ',' || c == ';' ||
           c == '\'' || c == '"' || (c == ':' && (at + 1 == text.size() || text[at + 1] == ' '));
}

// The end of the word starting at `at` (a run of characters that could be inside a path).
std::size_t word_end(std::string_view text, std::size_t at) {
    while (at < text.size() && !ends_path(text, at)) {
        ++at;
    }
    return at;
}

// Where the path starting at `at` ends: at the closing quote when it is quoted, otherwise at white
// space, a closing bracket, a comma, a semicolon or ": ". An unquoted path with spaces in it
// ("/srv/My Big Studio/uploads/u_1.png") goes on through a following word that holds a '/' when it
// comes within kPathWords words.
std::size_t path_end(std::string_view text, std::size_t at) {
    constexpr int kPathWords = 3;
    const char before = at > 0 ? text[at - 1] : '\0';
    if (before == '\'' || before == '"' || before == '`') {
        const std::size_t close = text.find(before, at);
        return close == std::string_view::npos ? text.size() : close;
    }
    std::size_t end = word_end(text, at);
    bool extended = true;
    while (extended) {
        extended = false;
        std::size_t next = end;
        for (int word = 0; word < kPathWords && next < text.size() && text[next] == ' ' && next + 1 < text.size() &&
                           text[next + 1] != '/' && text[next + 1] != ' ';
             ++word) {
            const std::size_t start = next + 1;
            next = word_end(text, start);
            if (text.substr(start, next - start).find('/') != std::string_view::npos) {
                end = next;
                extended = true;
                break;
            }
        }
    }
    return end;
}

std::string last_component(std::string_view path) {
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    const std::size_t slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    return name.empty() ? std::string("…") : std::string(name);
}

} // namespace

std::string public_error_message(std::string_view message) {
    if (is_about_the_database(message)) {
        return kDatabaseFailed;
    }
    std::string out;
    out.reserve(message.size());
    std::size_t at = 0;
    while (at < message.size()) {
        if (starts_path(message, at)) {
            const std::size_t end = path_end(message, at);
            out += last_component(message.substr(at, end - at));
            at = end;
        } else {
            out += message[at++];
        }
    }
    return out;
}

void scrub_error_objects(nlohmann::json& value) {
    if (value.is_object()) {
        for (auto it = value.begin(); it != value.end(); ++it) {
            nlohmann::json& item = it.value();
            if (it.key() == "error" && item.is_object() && item.contains("message") && item["message"].is_string()) {
                item["message"] = public_error_message(item["message"].get<std::string>());
            }
            scrub_error_objects(item);
        }
    } else if (value.is_array()) {
        for (auto& item : value) {
            scrub_error_objects(item);
        }
    }
}

} // namespace impasto::studio
