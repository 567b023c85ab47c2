#include "core/store/PluginState.h"

#include <limits>

namespace ow::store {

const char* const PluginStateSchema = R"sql(
CREATE TABLE IF NOT EXISTS plugin_state(
  instance TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY(instance, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS plugin_timers(
  instance TEXT NOT NULL,
  name TEXT NOT NULL,
  due_ms INTEGER NOT NULL,
  payload BLOB NOT NULL,
  PRIMARY KEY(instance, name)) WITHOUT ROWID;
DROP INDEX IF EXISTS plugin_timers_due;
CREATE INDEX IF NOT EXISTS plugin_timers_due_name ON plugin_timers(instance, due_ms, name);
)sql";

struct PluginState::Statements {
    explicit Statements(Database& db)
        : get(db, "SELECT value FROM plugin_state WHERE instance=?1 AND key=?2"),
          put(db, "INSERT INTO plugin_state(instance,key,value) VALUES(?1,?2,?3) "
                  "ON CONFLICT(instance,key) DO UPDATE SET value=excluded.value"),
          erase(db, "DELETE FROM plugin_state WHERE instance=?1 AND key=?2"),
          setTimer(db, "INSERT INTO plugin_timers(instance,name,due_ms,payload) "
                       "VALUES(?1,?2,?3,?4) ON CONFLICT(instance,name) DO UPDATE SET "
                       "due_ms=excluded.due_ms, payload=excluded.payload"),
          cancelTimer(db, "DELETE FROM plugin_timers WHERE instance=?1 AND name=?2"),
          removeFired(db, "DELETE FROM plugin_timers WHERE instance=?1 AND name=?2 AND due_ms=?3"),
          due(db, "SELECT name, due_ms, payload FROM plugin_timers WHERE instance=?1 AND "
                  "due_ms<=?2 AND (due_ms>?4 OR (due_ms=?4 AND name>?5)) "
                  "ORDER BY due_ms, name LIMIT ?3"),
          timer(db, "SELECT name, due_ms, payload FROM plugin_timers WHERE instance=?1 AND "
                    "name=?2"),
          range(db, "SELECT key, value FROM plugin_state WHERE instance=?1 AND key>=?2 AND "
                    "key<?3 ORDER BY key") {}
    Statement get, put, erase, setTimer, cancelTimer, removeFired, due, timer, range;
};

PluginState::PluginState(Database& db) : db_(db), st_(std::make_unique<Statements>(db)) {}
PluginState::~PluginState() = default;

std::optional<std::string> PluginState::get(const std::string& instance, const std::string& key) {
    auto& s = st_->get;
    s.bind(1, instance).bind(2, key);
    std::optional<std::string> out;
    if (s.step()) out = s.text(0);
    s.reset();
    return out;
}

void PluginState::put(const std::string& instance, const std::string& key,
                      const std::string& value) {
    st_->put.bind(1, instance).bind(2, key).bind(3, value).run();
}

void PluginState::erase(const std::string& instance, const std::string& key) {
    st_->erase.bind(1, instance).bind(2, key).run();
}

void PluginState::setTimer(const std::string& instance, const std::string& name, std::int64_t dueMs,
                           const std::string& payload) {
    st_->setTimer.bind(1, instance).bind(2, name).bind(3, dueMs).bind(4, payload).run();
}

void PluginState::cancelTimer(const std::string& instance, const std::string& name) {
    st_->cancelTimer.bind(1, instance).bind(2, name).run();
}

bool PluginState::removeFired(const std::string& instance, const std::string& name,
                              std::int64_t dueMs) {
    st_->removeFired.bind(1, instance).bind(2, name).bind(3, dueMs).run();
    return db_.changes() > 0;
}

std::vector<DueTimer> PluginState::due(const std::string& instance, std::int64_t nowMs, int limit,
                                       const std::optional<TimerKey>& after) {
    auto& s = st_->due;
    s.bind(1, instance).bind(2, nowMs).bind(3, static_cast<std::int64_t>(limit));
    if (after)
        s.bind(4, after->dueMs).bind(5, after->name);
    else
        s.bind(4, std::numeric_limits<std::int64_t>::min()).bind(5, std::string());
    std::vector<DueTimer> out;
    while (s.step())
        out.push_back({s.text(0), s.int64(1), s.text(2)});
    s.reset();
    return out;
}

std::vector<std::pair<std::string, std::string>>
PluginState::withPrefix(const std::string& instance, const std::string& prefix) {
    std::string end = prefix;
    // The first key after every key that starts with the prefix.
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff)
        end.pop_back();
    if (end.empty())
        end = std::string(1, static_cast<char>(0xff)) + std::string(1, static_cast<char>(0xff));
    else
        end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    auto& s = st_->range;
    s.bind(1, instance).bind(2, prefix).bind(3, end);
    std::vector<std::pair<std::string, std::string>> out;
    while (s.step())
        out.emplace_back(s.text(0), s.text(1));
    s.reset();
    return out;
}

std::optional<DueTimer> PluginState::timer(const std::string& instance, const std::string& name) {
    auto& s = st_->timer;
    s.bind(1, instance).bind(2, name);
    std::optional<DueTimer> out;
    if (s.step()) out = DueTimer{s.text(0), s.int64(1), s.text(2)};
    s.reset();
    return out;
}

} // namespace ow::store
