// The fake's routes, compiled once for every test that uses it (its handlers are instantiated here).
#include "tests/support/godaddy_fake.hpp"

namespace spfctl::testing {

GoDaddyFake::GoDaddyFake(std::string key, std::string secret)
    : m_key(std::move(key)), m_secret(std::move(secret)) {
  const std::string domain = "/v1/domains/([^/]+)";
  const std::string records = domain + "/records/([^/]+)/([^/]+)";
  m_server.get("/v1/domains",
               wrap([this](const httplib::Request& req, httplib::Response& res) { list_domains(req, res); }));
  m_server.get(domain,
               wrap([this](const httplib::Request& req, httplib::Response& res) { get_domain(req, res); }));
  m_server.get(domain + "/records/([^/]+)", wrap([this](const httplib::Request& req, httplib::Response& res) {
                 get_records_of_type(req, res);
               }));
  m_server.get(records,
               wrap([this](const httplib::Request& req, httplib::Response& res) { get_records(req, res); }));
  m_server.put(records,
               wrap([this](const httplib::Request& req, httplib::Response& res) { put_records(req, res); }));
  m_server.del(records, wrap([this](const httplib::Request& req, httplib::Response& res) {
                 delete_records(req, res);
               }));
  m_server.start();
}

}  // namespace spfctl::testing
