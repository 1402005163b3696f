#include "providers/rfc2136_message.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <set>

#include "dns/resolver.hpp"
#include "error.hpp"
#include "publish/records.hpp"

// libldns's common.h defines `bool`, `true` and `false` as macros unless stdbool.h came first.
// clang-format off
#include <stdbool.h>
#include <ldns/ldns.h>
// clang-format on

namespace spfctl::providers::rfc2136 {

namespace {

constexpr std::uint16_t k_type_tsig = 250;
constexpr std::uint16_t k_class_any = 255;
constexpr std::uint16_t k_fudge = 300;

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RrListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, RrListFree>;

void append_u16(Bytes& out, unsigned value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

void append_u32(Bytes& out, std::uint32_t value) {
  append_u16(out, value >> 16);
  append_u16(out, value & 0xffff);
}

void append_u48(Bytes& out, std::uint64_t value) {
  append_u16(out, static_cast<unsigned>((value >> 32) & 0xffff));
  append_u32(out, static_cast<std::uint32_t>(value & 0xffffffff));
}

void append(Bytes& out, const Bytes& bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// `name` (lowercase presentation without escapes, no trailing dot) as uncompressed wire labels.
Bytes name_wire(std::string_view name) {
  Bytes out;
  while (!name.empty()) {
    const auto dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out.push_back(0);
  return out;
}

unsigned read_u16(const Bytes& w, std::size_t at) {
  return static_cast<unsigned>(w[at] << 8 | w[at + 1]);
}

// The offset just past the (possibly compressed) name at `at`, or nullopt when it runs off the end.
std::optional<std::size_t> skip_name(const Bytes& w, std::size_t at) {
  while (at < w.size()) {
    const std::uint8_t length = w[at];
    if ((length & 0xc0) == 0xc0) return at + 2 <= w.size() ? std::optional(at + 2) : std::nullopt;
    if ((length & 0xc0) != 0) return std::nullopt;
    at += 1u + length;
    if (length == 0) return at;
  }
  return std::nullopt;
}

// The name at `at` in canonical wire form (pointers followed, lowercase), and the offset past it.
std::optional<std::pair<Bytes, std::size_t>> read_name(const Bytes& w, std::size_t at) {
  Bytes name;
  std::optional<std::size_t> end;
  for (int jumps = 0; jumps < 64 && at < w.size();) {
    const std::uint8_t length = w[at];
    if ((length & 0xc0) == 0xc0) {
      if (at + 2 > w.size()) return std::nullopt;
      if (!end) end = at + 2;
      at = (length & 0x3fu) << 8 | w[at + 1];
      ++jumps;
      continue;
    }
    if ((length & 0xc0) != 0 || at + 1 + length > w.size()) return std::nullopt;
    name.push_back(length);
    for (std::size_t i = 0; i < length; ++i) {
      const auto c = w[at + 1 + i];
      name.push_back(c >= 'A' && c <= 'Z' ? static_cast<std::uint8_t>(c - 'A' + 'a') : c);
    }
    at += 1u + length;
    if (length == 0) return std::pair(name, end.value_or(at));
  }
  return std::nullopt;
}

const EVP_MD* digest_for(std::string_view algorithm) {
  if (algorithm == "hmac-md5") return EVP_md5();
  if (algorithm == "hmac-sha1") return EVP_sha1();
  if (algorithm == "hmac-sha224") return EVP_sha224();
  if (algorithm == "hmac-sha256") return EVP_sha256();
  if (algorithm == "hmac-sha384") return EVP_sha384();
  if (algorithm == "hmac-sha512") return EVP_sha512();
  return nullptr;
}

// The algorithm's name as TSIG records carry it (hmac-md5 keeps its historic long name).
std::string algorithm_wire_name(std::string_view algorithm) {
  return algorithm == "hmac-md5" ? "hmac-md5.sig-alg.reg.int" : std::string(algorithm);
}

Bytes hmac(const TsigKey& key, const Bytes& data) {
  const EVP_MD* digest = digest_for(key.algorithm);
  if (digest == nullptr) throw Error("rfc2136: unsupported TSIG algorithm '" + key.algorithm + "'");
  Bytes mac(EVP_MAX_MD_SIZE);
  unsigned length = 0;
  if (HMAC(digest, key.secret.data(), static_cast<int>(key.secret.size()), data.data(), data.size(),
           mac.data(), &length) == nullptr)
    throw Error("rfc2136: computing the TSIG signature failed");
  mac.resize(length);
  return mac;
}

ldns_rdf* owned_dname(std::string_view name) {
  const std::string text = std::string(name) + ".";
  ldns_rdf* rdf = ldns_dname_new_frm_str(text.c_str());
  if (rdf == nullptr)
    throw Error("rfc2136: '" + std::string(name) + "' is not a domain name libldns can encode");
  return rdf;
}

ldns_rr* make_rr(const UpdateRecord& record) {
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, owned_dname(record.name));
  ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
  ldns_rr_set_class(rr, static_cast<ldns_rr_class>(record.rr_class));
  ldns_rr_set_ttl(rr, record.ttl);
  if (record.value) {
    for (const std::string& s : record.value->strings) {
      std::string data(1, static_cast<char>(s.size()));
      data += s;
      ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, data.size(), data.data()));
    }
  }
  return rr;
}

RrListPtr make_rr_list(const std::vector<UpdateRecord>& records) {
  RrListPtr list(ldns_rr_list_new());
  for (const UpdateRecord& record : records) ldns_rr_list_push_rr(list.get(), make_rr(record));
  return list;
}

std::string owner_name(const ldns_rr* rr) {
  char* text = ldns_rdf2str(ldns_rr_owner(rr));
  std::string name = dns::normalize_name(text ? text : "");
  std::free(text);
  return name;
}

Bytes to_wire(const ldns_pkt* pkt) {
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK) {
    std::free(wire);
    throw Error("rfc2136: libldns could not encode a DNS message");
  }
  Bytes out(wire, wire + size);
  std::free(wire);
  return out;
}

}  // namespace

TxtValue wire_strings(const TxtValue& value) {
  TxtValue out;
  for (const std::string& s : value.strings)
    for (std::string& piece : publish::cut_into_strings(s)) out.strings.push_back(std::move(piece));
  return out;
}

UpdateMessage build_update(std::string_view zone, const std::vector<Change>& changes) {
  UpdateMessage message;
  message.zone = std::string(zone);
  std::set<std::string> pinned;
  for (const Change& change : changes) {
    if (pinned.insert(change.name).second) {
      std::vector<TxtValue> read = change.others;
      if (change.before) read.push_back(*change.before);
      if (read.empty()) message.prerequisites.push_back({change.name, RrClass::none, 0, std::nullopt});
      for (const TxtValue& value : read)
        message.prerequisites.push_back({change.name, RrClass::in, 0, wire_strings(value)});
    }
    if (change.before)
      message.updates.push_back({change.name, RrClass::none, 0, wire_strings(*change.before)});
    if (change.after)
      message.updates.push_back({change.name, RrClass::in, change.ttl, wire_strings(*change.after)});
  }
  return message;
}

Bytes encode_update(const UpdateMessage& message, std::uint16_t id) {
  const RrListPtr prerequisites = make_rr_list(message.prerequisites);
  const RrListPtr updates = make_rr_list(message.updates);
  const PktPtr pkt(ldns_update_pkt_new(owned_dname(message.zone), LDNS_RR_CLASS_IN, prerequisites.get(),
                                       updates.get(), nullptr));
  if (!pkt) throw Error("rfc2136: libldns could not build an UPDATE message");
  // ldns_update_pkt_new starts from a query with RD set; in an UPDATE those bits are reserved.
  ldns_pkt_set_rd(pkt.get(), false);
  ldns_pkt_set_id(pkt.get(), id);
  return to_wire(pkt.get());
}

Bytes encode_query(std::string_view name, std::uint16_t type, std::uint16_t id) {
  const PktPtr pkt(
      ldns_pkt_query_new(owned_dname(name), static_cast<ldns_rr_type>(type), LDNS_RR_CLASS_IN, 0));
  if (!pkt) throw Error("rfc2136: libldns could not build a query");
  ldns_pkt_set_id(pkt.get(), id);
  return to_wire(pkt.get());
}

const std::vector<std::string>& tsig_algorithms() {
  static const std::vector<std::string> names = {"hmac-sha256", "hmac-sha384", "hmac-sha512",
                                                 "hmac-sha224", "hmac-sha1",   "hmac-md5"};
  return names;
}

std::optional<Bytes> decode_base64(std::string_view text) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  const std::size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  Bytes out;
  std::uint32_t bits = 0;
  int count = 0;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    const auto index = alphabet.find(text[i]);
    if (index == std::string_view::npos) return std::nullopt;
    bits = bits << 6 | static_cast<std::uint32_t>(index);
    if (++count == 4) {
      out.push_back(static_cast<std::uint8_t>(bits >> 16));
      out.push_back(static_cast<std::uint8_t>(bits >> 8));
      out.push_back(static_cast<std::uint8_t>(bits));
      bits = 0;
      count = 0;
    }
  }
  if (count == 3) {
    out.push_back(static_cast<std::uint8_t>(bits >> 10));
    out.push_back(static_cast<std::uint8_t>(bits >> 2));
  } else if (count == 2) {
    out.push_back(static_cast<std::uint8_t>(bits >> 4));
  }
  return out;
}

Bytes tsig_sign(Bytes& message, const TsigKey& key, std::uint64_t now) {
  if (message.size() < 12) throw Error("rfc2136: cannot sign a message shorter than its header");
  const Bytes key_name = name_wire(key.name);
  const Bytes algorithm = name_wire(algorithm_wire_name(key.algorithm));

  Bytes signed_data = message;
  append(signed_data, key_name);
  append_u16(signed_data, k_class_any);
  append_u32(signed_data, 0);
  append(signed_data, algorithm);
  append_u48(signed_data, now);
  append_u16(signed_data, k_fudge);
  append_u16(signed_data, 0);  // error
  append_u16(signed_data, 0);  // other data length
  const Bytes mac = hmac(key, signed_data);

  Bytes rdata = algorithm;
  append_u48(rdata, now);
  append_u16(rdata, k_fudge);
  append_u16(rdata, static_cast<unsigned>(mac.size()));
  append(rdata, mac);
  append_u16(rdata, read_u16(message, 0));  // original id
  append_u16(rdata, 0);
  append_u16(rdata, 0);

  append(message, key_name);
  append_u16(message, k_type_tsig);
  append_u16(message, k_class_any);
  append_u32(message, 0);
  append_u16(message, static_cast<unsigned>(rdata.size()));
  append(message, rdata);
  const unsigned additional = read_u16(message, 10) + 1;
  message[10] = static_cast<std::uint8_t>(additional >> 8);
  message[11] = static_cast<std::uint8_t>(additional & 0xff);
  return mac;
}

namespace {

// Where a response's TSIG record is, and its fields: the last record of the additional section
// (RFC 8945 4.2), records walked by their lengths.
struct TsigPlace {
  std::size_t start = 0;  // of the record
  Bytes owner;            // the key name, in wire form
  Bytes algorithm;
  std::size_t time_at = 0;  // time signed (6 bytes), then fudge (2)
  std::size_t mac_size = 0;
  std::size_t mac_at = 0;
  std::size_t id_at = 0;  // original id, then error, other length, other data
  std::size_t rdata_end = 0;
  std::uint16_t error = 0;
  bool well_formed = false;  // every field where the lengths say
};

std::optional<TsigPlace> find_tsig(const Bytes& response) {
  if (response.size() < 12 || read_u16(response, 10) == 0) return std::nullopt;
  std::size_t at = 12;
  for (unsigned i = 0; i < read_u16(response, 4); ++i) {
    const auto end = skip_name(response, at);
    if (!end || *end + 4 > response.size()) return std::nullopt;
    at = *end + 4;
  }
  const unsigned records = read_u16(response, 6) + read_u16(response, 8) + read_u16(response, 10) - 1;
  for (unsigned i = 0; i < records; ++i) {
    const auto end = skip_name(response, at);
    if (!end || *end + 10 > response.size()) return std::nullopt;
    at = *end + 10 + read_u16(response, *end + 8);
  }
  TsigPlace place;
  place.start = at;
  const auto owner = read_name(response, at);
  if (!owner || owner->second + 10 > response.size() || read_u16(response, owner->second) != k_type_tsig)
    return std::nullopt;
  place.owner = owner->first;
  const std::size_t rdata = owner->second + 10;
  place.rdata_end = rdata + read_u16(response, owner->second + 8);
  const auto algorithm = read_name(response, rdata);
  if (place.rdata_end > response.size() || !algorithm || algorithm->second + 10 > place.rdata_end)
    return place;
  place.algorithm = algorithm->first;
  place.time_at = algorithm->second;
  place.mac_size = read_u16(response, place.time_at + 8);
  place.mac_at = place.time_at + 10;
  place.id_at = place.mac_at + place.mac_size;
  if (place.id_at + 6 > place.rdata_end) return place;
  place.error = static_cast<std::uint16_t>(read_u16(response, place.id_at + 2));
  place.well_formed = place.id_at + 6 + read_u16(response, place.id_at + 4) == place.rdata_end;
  return place;
}

}  // namespace

TsigCheck tsig_verify(const Bytes& response, const TsigKey& key, const Bytes& request_mac,
                      std::uint64_t now) {
  using Status = TsigCheck::Status;
  const std::optional<TsigPlace> place = find_tsig(response);
  if (!place) return {Status::missing};
  if (!place->well_formed) return {Status::bad_mac};
  if (place->error != 0) return {Status::error, place->error};
  if (place->owner != name_wire(key.name) ||
      place->algorithm != name_wire(algorithm_wire_name(key.algorithm)))
    return {Status::bad_mac};
  const std::size_t tsig_start = place->start;
  const std::size_t time_at = place->time_at;
  const std::size_t mac_size = place->mac_size;
  const std::size_t mac_at = place->mac_at;
  const std::size_t field = place->id_at;
  const std::size_t rdata_end = place->rdata_end;
  const unsigned original_id = read_u16(response, field);

  Bytes signed_data;
  if (!request_mac.empty()) {
    append_u16(signed_data, static_cast<unsigned>(request_mac.size()));
    append(signed_data, request_mac);
  }
  Bytes stripped(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(tsig_start));
  stripped[0] = static_cast<std::uint8_t>(original_id >> 8);
  stripped[1] = static_cast<std::uint8_t>(original_id & 0xff);
  const unsigned additional = read_u16(stripped, 10) - 1;
  stripped[10] = static_cast<std::uint8_t>(additional >> 8);
  stripped[11] = static_cast<std::uint8_t>(additional & 0xff);
  append(signed_data, stripped);
  append(signed_data, place->owner);
  append_u16(signed_data, k_class_any);
  append_u32(signed_data, 0);
  append(signed_data, place->algorithm);
  signed_data.insert(signed_data.end(), response.begin() + static_cast<std::ptrdiff_t>(time_at),
                     response.begin() + static_cast<std::ptrdiff_t>(time_at + 8));  // time signed, fudge
  signed_data.insert(signed_data.end(), response.begin() + static_cast<std::ptrdiff_t>(field + 2),
                     response.begin() + static_cast<std::ptrdiff_t>(rdata_end));  // error, other data
  const Bytes expected = hmac(key, signed_data);
  if (expected.size() != mac_size || CRYPTO_memcmp(expected.data(), response.data() + mac_at, mac_size) != 0)
    return {Status::bad_mac};

  std::uint64_t time_signed = 0;
  for (std::size_t i = 0; i < 6; ++i) time_signed = time_signed << 8 | response[time_at + i];
  const std::uint64_t fudge = read_u16(response, time_at + 6);
  const std::uint64_t skew = now > time_signed ? now - time_signed : time_signed - now;
  if (skew > fudge) return {Status::bad_time};
  return {Status::valid};
}

std::string tsig_error_name(std::uint16_t error) {
  switch (error) {
    case 16:
      return "BADSIG";
    case 17:
      return "BADKEY";
    case 18:
      return "BADTIME";
    case 22:
      return "BADTRUNC";
  }
  return "TSIG error " + std::to_string(error);
}

Response decode_response(const Bytes& wire) {
  // libldns reads the additional section with its own record boundaries and loses all but the
  // last TSIG record it meets there (found by fuzzing, as leaks). Nothing spfctl reads is in that
  // section but the TSIG record, which it finds itself, as tsig_verify() does: libldns is given the
  // message without it.
  Bytes sections = wire;
  if (sections.size() >= 12) sections[10] = sections[11] = 0;
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, sections.data(), sections.size()) != LDNS_STATUS_OK || raw == nullptr) {
    ldns_pkt_free(raw);
    throw Error("rfc2136: the server's answer is not a well-formed DNS message");
  }
  const PktPtr pkt(raw);
  Response response;
  response.id = ldns_pkt_id(pkt.get());
  response.rcode = static_cast<std::uint8_t>(ldns_pkt_get_rcode(pkt.get()));
  response.authoritative = ldns_pkt_aa(pkt.get());
  const ldns_rr_list* answer = ldns_pkt_answer(pkt.get());
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) response.answer_soa.push_back(owner_name(rr));
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) continue;
    TxtAnswer txt{owner_name(rr), ldns_rr_ttl(rr), {}};
    for (std::size_t j = 0; j < ldns_rr_rd_count(rr); ++j) {
      const ldns_rdf* rdf = ldns_rr_rdf(rr, j);
      const auto* data = ldns_rdf_data(rdf);
      const std::size_t size = ldns_rdf_size(rdf);
      // A character-string: its length byte, then its bytes.
      if (size == 0 || data[0] + 1u != size)
        throw Error("rfc2136: the server's answer holds a malformed TXT record");
      txt.value.strings.emplace_back(reinterpret_cast<const char*>(data) + 1, size - 1);
    }
    response.txt.push_back(std::move(txt));
  }
  const ldns_rr_list* authority = ldns_pkt_authority(pkt.get());
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(authority); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(authority, i);
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) response.authority_soa.push_back(owner_name(rr));
  }
  if (const std::optional<TsigPlace> tsig = find_tsig(wire); tsig && tsig->id_at + 6 <= tsig->rdata_end)
    response.tsig_error = tsig->error;
  return response;
}

std::string rcode_name(std::uint8_t rcode) {
  static const std::array<const char*, 11> names = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                    "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                    "NXRRSET", "NOTAUTH", "NOTZONE"};
  return rcode < names.size() ? names[rcode] : "RCODE " + std::to_string(rcode);
}

}  // namespace spfctl::providers::rfc2136
