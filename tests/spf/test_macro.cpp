#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <string>

#include "spf/macro.hpp"

using namespace spfctl;
using namespace spfctl::spf;

namespace {

// The context of RFC 7208 section 7.4.
MacroContext rfc_context(const char* ip = "192.0.2.3") {
  MacroContext context =
      make_macro_context(*net::IpAddress::parse(ip), "strong-bad@email.example.com", "mx.example.org");
  context.receiver = "mx.example.net";
  context.timestamp = 1700000000;
  return context;
}

std::string expand(std::string_view text, const MacroContext& context,
                   MacroScope scope = MacroScope::domain) {
  const Expansion expansion = expand_macros(text, context, scope);
  INFO("macro-string: " << text);
  if (!expansion.ok) INFO("error: " << expansion.error.message);
  REQUIRE(expansion.ok);
  return expansion.text;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

TEST_CASE("macro expansion follows the examples of RFC 7208 section 7.4", "[spf][macro]") {
  const MacroContext context = rfc_context();
  CHECK(expand("%{s}", context) == "strong-bad@email.example.com");
  CHECK(expand("%{o}", context) == "email.example.com");
  CHECK(expand("%{d}", context) == "email.example.com");
  CHECK(expand("%{d4}", context) == "email.example.com");
  CHECK(expand("%{d3}", context) == "email.example.com");
  CHECK(expand("%{d2}", context) == "example.com");
  CHECK(expand("%{d1}", context) == "com");
  CHECK(expand("%{dr}", context) == "com.example.email");
  CHECK(expand("%{d2r}", context) == "example.email");
  CHECK(expand("%{l}", context) == "strong-bad");
  CHECK(expand("%{l-}", context) == "strong.bad");
  CHECK(expand("%{lr}", context) == "strong-bad");
  CHECK(expand("%{lr-}", context) == "bad.strong");
  CHECK(expand("%{l1r-}", context) == "strong");
  CHECK(expand("%{ir}.%{v}._spf.%{d2}", context) == "3.2.0.192.in-addr._spf.example.com");
  CHECK(expand("%{lr-}.lp._spf.%{d2}", context) == "bad.strong.lp._spf.example.com");
  CHECK(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", context) ==
        "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
  CHECK(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", context) ==
        "3.2.0.192.in-addr.strong.lp._spf.example.com");
  CHECK(expand("%{d2}.trusted-domains.example.net", context) == "example.com.trusted-domains.example.net");
}

TEST_CASE("IPv6 %{i} gives the nibble form", "[spf][macro]") {
  const MacroContext context = rfc_context("2001:db8::cb01");
  // RFC 7208 7.4 prints the nibbles in lower case; the conformance suite expects upper case in
  // explanations. DNS compares names case-insensitively, so both denote the same name.
  const std::string rfc =
      "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com";
  CHECK(lower(expand("%{ir}.%{v}._spf.%{d2}", context)) == rfc);
  CHECK(expand("%{i}", context) == "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1");
  CHECK(expand("%{v}", context) == "ip6");
  CHECK(expand("%{c}", context, MacroScope::explanation) == "2001:db8::cb01");
  CHECK(expand("%{i4}", context) == "C.B.0.1");
}

TEST_CASE("%{c}, %{r} and %{t} expand in explanations only", "[spf][macro]") {
  const MacroContext context = rfc_context();
  CHECK(expand("%{c} via %{r} at %{t}", context, MacroScope::explanation) ==
        "192.0.2.3 via mx.example.net at 1700000000");
  for (const char* text : {"%{c}", "%{r}", "%{t}", "%{C}"}) {
    const Expansion expansion = expand_macros(text, context, MacroScope::domain);
    CHECK_FALSE(expansion.ok);
    CHECK(expansion.error.message.find("only in explanation text") != std::string::npos);
  }
}

TEST_CASE("escapes, upper-case letters and delimiters", "[spf][macro]") {
  MacroContext context = make_macro_context(*net::IpAddress::parse("192.0.2.3"),
                                            "~jack&jill=up-a_b3.c@example.com", "mx.example.org");
  CHECK(expand("%{L}", context) == "~jack%26jill%3Dup-a_b3.c");
  CHECK(expand("%{l}", context) == "~jack&jill=up-a_b3.c");
  CHECK(expand("macro%%percent%_%_space%-url-space", context) == "macro%percent  space%20url-space");
  context.helo = "JUMPIN' JUPITER";
  CHECK(expand("%{H}.bar", context) == "JUMPIN%27%20JUPITER.bar");
  context.local_part = "foo-bar+zip+quux";
  CHECK(expand("%{l2r+-}", context) == "bar.foo");
  CHECK(expand("%{l+-}", context) == "foo.bar.zip.quux");
  CHECK(expand("%{l1000}", context) == "foo-bar+zip+quux");
  context.local_part = "a/b,c=d_e";
  CHECK(expand("%{l/,=_}", context) == "a.b.c.d.e");
  CHECK(expand("x %{d} y", context, MacroScope::explanation) == "x example.com y");
}

TEST_CASE("%{p} asks the context and defaults to unknown", "[spf][macro]") {
  MacroContext context = rfc_context();
  CHECK(expand("%{p}", context) == "unknown");
  int calls = 0;
  context.validated_domain = [&calls] {
    ++calls;
    return std::string("mx.example.org");
  };
  CHECK(expand("%{p2}.trusted-domains.example.net", context) == "example.org.trusted-domains.example.net");
  CHECK(calls == 1);
  CHECK(expand("%{d}", context) == "email.example.com");
  CHECK(calls == 1);  // asked only when a p macro is expanded
}

TEST_CASE("the sender splits into local-part and domain", "[spf][macro]") {
  const auto ip = *net::IpAddress::parse("::ffff:192.0.2.3");
  MacroContext context = make_macro_context(ip, "", "mail.example.net");
  CHECK(context.sender == "postmaster@mail.example.net");
  CHECK(context.local_part == "postmaster");
  CHECK(context.sender_domain == "mail.example.net");
  CHECK(context.domain == "mail.example.net");
  CHECK(context.ip == *net::IpAddress::parse("192.0.2.3"));  // IPv4-mapped: unmapped
  CHECK(expand("%{v}", context) == "in-addr");

  context = make_macro_context(ip, "@example.net", "helo.example");
  CHECK(context.sender == "postmaster@example.net");
  context = make_macro_context(ip, "odd@local@example.net", "helo.example");
  CHECK(context.local_part == "odd@local");
  CHECK(context.sender_domain == "example.net");
  context = make_macro_context(ip, "example.org", "helo.example");
  CHECK(context.sender == "postmaster@example.org");
}

TEST_CASE("domain-specs lose a trailing dot and are cut to 253 octets", "[spf][macro]") {
  MacroContext context = rfc_context();
  Expansion expansion = expand_domain_spec("%{d2}.d.spf.example.com.", context);
  REQUIRE(expansion.ok);
  CHECK(expansion.text == "example.com.d.spf.example.com");

  context.sender_domain = "somewhat.long.exp.example.com";
  expansion = expand_domain_spec("foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example.com", context);
  REQUIRE(expansion.ok);
  std::string expected;
  for (int i = 0; i < 8; ++i) expected += "somewhat.long.exp.example.com.";
  expected += "example.com";
  CHECK(expected.size() == 251);
  CHECK(expansion.text == expected);  // "foobar." dropped: 258 octets do not fit

  // Explanations are not domains: their trailing dot stays.
  CHECK(expand("This is a test.", context, MacroScope::explanation) == "This is a test.");
}

TEST_CASE("macro-string syntax errors", "[spf][macro]") {
  const MacroContext context = rfc_context();
  struct Case {
    const char* text;
    const char* words;
  };
  for (const Case& bad :
       {Case{"%(ir)", "'%' must be followed"}, Case{"foo%", "'%' must be followed"},
        Case{"%{x}", "unknown macro letter 'x'"}, Case{"%{d0}", "zero parts"},
        Case{"%{d2r*}", "invalid character '*'"}, Case{"%{d", "unterminated"}, Case{"%{}", "empty macro"},
        Case{"a b", "space"}, Case{"a\tb", "control character"}, Case{"\xEF\xBB\xBFx", "non-ASCII"}}) {
    INFO(bad.text);
    const auto error = check_macro_string(bad.text, MacroScope::domain);
    REQUIRE(error);
    CHECK(error->message.find(bad.words) != std::string::npos);
    CHECK_FALSE(expand_macros(bad.text, context, MacroScope::domain).ok);
  }
  CHECK_FALSE(check_macro_string("The %{x}-files.", MacroScope::explanation) == std::nullopt);
  CHECK(check_macro_string("spaces are fine in %{c} explanations", MacroScope::explanation) == std::nullopt);
  CHECK(check_macro_string("", MacroScope::domain) == std::nullopt);
  const auto located = check_macro_string("ok.%{q}.example", MacroScope::domain);
  REQUIRE(located);
  CHECK(located->offset == 3);
  CHECK(located->length == 4);
}

TEST_CASE("domain-specs end in a top-level label or a macro", "[spf][macro]") {
  for (const char* good :
       {"example.com", "example.com.", "foo.example.xn--zckzah", "a.b.1-2", "%{d}", "x.%{d2}",
        "foo:bar/baz.example.com", "%{l}%%", "%{l}%_", "x.%-", "mail.example...com"}) {
    INFO(good);
    CHECK(check_domain_spec(good) == std::nullopt);
  }
  for (const char* bad : {"", "com", "com.", "example.123", "example.-com", "example.com-",
                          "example.com:8080", "%{d}com", "%{d}.", "example.com..", "exa mple.com"}) {
    INFO(bad);
    CHECK(check_domain_spec(bad));
  }
}
