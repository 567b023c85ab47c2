// The event catalog (sdk/catalog/) against what the case ledger and the fee book really read.
// Each of them sees only the data fields it lists per event type (ledgerReads(),
// FeeBook::fieldsRead(): the rest of an event's data is dropped before its code runs), so:
//
//   - a field they read must be on their list, or they never see it (their own tests fail);
//   - every listed field must be in the type's schema, with the JSON type they read it as, and
//     required there when they require it (this test fails otherwise);
//
// and a change to what they read cannot land without the schema (and the page, which
// EventCatalogTest checks against the schema) changing with it. The schemas' examples are then
// fed to them: each is taken, not refused, and what they emit in answer validates too.
#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <onewindow/sdk/testkit/CatalogCheck.h>
#include <onewindow/sdk/testkit/FakeClock.h>
#include <onewindow/sdk/testkit/TestProcessContext.h>
#include <set>

#include "plugins/cases/calendar/CalendarFiles.h"
#include "plugins/cases/catalog/CatalogFiles.h"
#include "plugins/cases/data/Rfc3339.h"
#include "plugins/cases/ledger/CaseEvents.h"
#include "plugins/cases/ledger/CaseLedger.h"
#include "plugins/fees/book/FeeBook.h"

namespace catalog = onewindow::sdk::catalog;
namespace sdk = onewindow::sdk;
namespace testkit = onewindow::sdk::testkit;
using nlohmann::json;
using ow::cases::Instant;

namespace {

const ow::cases::WorkCalendar& calendar() {
    static const auto c = ow::cases::loadCalendar(std::string(OW_SOURCE_DIR) + "/config/calendar",
                                                  ow::cases::BusinessHours{});
    return c;
}
const ow::cases::Catalog& serviceCatalog() {
    static const auto c = ow::cases::loadCatalog(std::string(OW_SOURCE_DIR) + "/config/catalog",
                                                 std::string(OW_SOURCE_DIR) + "/config/units.yaml");
    return c;
}

const catalog::JsonValue& schemaOf(const std::string& type) {
    const auto* s = testkit::centerCatalog().schemaOf(type);
    INFO(type);
    REQUIRE(s);
    return *s;
}

/// `schema` itself, or what its `$ref` names.
const catalog::JsonValue& resolved(const catalog::JsonValue& schema) {
    const auto* ref = schema.find("$ref");
    if (!ref) return schema;
    const auto hash = ref->string.find('#');
    const auto* doc = testkit::centerCatalog().schemas().document(ref->string.substr(0, hash));
    REQUIRE(doc);
    const catalog::JsonValue* at = doc;
    std::string pointer = ref->string.substr(hash + 2); // after "#/"
    while (!pointer.empty()) {
        const auto slash = pointer.find('/');
        at = at->find(pointer.substr(0, slash));
        REQUIRE(at);
        pointer = slash == std::string::npos ? "" : pointer.substr(slash + 1);
    }
    return *at;
}

/// The JSON types a schema allows ("string", "integer", ...): from `type`, or from the kinds of
/// its `enum` values.
std::set<std::string> typesAllowed(const catalog::JsonValue& property) {
    const auto& s = resolved(property);
    std::set<std::string> out;
    if (const auto* t = s.find("type")) {
        if (t->kind == catalog::JsonValue::Kind::String) out.insert(t->string);
        for (const auto& n : t->array)
            out.insert(n.string);
    }
    if (const auto* e = s.find("enum"))
        for (const auto& v : e->array)
            out.insert(v.kind == catalog::JsonValue::Kind::String ? "string" : "integer");
    return out;
}

const catalog::JsonValue& dataSchema(const std::string& type) {
    const auto* data = schemaOf(type).find("properties")->find("data");
    REQUIRE(data);
    return *data;
}

/// Required fields of `data`: always, or in a branch (`then`/`else`) of the schema.
std::set<std::string> requiredData(const std::string& type) {
    std::set<std::string> out;
    auto collect = [&](const catalog::JsonValue* s) {
        if (!s) return;
        const auto* props = s->find("properties");
        const auto* data = props ? props->find("data") : nullptr;
        if (const auto* r = data ? data->find("required") : nullptr)
            for (const auto& n : r->array)
                out.insert(n.string);
    };
    collect(&schemaOf(type));
    collect(schemaOf(type).find("then"));
    collect(schemaOf(type).find("else"));
    return out;
}

void checkAgainstSchemas(const ow::cases::FieldReads& reads, const std::string& who) {
    for (const auto& [type, fields] : reads) {
        const auto& props = *dataSchema(type).find("properties");
        const auto required = requiredData(type);
        for (const auto& f : fields) {
            INFO(who << " reads data." << f.name << " of " << type << " as " << f.jsonType);
            const auto* property = props.find(f.name);
            REQUIRE(property); // documented in the schema
            CHECK(typesAllowed(*property).count(f.jsonType) == 1);
            if (f.required) CHECK(required.count(f.name) == 1);
        }
    }
}

/// The example of `type`'s schema as the hub would hand it to a processor (read with the
/// hub's JSON library, so numbers and strings stay exactly as the file writes them).
sdk::Event example(const std::string& type) {
    std::ifstream in(std::string(OW_SDK_CATALOG_DIR) + "/schemas/" + type + ".schema.json");
    const json ce = json::parse(in).at("examples").at(0);
    sdk::Event e;
    for (const auto& [k, v] : ce.items()) {
        if (k == "data") {
            e.data = v.dump();
        } else if (k == "id") {
            e.id = v;
        } else if (k == "source") {
            e.source = v;
        } else if (k == "type") {
            e.type = v;
        } else if (k == "subject") {
            e.subject = v;
        } else if (k == "time") {
            e.time = v;
        } else if (k == "datacontenttype") {
            e.dataContentType = v;
        } else if (k != "specversion") {
            e.extensions[k] = v;
        }
    }
    return e;
}

std::string allProblems(const std::vector<sdk::Event>& events) {
    std::string out;
    for (const auto& e : events)
        if (auto p = testkit::catalogProblems(e); !p.empty()) out += e.type + ":\n" + p;
    return out;
}

class Driven final : public sdk::Processor {
public:
    using Fn = std::function<sdk::Result(const sdk::Event&, sdk::ProcessContext&)>;
    explicit Driven(Fn fn) : fn_(std::move(fn)) {}
    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        return fn_(e, ctx);
    }

private:
    Fn fn_;
};

} // namespace

TEST_CASE("Catalog contract: every field the case ledger reads is in its type's schema",
          "[unit][catalog]") {
    const auto& reads = ow::cases::ledgerReads();
    checkAgainstSchemas(reads, "cases/ledger");
    // It follows the whole case life the catalog describes, and the orders.
    for (const auto& t : testkit::centerCatalog().types()) {
        if (t.rfind("gov.case.", 0) != 0) continue;
        const bool notLedgers = t == "gov.case.prereview_completed" ||
                                t == "gov.case.submission_refused" ||
                                t == "gov.case.chain_completed";
        INFO(t);
        CHECK(reads.count(t) == (notLedgers ? 0u : 1u));
    }
    CHECK(reads.count("gov.supervision.order_issued") == 1);
}

TEST_CASE("Catalog contract: every field the fee book reads is in its type's schema",
          "[unit][catalog]") {
    checkAgainstSchemas(ow::fees::FeeBook::fieldsRead(), "fees/book");
}

TEST_CASE("Catalog contract: the ledger takes every example of the types it follows, and what "
          "it emits validates",
          "[unit][catalog]") {
    testkit::FakeClock clock;
    clock.set(*ow::cases::parseRfc3339("2026-03-20T10:00:00+08:00"));
    ow::cases::CaseLedger ledger(serviceCatalog(), calendar(), {});
    Driven proc([&](const sdk::Event& e, sdk::ProcessContext& ctx) {
        return ledger.process(e, ctx, clock.nowMs());
    });
    testkit::TestProcessContext ctx(clock);
    for (const auto& [type, _] : ow::cases::ledgerReads()) {
        const sdk::Event e = example(type);
        INFO(type << " " << e.data);
        REQUIRE(testkit::catalogProblems(e) == "");
        if (type.rfind("gov.fee.", 0) != 0) {
            // Read as a fact of a case, not ignored, not refused.
            const auto read = ow::cases::readCaseEvent(e, clock.nowMs());
            const auto* why = std::get_if<std::string>(&read);
            INFO((why ? *why : std::string()));
            CHECK(std::holds_alternative<ow::cases::CaseFact>(read));
        }
        const auto r = ctx.process(proc, e);
        INFO(r.reason);
        CHECK(r.kind == sdk::Result::Kind::Ok);
    }
    // The example case is long overdue by 20 March: the ledger raised its alerts.
    CHECK_FALSE(ctx.emitted().empty());
    CHECK(allProblems(ctx.emitted()) == "");
    // A fee book share (the form with case_no) reaches the case's payment status.
    const auto pub = json::parse(ctx.state().at("public/35058120260302000123"));
    CHECK(pub.contains("payment"));
}

TEST_CASE("Catalog contract: the fee book takes every example of the types it reads, in the "
          "order of a payment's life, and what it emits validates",
          "[unit][catalog]") {
    ow::fees::FeeSettings settings;
    settings.checkCodeKey = "test-check-code-key-0123456789";
    testkit::FakeClock clock;
    clock.set(*ow::cases::parseRfc3339("2026-03-02T10:00:00+08:00"));
    ow::fees::FeeBook book(serviceCatalog(), calendar(), settings);
    Driven proc([&](const sdk::Event& e, sdk::ProcessContext& ctx) {
        return book.process(e, ctx, clock.nowMs());
    });
    std::vector<sdk::Event> emitted;
    std::set<std::string> taken;

    // Each run starts from the assessment, so every example meets a book in the state its
    // type expects; the notice's number and check code are the book's own.
    auto run = [&](const std::vector<std::string>& then) {
        testkit::TestProcessContext ctx(clock);
        sdk::Event assessed = example("gov.fee.assessed");
        REQUIRE(ctx.process(proc, assessed).kind == sdk::Result::Kind::Ok);
        taken.insert(assessed.type);
        json notice;
        for (const auto& e : ctx.emitted())
            if (e.type == "gov.fee.notice_issued") notice = json::parse(e.data);
        INFO(allProblems(ctx.emitted()));
        REQUIRE(notice.is_object()); // the example's lines are the catalog's published fees
        for (const auto& type : then) {
            sdk::Event e = example(type);
            json d = json::parse(e.data);
            if (d.contains("notice_no")) d["notice_no"] = notice["notice_no"];
            if (d.contains("check_code")) d["check_code"] = notice["check_code"];
            e.data = d.dump();
            e.extensions["owauth"] = "signature"; // as the hub says of a signed terminal
            INFO(type << " " << e.data);
            REQUIRE(testkit::catalogProblems(e) == "");
            const auto r = ctx.process(proc, e);
            INFO(r.reason);
            CHECK(r.kind == sdk::Result::Kind::Ok);
            taken.insert(type);
        }
        for (auto& e : ctx.takeEmitted())
            emitted.push_back(std::move(e));
    };
    run({"gov.fee.paid", "gov.fee.refund_requested", "gov.fee.refund_verified",
         "gov.fee.refund_approved", "gov.fee.refunded"});
    run({"gov.fee.paid", "gov.fee.refund_requested", "gov.fee.refund_rejected"});
    run({"gov.fee.paid", "gov.fee.payment_reversed"});
    run({"gov.fee.assessment_cancelled"});
    std::set<std::string> read;
    for (const auto& [type, _] : ow::fees::FeeBook::fieldsRead())
        read.insert(type);
    CHECK(taken == read); // every type the book reads was fed its example

    std::set<std::string> kinds;
    for (const auto& e : emitted)
        kinds.insert(e.type);
    // Taken, not refused: a notice, the split, the refund paid, the reversal, the cancellation.
    for (const char* t : {"gov.fee.notice_issued", "gov.fee.paid", "gov.fee.share_adjusted",
                          "gov.fee.payment_reversed", "gov.fee.notice_cancelled"})
        CHECK(kinds.count(t) == 1);
    CHECK(kinds.count("gov.fee.payment_refused") == 0);
    CHECK(kinds.count("gov.fee.assessment_refused") == 0);
    CHECK(kinds.count("gov.fee.refund_refused") == 0);
    CHECK(allProblems(emitted) == "");
}
