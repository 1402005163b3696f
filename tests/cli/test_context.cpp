// What commands share: the colour decision and command-line domain names.
#include <catch2/catch.hpp>

#include "cli/context.hpp"
#include "error.hpp"

using spfctl::cli::GlobalOptions;
using spfctl::cli::Style;

TEST_CASE("style: colour only on a terminal, without NO_COLOR, --no-color or --json", "[cli][style]") {
  const GlobalOptions plain;
  CHECK(Style::use_color(plain, nullptr, true));
  CHECK_FALSE(Style::use_color(plain, nullptr, false));
  CHECK_FALSE(Style::use_color(plain, "1", true));
  CHECK_FALSE(Style::use_color(plain, "anything", true));
  CHECK(Style::use_color(plain, "", true));  // no-color.org: only a non-empty value counts

  GlobalOptions no_color;
  no_color.no_color = true;
  CHECK_FALSE(Style::use_color(no_color, nullptr, true));
  GlobalOptions json;
  json.json = true;
  CHECK_FALSE(Style::use_color(json, nullptr, true));
}

TEST_CASE("style: escape codes exactly when colour is on", "[cli][style]") {
  const Style on(true);
  CHECK(on.color());
  CHECK(on.red("fail") == "\x1b[31mfail\x1b[0m");
  CHECK(on.green("pass") == "\x1b[32mpass\x1b[0m");
  CHECK(on.bold("x") == "\x1b[1mx\x1b[0m");
  const Style off(false);
  CHECK_FALSE(off.color());
  CHECK(off.red("fail") == "fail");
  CHECK(off.dim("1 lookup") == "1 lookup");
}

TEST_CASE("checked_domain normalizes good names and says what is wrong with bad ones", "[cli]") {
  using spfctl::cli::checked_domain;
  CHECK(checked_domain("Example.COM.") == "example.com");
  CHECK(checked_domain("_spf.example.com") == "_spf.example.com");
  auto error_of = [](std::string_view text) {
    try {
      checked_domain(text);
    } catch (const spfctl::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(error_of("") == "the domain name is empty");
  CHECK(error_of("a..b.example") == "domain name 'a..b.example' has an empty label");
  CHECK(error_of("-a.example") == "label '-a' of '-a.example' starts or ends with a hyphen");
  CHECK(error_of("a/b.example") ==
        "domain name 'a/b.example' may only hold letters, digits, hyphens, underscores and dots");
  CHECK(error_of("2001:db8::1") == "'2001:db8::1' is an IP address, not a domain name");
  CHECK(error_of("example") ==
        "domain name 'example' is not fully qualified; write it with its top-level domain");
}
