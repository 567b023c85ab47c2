// The trust boundary on the shipped center configuration (config/center/): for every client of
// every input, each type and source it should not send is refused 403 (or 400 for the hub's own
// attributes) and nothing of it is journaled, and one event it should send is accepted 202.
// Among them the three forgeries that were once accepted: an unsigned payment and another
// unit's conclusion from the convenience units' token, and the hub's own source from the
// platform's token. Every refusal is counted per client and recorded in the audit trail.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/CenterSecrets.h"
#include "tests/integration/JournalPeek.h"
#include "tests/integration/WebhookSigning.h"

using namespace ow;
using nlohmann::json;

namespace {

struct Attempt {
    std::string input, client; // who sends
    json event;
    int expect;            // status
    std::string attribute; // the attribute a refusal must name
};

json ev(const std::string& id, const std::string& source, const std::string& type,
        const std::string& department = "") {
    json e = {{"specversion", "1.0"},
              {"id", id},
              {"source", source},
              {"type", type},
              {"subject", "35058120260302000123"},
              {"datacontenttype", "application/json"},
              {"data", {{"case_no", "35058120260302000123"}}}};
    if (!department.empty()) e["department"] = department;
    return e;
}

bool journaled(const itest::Hub& hub, const std::string& id) {
    store::Database db(store::Journal::fileName(hub.dataDir()), /*readOnly=*/true);
    store::Statement s(db, "SELECT count(*) FROM events WHERE id=?1");
    s.bind(1, id);
    return s.step() && s.int64(0) > 0;
}

} // namespace

TEST_CASE("Trust boundary: each client of the center may send what it should and nothing else",
          "[integration][security]") {
    testkit::TempDir dir, secrets, pki;
    itest::makeCertificates(pki, "onewindow-hub");
    const auto unitTokens = itest::writeUnitTokens(secrets);
    const std::string src = OW_SOURCE_DIR;
    itest::Hub hub(dir, "hub:\n  log_level: warn\n  plugin_dirs: [ \"" +
                            itest::firstPartyPluginDir(dir, itest::centerPlugins()) +
                            "\" ]\ninclude: [ \"" + src + "/config/center/*.yaml\" ]\n");
    hub.env = itest::centerSecrets(secrets, pki);
    // Nothing answers at the systems' addresses: deliveries wait, which is not what is tested.
    const std::string nobody = "http://127.0.0.1:" + std::to_string(testkit::freeLoopbackPort());
    for (const char* url : {"OW_PLATFORM_URL", "OW_SUPERVISION_URL", "OW_GONGSHANG_URL",
                            "OW_EMS_URL", "OW_UTILITY_URL", "OW_DEPARTMENTS_URL", "OW_PRINTER_URL"})
        hub.env.emplace_back(url, nobody);
    hub.env.emplace_back("OW_GONGAN_URL", "https" + nobody.substr(4));
    hub.env.emplace_back("OW_MQTT_URL", "tcp" + nobody.substr(4));
    hub.env.emplace_back("OW_FRONTDB", dir.file("land-resources.db"));
    hub.start();

    std::map<std::string, std::string> env(hub.env.begin(), hub.env.end());
    const std::vector<std::string> units = itest::unitIds();
    const std::set<std::string> adapters = {"industry-commerce", "public-security",
                                            "land-resources"};
    int n = 0;
    auto id = [&] { return "forgery-" + std::to_string(++n); };
    std::vector<Attempt> attempts;
    auto platform = [&](json e, int status, const std::string& attribute = "") {
        attempts.push_back({"platform", "intranet-platform", std::move(e), status, attribute});
    };
    auto convenience = [&](json e, int status, const std::string& attribute = "") {
        attempts.push_back({"units", "convenience-units", std::move(e), status, attribute});
    };
    auto terminal = [&](json e, int status, const std::string& attribute = "") {
        attempts.push_back({"terminals", "cib-terminal-01", std::move(e), status, attribute});
    };

    // The three requests that were once accepted.
    convenience(ev(id(), "bank:cib-terminal-01", "gov.fee.paid"), 403, "type");
    convenience(ev(id(), "dept:industry-commerce", "gov.case.concluded", "industry-commerce"), 403,
                "type");
    platform(ev(id(), "onewindow://processor/ledger", "gov.supervision.alert_cleared"), 403,
             "source");
    // The platform: window events of every case, approval only for the departments that
    // approve on it, never a department's source or a payment.
    platform(ev(id(), "/intranet-platform", "gov.case.concluded", "industry-commerce"), 403,
             "department");
    platform(ev(id(), "dept:economy", "gov.case.concluded", "economy"), 403, "source");
    platform(ev(id(), "bank:cib-terminal-01", "gov.fee.paid"), 403, "type");
    platform(ev(id(), "dept:economy", "gov.fee.assessed", "economy"), 403, "type");
    {
        json e = ev(id(), "/intranet-platform", "gov.case.received", "economy");
        e["authid"] = "cib-terminal-01";
        platform(e, 400, "authid");
    }
    platform(ev(id(), "/intranet-platform", "gov.case.received", "industry-commerce"), 202);
    platform(ev(id(), "/intranet-platform", "gov.case.concluded", "health"), 202);
    // The convenience units: their own answers only.
    convenience(ev(id(), "unit:water", "gov.case.concluded", "water-supply"), 403, "type");
    convenience(ev(id(), "unit:bank", "gov.utility.account_opened"), 403, "source");
    convenience(ev(id(), "onewindow://utility-accounts", "gov.utility.account_opened"), 403,
                "source");
    convenience(ev(id(), "unit:water", "gov.utility.account_opened"), 202);
    // The bank's terminal: money, as itself.
    terminal(ev(id(), "bank:cib-terminal-02", "gov.fee.paid"), 403, "source");
    terminal(ev(id(), "bank:cib-terminal-01", "gov.case.concluded"), 403, "type");
    terminal(ev(id(), "onewindow://fees", "gov.fee.paid"), 403, "source");
    terminal(ev(id(), "bank:cib-terminal-01", "gov.fee.paid"), 202);
    // Every unit on its own channel: itself only; approval only where no adapter brings it.
    for (std::size_t i = 0; i < units.size(); ++i) {
        const std::string& u = units[i];
        const std::string& other = units[(i + 1) % units.size()];
        auto add = [&](json e, int status, const std::string& attribute = "") {
            attempts.push_back({"departments", u, std::move(e), status, attribute});
        };
        add(ev(id(), "dept:" + other, "gov.fee.assessed", other), 403, "source");
        add(ev(id(), "dept:" + u, "gov.fee.paid", u), 403, "type");
        add(ev(id(), "onewindow://processor/ledger", "gov.fee.assessed", u), 403, "source");
        if (adapters.count(u)) {
            add(ev(id(), "dept:" + u, "gov.case.concluded", u), 403, "type");
        } else {
            add(ev(id(), "dept:" + u, "gov.case.concluded", other), 403, "department");
            add(ev(id(), "dept:" + u, "gov.case.concluded", u), 202);
        }
        add(ev(id(), "dept:" + u, "gov.fee.assessed", u), 202);
    }

    std::set<std::string> clientsTried;
    for (const auto& a : attempts) {
        const std::string body = a.event.dump();
        const std::string eventId = a.event["id"];
        testkit::Headers headers = {{"Content-Type", "application/cloudevents+json"}};
        std::string path;
        if (a.input == "terminals") {
            path = "/v1/payments";
            headers = itest::signedHeaders(env.at("OW_TERMINAL_01_KEY"), "msg-" + eventId,
                                           itest::nowS(), body);
        } else if (a.input == "platform") {
            path = "/v1/platform/events";
            headers.emplace_back("Authorization", "Bearer " + env.at("OW_PLATFORM_TOKEN"));
        } else if (a.input == "units") {
            path = "/v1/units/events";
            headers.emplace_back("Authorization", "Bearer " + env.at("OW_UNITS_TOKEN"));
        } else {
            path = "/v1/departments/events";
            headers.emplace_back("Authorization", "Bearer " + unitTokens.at(a.client));
        }
        const auto r = testkit::httpRequest("POST", hub.url(path), body, headers);
        INFO(a.input << " / " << a.client << ": " << body << " -> " << r.status << " " << r.body);
        REQUIRE(r.status == a.expect);
        clientsTried.insert(a.input + "/" + a.client);
        if (a.expect >= 400) {
            const json problem = json::parse(r.body);
            CHECK(problem["client"] == a.client);
            CHECK(problem["attribute"] == a.attribute);
            CHECK(problem["detail"].get<std::string>().find(a.client) != std::string::npos);
            CHECK_FALSE(journaled(hub, eventId));
        } else {
            CHECK(journaled(hub, eventId));
        }
    }
    CHECK(clientsTried.size() == 3 + units.size());

    // Counted per input, client and reason.
    CHECK(hub.metric("onewindow_events_refused_total{input=\"units\",client=\"convenience-units\","
                     "reason=\"type-not-allowed\"}") == 3);
    CHECK(hub.metric("onewindow_events_refused_total{input=\"platform\",client=\"intranet-"
                     "platform\",reason=\"reserved-source\"}") == 1);

    // Each accepted event is kept with its principal, which no client could set, and as it was
    // sent (receivers get it so).
    {
        store::Database db(store::Journal::fileName(hub.dataDir()), /*readOnly=*/true);
        store::Statement s(db, "SELECT body, input, client, auth FROM events WHERE id=?1");
        s.bind(1, attempts.back().event["id"].get<std::string>());
        REQUIRE(s.step());
        CHECK(json::parse(s.text(0)) == attempts.back().event);
        CHECK(s.text(1) == "departments");
        CHECK(s.text(2) == attempts.back().client);
        CHECK(s.text(3) == "token");
    }

    // The audit trail holds every refusal and every acceptance, and verifies.
    REQUIRE(hub.terminate().success());
    long refused = 0, accepted = 0;
    for (const auto& a : attempts)
        (a.expect >= 400 ? refused : accepted) += 1;
    store::Database db(store::Journal::fileName(hub.dataDir()), /*readOnly=*/true);
    store::Statement s(db, "SELECT record FROM audit");
    long refusedRecords = 0, acceptedRecords = 0;
    bool convenienceRefusal = false;
    while (s.step()) {
        const json r = json::parse(s.text(0));
        if (r["kind"] == "refused") refusedRecords += r["count"].get<long>();
        // (processors emit events of their own in the meantime)
        if (r["kind"] == "accepted" && r["auth"] != "processor") ++acceptedRecords;
        convenienceRefusal = convenienceRefusal ||
                             (r["kind"] == "refused" && r["principal"] == "convenience-units" &&
                              r["reason"] == "type-not-allowed");
    }
    CHECK(refusedRecords == refused);
    CHECK(acceptedRecords == accepted);
    CHECK(convenienceRefusal);
    auto [rc, out] = hub.cli({"audit", "verify"});
    INFO(out);
    CHECK(rc == 0);
}
