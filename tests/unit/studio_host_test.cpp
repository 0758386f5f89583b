// What the studio takes for "this machine": the Host header, the Origin header and --host, parsed
// as addresses and names, never matched by prefix.
#include "impasto/error.h"
#include "server/host_check.h"
#include "server/studio_options.h"

#include <gtest/gtest.h>

namespace impasto::studio {
namespace {

TEST(StudioHost, LoopbackAddressesAndNamesAreRecognised) {
    for (const char* host : {"127.0.0.1", "127.0.0.2", "127.255.255.254", "127.1.2.3", "localhost", "LOCALHOST",
                             "LocalHost", "::1", "[::1]"}) {
        EXPECT_TRUE(is_loopback_host(host)) << host;
    }
}

// Names and forms that only look like loopback: a prefix test accepted several of them.
TEST(StudioHost, LookalikesAreNotLoopback) {
    for (const char* host : {
             "127.0.0.1.evil.com", // a name under someone's domain
             "127.0.0.1.nip.io",   // wildcard DNS: resolves wherever its owner says
             "127.evil",           // a name starting with 127.
             "127.",               // incomplete
             "127.0.0.",           // three parts and a dot
             "127.0.0.1.",         // trailing dot
             "127.0.0.1.1",        // five parts
             "127.1",              // short form (inet_aton would take it)
             "127.0.1",            // short form
             "2130706433",         // 127.0.0.1 as one integer
             "0x7f.0.0.1",         // hex
             "0x7f000001",         // hex integer
             "0177.0.0.1",         // octal
             "127.000.000.001",    // leading zeros
             "127.0.0.01",         // a leading zero (octal 1 to some parsers)
             "127.0.0.256",        // out of range
             "127.0.0.-1",         // sign
             "+127.0.0.1",         // sign
             "128.0.0.1",          // not 127/8
             "126.255.255.255",    // not 127/8
             "0.0.0.0",            // every address
             "localhost.",         // trailing dot
             "localhost.evil.com", // a name under someone's domain
             "evil-localhost",     // suffix
             "localhost:8080",     // a port is no host
             "127.0.0.1:8080",     // a port is no host
             "[::1].evil",         // text after the bracket
             "[::1",               // unclosed
             "::ffff:127.0.0.1",   // IPv4-mapped: decided not loopback (never needed, never produced by a browser)
             "[::ffff:127.0.0.1]", //
             "[::ffff:7f00:1]",    //
             "0:0:0:0:0:0:0:1",    // the long form of ::1
             "[0:0:0:0:0:0:0:1]",  //
             "::",                 // every address
             " 127.0.0.1",         // white space
             "127.0.0.1 ",         //
             "127.0.0.1\t",        //
             "127.0.0.1\n",        //
             "127%2e0.0.1",        // percent-encoding
             "%31%32%37.0.0.1",    //
             "user@127.0.0.1",     // userinfo
             "127.0.0.1@evil.com", //
             "",                   //
             "١٢٧.0.0.1",          // non-ASCII digits
         }) {
        EXPECT_FALSE(is_loopback_host(host)) << "'" << host << "'";
    }
}

TEST(StudioHost, HostHeadersParseWithAnOptionalPort) {
    const auto plain = parse_authority("127.0.0.1:8765");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->host, "127.0.0.1");
    EXPECT_EQ(plain->port, 8765);
    const auto name = parse_authority("Studio.Example.COM");
    ASSERT_TRUE(name);
    EXPECT_EQ(name->host, "studio.example.com");
    EXPECT_FALSE(name->port);
    const auto v6 = parse_authority("[::1]:80");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "[::1]");
    EXPECT_EQ(v6->port, 80);
    for (const char* bad : {"",
                            ":80",
                            "127.0.0.1:",
                            "127.0.0.1:0",
                            "127.0.0.1:65536",
                            "127.0.0.1:99999",
                            "127.0.0.1:080",
                            "127.0.0.1:80:80",
                            "127.0.0.1:8o",
                            "127.0.0.1:+80",
                            "127.0.0.1: 80",
                            "127.0.0.1 :80",
                            "user@127.0.0.1:80",
                            "user:pw@127.0.0.1",
                            "127.0.0.1/x",
                            "127.0.0.1?",
                            "127.0.0.1#",
                            "127.0.0.1\\x",
                            "%7f.0.0.1",
                            "[::1]x",
                            "[::1]:",
                            "[]",
                            "[::1%25lo]",
                            "[::1]]",
                            "exa mple.com",
                            "example.com\r\nX: y",
                            "::1",
                            "::1:80"}) {
        EXPECT_FALSE(parse_authority(bad)) << "'" << bad << "'";
    }
}

TEST(StudioHost, OnlyLoopbackHostHeadersPassWithoutAToken) {
    for (const char* good :
         {"127.0.0.1", "127.0.0.1:8765", "127.9.9.9:1", "localhost:8765", "LOCALHOST:8765", "[::1]:8765", "[::1]"}) {
        EXPECT_TRUE(is_loopback_authority(good)) << good;
    }
    for (const char* bad : {"127.0.0.1.evil.com:8765",
                            "127.evil:8765",
                            "127.0.0.1.nip.io",
                            "0x7f.0.0.1:8765",
                            "127.1:8765",
                            "2130706433:8765",
                            "localhost.evil.com:8765",
                            "localhost.:8765",
                            "[::1].evil:8765",
                            "[::ffff:127.0.0.1]:8765",
                            "127.0.0.1:",
                            "127.0.0.1:70000",
                            "evil.com@127.0.0.1:8765",
                            "127.0.0.1%2f:8765",
                            " 127.0.0.1:8765",
                            "127.0.0.1:8765 ",
                            "::1",
                            "::1:8765",
                            "attacker.example:80",
                            ""}) {
        EXPECT_FALSE(is_loopback_authority(bad)) << "'" << bad << "'";
    }
}

TEST(StudioHost, OriginsParseAndCompareByHostAndPort) {
    const auto origin = parse_origin("http://127.0.0.1:8765");
    ASSERT_TRUE(origin);
    EXPECT_EQ(origin->scheme, "http");
    EXPECT_TRUE(same_origin(*origin, *parse_authority("127.0.0.1:8765")));
    EXPECT_FALSE(same_origin(*origin, *parse_authority("127.0.0.1:8766")));
    EXPECT_FALSE(same_origin(*origin, *parse_authority("localhost:8765"))); // another origin
    EXPECT_FALSE(same_origin(*origin, *parse_authority("127.0.0.1")));      // port 80
    // A missing port is the scheme's default on both sides: a TLS proxy's Host has none.
    EXPECT_TRUE(same_origin(*parse_origin("https://studio.example"), *parse_authority("studio.example")));
    EXPECT_TRUE(same_origin(*parse_origin("https://studio.example"), *parse_authority("studio.example:443")));
    EXPECT_TRUE(same_origin(*parse_origin("http://studio.example:80"), *parse_authority("studio.example")));
    EXPECT_FALSE(same_origin(*parse_origin("https://studio.example"), *parse_authority("studio.example:80")));
    // Suffix and prefix tricks that a concatenation test could miss.
    EXPECT_FALSE(same_origin(*parse_origin("http://127.0.0.1:87650"), *parse_authority("127.0.0.1:8765")));
    EXPECT_FALSE(same_origin(*parse_origin("http://evil127.0.0.1:8765"), *parse_authority("127.0.0.1:8765")));
    for (const char* bad : {"null", "", "127.0.0.1:8765", "//127.0.0.1:8765", "ftp://127.0.0.1:8765", "file://",
                            "http://", "http://127.0.0.1:8765/", "http://127.0.0.1:8765/path",
                            "http://user@127.0.0.1:8765", "http://127.0.0.1:8765 ", "javascript://127.0.0.1",
                            "http:/127.0.0.1:8765", "http://127.0.0.1:8765#x", "http://127.0.0.1:8765?x"}) {
        EXPECT_FALSE(parse_origin(bad)) << "'" << bad << "'";
    }
}

// --host goes through the same rule: a lookalike binds wherever DNS says, so it needs a token.
TEST(StudioHost, BindAddressesThatOnlyLookLoopbackNeedAToken) {
    StudioOptions options;
    options.data_dir = "/tmp/impasto-unused";
    for (const char* host : {"127.0.0.1", "127.0.0.5", "::1", "localhost"}) {
        options.host = host;
        EXPECT_NO_THROW(options.validate()) << host;
    }
    for (const char* host : {"127.0.0.1.nip.io", "127.evil", "127.1", "2130706433", "0x7f.0.0.1", "localhost.evil.com",
                             "0.0.0.0", "::", "127.0.0.1."}) {
        options.host = host;
        options.token.clear();
        EXPECT_THROW(options.validate(), ConfigError) << host;
        options.token = "long-enough-token";
        EXPECT_NO_THROW(options.validate()) << host;
    }
}

} // namespace
} // namespace impasto::studio
