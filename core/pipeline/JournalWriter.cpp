#include "core/pipeline/JournalWriter.h"
#include "core/util/ThreadName.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "core/event/CloudEventCodec.h"
#include "core/observability/Log.h"
#include "core/security/Principal.h"
#include "core/store/StorageAdvice.h"

namespace ow::pipeline {

using observability::Log;
using store::AcceptOutcome;
using store::OutboxRow;

namespace {
constexpr int RouteChunk = 2000;           // events routed per transaction at most
constexpr std::int64_t ReplayPollMs = 500; // how often `dlq replay` requests are picked up
constexpr std::int64_t PruneEveryMs = 10 * 60 * 1000;
constexpr int PruneChunk = 500;
// Distinct refusals (input, principal, address, status, reason) kept between transactions.
constexpr std::size_t MaxPendingRefusals = 10000;

// A peer's address without its port ("[::1]:5000" -> "[::1]", "10.0.0.7:5000" -> "10.0.0.7"):
// the audit trail records one refusal per source of a flood, not one per socket.
std::string hostOf(const std::string& peer) {
    if (!peer.empty() && peer.front() == '[') return peer.substr(0, peer.find(']') + 1);
    const auto colon = peer.find(':');
    return colon != std::string::npos && peer.find(':', colon + 1) == std::string::npos
               ? peer.substr(0, colon)
               : peer;
}
} // namespace

JournalWriter::JournalWriter(store::Journal& journal,
                             std::shared_ptr<const routing::RouteTable> routes,
                             const util::Clock& clock, observability::Metrics& metrics,
                             int maxBatch, RowsCallback onRows)
    : journal_(journal), routes_(std::move(routes)), clock_(clock), maxBatch_(maxBatch),
      onRows_(std::move(onRows)), state_(std::make_unique<store::PluginState>(journal.database())),
      batchEvents_(metrics.histogram("onewindow_commit_batch_events",
                                     "Events committed per journal transaction (group commit)",
                                     {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})),
      commitSeconds_(metrics.histogram("onewindow_commit_seconds", "Journal transaction duration",
                                       observability::Metrics::latencyBuckets())),
      commitFailures_(metrics.counter("onewindow_journal_commit_failures_total",
                                      "Journal transactions that failed (answered 503)")),
      routedRows_(
          metrics.counter("onewindow_routed_deliveries_total", "Outbox rows created by routing")),
      unroutable_(metrics.counter(
          "onewindow_unroutable_deliveries_total",
          "Deliveries dead-lettered at routing (unknown output, missing attribute)")),
      unmatched_(
          metrics.counter("onewindow_unmatched_events_total", "Events that matched no route")) {}

JournalWriter::~JournalWriter() {
    stop();
}

void JournalWriter::start() {
    std::int64_t cursor = journal_.routedCursor();
    std::int64_t last = journal_.lastSeq();
    loadedSeq_ = cursor;
    backlog_ = last > cursor;
    unrouted_ = last - cursor;
    deadCount_ = journal_.countOutbox(1);
    if (backlog_)
        Log::info("journal",
                  "events accepted before the last stop are not routed yet; routing them",
                  {{"unrouted", last - cursor}});
    // Pending deliveries are not loaded here: each dispatcher lane reads its own backlog from
    // the journal in bounded windows.
    lastPruneMs_ = clock_.nowMs();
    if (!walSync_) walSync_ = [this] { journal_.syncWal(); };
    deferredSync_ = journal_.deferSync();
    if (deferredSync_)
        syncThread_ = std::thread([this] {
            util::nameThisThread("ow-wal-sync");
            runSync();
        });
    completionThread_ = std::thread([this] {
        util::nameThisThread("ow-commit-done");
        runCompletions();
    });
    thread_ = std::thread([this] {
        util::nameThisThread("ow-writer");
        run();
    });
}

void JournalWriter::setAudit(std::unique_ptr<audit::AuditLog> audit, std::int64_t retentionMs) {
    audit_ = std::move(audit);
    auditRetentionMs_ = retentionMs;
}

void JournalWriter::auditRefusal(const std::string& input, const std::string& principal,
                                 const std::string& remote, int status, const std::string& reason) {
    if (!audit_) return;
    {
        std::lock_guard lock(mu_);
        RefusalKey key{input, principal, hostOf(remote), reason, status};
        // Bounded: past this many distinct refusals, the rest count under one address.
        if (pendingRefusals_.size() >= MaxPendingRefusals && !pendingRefusals_.count(key))
            key.remote = "(many addresses)";
        ++pendingRefusals_[key];
    }
    cv_.notify_one();
}

void JournalWriter::auditAction(nlohmann::json fields) {
    if (!audit_) return;
    {
        std::lock_guard lock(mu_);
        pendingActions_.push_back(std::move(fields));
    }
    cv_.notify_one();
}

void JournalWriter::writePendingAudit(std::int64_t now) {
    std::map<RefusalKey, std::int64_t> refusals;
    std::vector<nlohmann::json> actions;
    {
        std::lock_guard lock(mu_);
        refusals.swap(pendingRefusals_);
        actions.swap(pendingActions_);
    }
    for (auto& a : actions)
        audit_->append("operator", now, std::move(a));
    for (const auto& [k, count] : refusals)
        audit_->append("refused", now,
                       {{"input", k.input},
                        {"principal", k.principal},
                        {"remote", k.remote},
                        {"status", k.status},
                        {"reason", k.reason},
                        {"count", count}});
}

void JournalWriter::auditAccepted(std::int64_t seq, const std::string& input,
                                  const std::string& principal, const std::string& auth,
                                  const event::Event* e, const std::string& id,
                                  const std::string& source, const std::string& type,
                                  const std::string& body, std::int64_t now) {
    nlohmann::json r = {{"event_seq", seq},
                        {"input", input},
                        {"principal", principal},
                        {"auth", auth},
                        {"id", id},
                        {"source", source},
                        {"type", type},
                        {"body_hash", audit_->bodyHash(body)}};
    if (e && e->subject) r["subject"] = *e->subject;
    audit_->append("accepted", now, std::move(r));
}

void JournalWriter::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    // The writer released every transaction's effects before it left, after their syncs.
    {
        std::lock_guard lock(syncMu_);
        syncStopping_ = true;
    }
    syncCv_.notify_all();
    if (syncThread_.joinable()) syncThread_.join();
    // After the writer: its last transaction's callbacks are queued by now, and run first.
    {
        std::lock_guard lock(completionMu_);
        completionStopping_ = true;
    }
    completionCv_.notify_all();
    if (completionThread_.joinable()) completionThread_.join();
}

AcceptResult JournalWriter::accept(std::vector<AcceptItem> items, const std::string& input,
                                   const std::string& client,
                                   std::optional<IdempotencyBinding> idem,
                                   std::vector<store::SeenSignature> signatures) {
    std::promise<AcceptResult> result;
    auto fut = result.get_future();
    acceptAsync(std::move(items), input, client, std::move(idem), std::move(signatures),
                [&result](AcceptResult r) { result.set_value(std::move(r)); });
    return fut.get();
}

void JournalWriter::acceptAsync(std::vector<AcceptItem> items, const std::string& input,
                                const std::string& client, std::optional<IdempotencyBinding> idem,
                                std::vector<store::SeenSignature> signatures, AcceptCallback done) {
    auto req = std::make_unique<Request>();
    req->signatures = std::move(signatures);
    req->items = std::move(items);
    req->input = input;
    req->client = client;
    req->idem = std::move(idem);
    req->done = std::move(done);
    {
        std::lock_guard lock(mu_);
        if (!stopping_) {
            requests_.push_back(std::move(req));
            req = nullptr;
        }
    }
    if (req) {
        answer(*req, AcceptResult{false, "the hub is shutting down", {}, {}});
        return;
    }
    cv_.notify_one();
}

void JournalWriter::answer(Request& req, AcceptResult result) {
    // A seam: an answer callback that throws must not take the writer down with it.
    try {
        req.done(std::move(result));
    } catch (const std::exception& e) {
        Log::error("journal", "answering an accepted request failed", {{"error", e.what()}});
    } catch (...) {
        Log::error("journal", "answering an accepted request failed: unknown exception");
    }
}

void JournalWriter::replaceRoutes(std::shared_ptr<const routing::RouteTable> routes) {
    std::unique_lock lock(mu_);
    if (exited_ || !thread_.joinable()) {
        routes_ = std::move(routes);
        return;
    }
    nextRoutes_ = std::move(routes);
    cv_.notify_all();
    routesCv_.wait(lock, [this] { return !nextRoutes_ || exited_; });
    if (nextRoutes_) routes_ = std::move(nextRoutes_);
}

void JournalWriter::processed(ProcessorCommit commit, CommitCallback done) {
    {
        std::lock_guard lock(mu_);
        if (!exited_) {
            processed_.push_back({std::move(commit), std::move(done)});
            cv_.notify_one();
            return;
        }
    }
    done(CommitOutcome::Failed, "the hub is shutting down");
}

void JournalWriter::sync() {
    std::future<void> done;
    {
        std::lock_guard lock(mu_);
        if (exited_ || !thread_.joinable()) return; // nothing queued is applied any more
        syncs_.emplace_back();
        done = syncs_.back().get_future();
    }
    cv_.notify_one();
    done.wait();
}

void JournalWriter::delivered(std::int64_t rowId) {
    {
        std::lock_guard lock(mu_);
        updates_.push_back({Update::Kind::Delivered, rowId, 0, 0, {}});
    }
    cv_.notify_one();
}

void JournalWriter::retry(std::int64_t rowId, int attempts, std::int64_t nextAtMs,
                          const std::string& error) {
    {
        std::lock_guard lock(mu_);
        updates_.push_back({Update::Kind::Retry, rowId, attempts, nextAtMs, error});
    }
    cv_.notify_one();
}

void JournalWriter::dead(std::int64_t rowId, int attempts, const std::string& error) {
    {
        std::lock_guard lock(mu_);
        updates_.push_back({Update::Kind::Dead, rowId, attempts, 0, error});
    }
    cv_.notify_one();
}

void JournalWriter::loadBacklog() {
    auto rows = journal_.eventsAfter(loadedSeq_, RouteChunk);
    if (rows.size() < static_cast<std::size_t>(RouteChunk)) backlog_ = false;
    for (auto& r : rows) {
        loadedSeq_ = r.seq;
        unroutedEvents_.push_back({std::move(r), nullptr});
    }
}

std::vector<OutboxRow> JournalWriter::routeEvents(const std::vector<Pending>& events) {
    std::vector<OutboxRow> rows;
    std::int64_t now = clock_.nowMs();
    for (const auto& p : events) {
        std::shared_ptr<const event::Event> ev = p.event;
        if (!ev) {
            try {
                // Read back from disk: the hub's attributes come from the stored provenance.
                auto e = event::fromJson(nlohmann::json::parse(*p.stored.body));
                security::stamp(e, security::principalOf(p.stored.from));
                ev = std::make_shared<const event::Event>(std::move(e));
            } catch (const std::exception& e) {
                // Cannot happen for what this hub journaled; keep going rather than stall routing.
                Log::error("router", "journaled event cannot be read back; skipped",
                           {{"seq", p.stored.seq}, {"error", e.what()}});
                continue;
            }
        }
        auto targets = routes_->route(*ev);
        if (targets.empty()) unmatched_.inc();
        for (auto& t : targets) {
            OutboxRow row;
            row.eventSeq = p.stored.seq;
            row.output = t.output;
            row.route = t.route;
            row.orderingKey = t.orderingKey;
            row.nextAtMs = now;
            row.body = p.stored.body;
            row.from = p.stored.from;
            if (!t.error.empty()) {
                row.lastError = t.error;
                journal_.insertOutbox(row, 1, now);
                unroutable_.inc();
                deadCount_.fetch_add(1);
                Log::warn("router", "delivery dead-lettered at routing",
                          {{"source", p.stored.source}, {"id", p.stored.id}, {"reason", t.error}});
                continue;
            }
            row.id = journal_.insertOutbox(row, 0, now);
            if (row.id != 0) rows.push_back(std::move(row));
        }
    }
    // One cursor write per transaction: it commits atomically with the rows above.
    if (!events.empty()) journal_.setRoutedCursor(events.back().stored.seq);
    routedRows_.inc(rows.size());
    return rows;
}

CommitOutcome JournalWriter::applyProcessed(const ProcessorCommit& c, std::int64_t now,
                                            std::vector<Pending>& accepted) {
    auto& refusedUpTo = refusedUpTo_[c.instance];
    if (c.generation <= refusedUpTo) return CommitOutcome::Failed;
    // First make sure the row or timer is still there to handle: a lane that timed out may
    // have processed the event twice, and only the first commit may take effect. The later
    // commits of the instance read what this one would have written, so they go too.
    const bool present = c.fired ? state_->removeFired(c.instance, c.fired->name, c.fired->dueMs)
                                 : journal_.deleteOutbox(c.rowId);
    if (!present) {
        refusedUpTo = c.generation;
        return CommitOutcome::AlreadyHandled;
    }
    for (const auto& [key, value] : c.state) {
        if (value)
            state_->put(c.instance, key, *value);
        else
            state_->erase(c.instance, key);
    }
    for (const auto& [name, t] : c.timers) {
        if (t.dueMs)
            state_->setTimer(c.instance, name, *t.dueMs, t.payload);
        else
            state_->cancelTimer(c.instance, name);
    }
    if (c.emitted.empty()) return CommitOutcome::Committed;
    const std::string input = "processor:" + c.instance;
    for (const auto& item : c.emitted) {
        const auto& ev = *item.event;
        std::int64_t seq = journal_.insertEvent(ev.source, ev.id, ev.type, input, input, now,
                                                item.body, "processor");
        // A repeat (same source and id) was emitted before: the event exists once.
        if (seq == 0) continue;
        if (audit_)
            auditAccepted(seq, input, input, "processor", &ev, ev.id, ev.source, ev.type, item.body,
                          now);
        auto body = std::make_shared<const std::string>(item.body);
        accepted.push_back(
            {store::StoredEvent{
                 seq, ev.source, ev.id, ev.type, now, body, {input, input, "processor"}},
             item.event});
    }
    return CommitOutcome::Committed;
}

std::vector<JournalWriter::Completion>
JournalWriter::settleProcessed(std::vector<Processed> processed,
                               const std::vector<CommitOutcome>& outcomes, bool ok,
                               const std::string& error) {
    std::vector<Completion> done;
    if (processed.empty()) return done;
    done.reserve(processed.size());
    for (std::size_t i = 0; i < processed.size(); ++i) {
        auto& p = processed[i];
        CommitOutcome outcome = ok ? outcomes[i] : CommitOutcome::Failed;
        std::string why;
        if (!ok) {
            // On the writer, before the next transaction: later commits of the instance that
            // may rest on this one are refused from now on.
            auto& upTo = refusedUpTo_[p.commit.instance];
            upTo = std::max(upTo, p.commit.generation);
            why = "journal commit failed: " + error;
        } else if (outcome == CommitOutcome::Failed) {
            why = "an earlier commit of this processor failed; the event is handled again";
        }
        done.push_back({std::move(p), outcome, std::move(why)});
    }
    return done;
}

void JournalWriter::handOff(std::vector<Completion> done) {
    if (done.empty()) return;
    {
        std::lock_guard lock(completionMu_);
        completions_.insert(completions_.end(), std::make_move_iterator(done.begin()),
                            std::make_move_iterator(done.end()));
    }
    completionCv_.notify_one();
}

void JournalWriter::runCompletions() {
    std::unique_lock lock(completionMu_);
    for (;;) {
        completionCv_.wait(lock, [this] { return completionStopping_ || !completions_.empty(); });
        if (completions_.empty()) return; // stopping, and everything was called
        std::vector<Completion> batch;
        batch.swap(completions_);
        lock.unlock();
        for (auto& c : batch) {
            // A seam: a callback that throws must not end the callbacks of other commits.
            try {
                c.processed.done(c.outcome, c.why);
            } catch (const std::exception& e) {
                Log::error("journal", "processor commit callback failed", {{"error", e.what()}});
            }
        }
        // The callbacks may hold the last references to processor runtimes; they go here,
        // off the lock, like the calls.
        batch.clear();
        lock.lock();
    }
}

void JournalWriter::run() {
    for (;;) {
        std::vector<std::unique_ptr<Request>> batch;
        std::vector<Update> updates;
        std::vector<Processed> processed;
        std::vector<std::promise<void>> syncs;
        bool finalAudit = false;
        {
            std::unique_lock lock(mu_);
            auto deadline =
                std::chrono::steady_clock::now() + std::chrono::milliseconds(ReplayPollMs);
            const auto work = [&] {
                return stopping_ || !requests_.empty() || !updates_.empty() ||
                       !processed_.empty() || !unroutedEvents_.empty() || backlog_ || nextRoutes_ ||
                       !syncs_.empty() || !pendingRefusals_.empty() || !pendingActions_.empty();
            };
            const bool woken = cv_.wait_until(lock, deadline, [&] {
                return work() ||
                       (!deferred_.empty() && deferred_.front().needSynced <= syncedUpTo_.load());
            });
            if (woken && !work()) {
                // Only a sync finished: release what it made durable, without a transaction.
                lock.unlock();
                runReady();
                continue;
            }
            // Between transactions: the previous one, routed with the old table, is committed.
            if (nextRoutes_) {
                routes_ = std::move(nextRoutes_);
                routesCv_.notify_all();
            }
            std::size_t events = 0;
            while (!requests_.empty() && (events == 0 || events + requests_.front()->items.size() <=
                                                             static_cast<std::size_t>(maxBatch_))) {
                events += requests_.front()->items.size();
                batch.push_back(std::move(requests_.front()));
                requests_.pop_front();
            }
            updates.swap(updates_);
            processed.swap(processed_);
            syncs.swap(syncs_);
            // The last transaction before the writer stops writes the audit trail's final
            // checkpoint (and whatever audit records are still queued).
            finalAudit = stopping_ && audit_ && !auditClosed_;
            if (finalAudit) auditClosed_ = true; // once, whether its commit works or not
            if (stopping_ && batch.empty() && updates.empty() && processed.empty() && !finalAudit) {
                if (!deferred_.empty()) {
                    // Committed transactions still wait for their sync: release them first,
                    // then look again (more may have been queued meanwhile).
                    for (auto& s : syncs)
                        syncs_.push_back(std::move(s));
                    lock.unlock();
                    awaitDeferred();
                    continue;
                }
                for (auto& s : syncs)
                    s.set_value();
                exited_ = true;
                routesCv_.notify_all();
                break;
            }
        }

        std::int64_t now = clock_.nowMs();
        auto started = std::chrono::steady_clock::now();
        std::vector<Pending> accepted; // committed in this transaction
        std::vector<OutboxRow> newRows;
        std::size_t routedCount = 0;
        bool ok = true;
        bool relaxed = true; // a transaction whose loss in a power cut costs only work redone
        std::string error;
        int errorCode = 0; // SQLite's, when the store failed
        std::int64_t deadDelta = 0;
        std::vector<CommitOutcome> outcomes(processed.size(), CommitOutcome::Failed);
        try {
            // A transaction without accepted events (delivery results, routing of what is
            // already durable, replays) needs no fsync of its own: a power cut loses at most
            // results, and those deliveries are simply made again. Transactions that answer a
            // 2xx keep the configured durability.
            //
            // Processor commits without emitted events need no fsync either: their state
            // writes and the removal of their row are one atomic transaction, so a power cut
            // loses both together and the event is processed again, with the same effects.
            // Emitted events leave the hub, so those commits are made durable.
            // Once a second: anything in the inbox? Its events are answered to nobody, but
            // the submitting command was told they are safe, so that commit is durable.
            bool takeInbox = false;
            if (now - lastInboxPollMs_ >= ReplayPollMs) {
                lastInboxPollMs_ = now;
                takeInbox = journal_.hasSubmitted();
            }
            relaxed = !takeInbox && batch.empty() && !finalAudit &&
                      std::none_of(processed.begin(), processed.end(),
                                   [](const Processed& p) { return !p.commit.emitted.empty(); });
            journal_.setRelaxedCommit(relaxed);
            journal_.begin();
            if (audit_) {
                audit_->beginTransaction();
                writePendingAudit(now);
            }
            if (backlog_ && unroutedEvents_.size() < static_cast<std::size_t>(RouteChunk))
                loadBacklog();
            for (auto& req : batch) {
                req->outcomes.clear();
                req->previous.reset();
                if (!req->signatures.empty()) journal_.rememberSigned(req->input, req->signatures);
                if (req->idem) {
                    req->previous = journal_.findIdempotency(req->idem->client, req->idem->key);
                    if (req->previous) continue;
                }
                for (auto& item : req->items) {
                    const auto& ev = *item.event;
                    // Insert first: a new event (the common case) costs one index probe.
                    const std::string auth = ev.attribute("owauth").value_or("");
                    std::int64_t seq = journal_.insertEvent(ev.source, ev.id, ev.type, req->input,
                                                            req->client, now, item.body, auth);
                    if (seq == 0) {
                        auto dup = journal_.findEvent(ev.source, ev.id);
                        if (!dup)
                            throw store::StoreError(0, "event vanished while checking a duplicate");
                        req->outcomes.push_back(*dup);
                        continue;
                    }
                    if (audit_)
                        auditAccepted(seq, req->input, req->client, auth, &ev, ev.id, ev.source,
                                      ev.type, item.body, now);
                    auto body = std::make_shared<const std::string>(std::move(item.body));
                    req->outcomes.push_back({AcceptOutcome::Status::Accepted, seq, now});
                    accepted.push_back({store::StoredEvent{seq,
                                                           ev.source,
                                                           ev.id,
                                                           ev.type,
                                                           now,
                                                           body,
                                                           {req->input, req->client, auth}},
                                        item.event});
                }
                if (req->idem) {
                    auto [status, response] = req->idem->respond(req->outcomes);
                    journal_.putIdempotency(req->idem->client, req->idem->key,
                                            {req->idem->fingerprint, status, response, now});
                }
            }
            // Events other processes submitted (onewindow fees reconcile): journaled like
            // accepted ones, once (their source and id make a repeat a duplicate).
            if (takeInbox) {
                for (auto& sub : journal_.takeSubmitted(RouteChunk)) {
                    std::int64_t seq = journal_.insertEvent(sub.source, sub.id, sub.type, sub.input,
                                                            sub.input, now, sub.body, "command");
                    if (seq == 0) continue;
                    if (audit_)
                        auditAccepted(seq, sub.input, sub.input, "command", nullptr, sub.id,
                                      sub.source, sub.type, sub.body, now);
                    accepted.push_back(
                        {store::StoredEvent{seq,
                                            sub.source,
                                            sub.id,
                                            sub.type,
                                            now,
                                            std::make_shared<const std::string>(sub.body),
                                            {sub.input, sub.input, "command"}},
                         nullptr});
                }
            }
            // Processor effects: their emitted events are routed below like accepted ones.
            for (std::size_t i = 0; i < processed.size(); ++i)
                outcomes[i] = applyProcessed(processed[i].commit, now, accepted);
            // Route what is committed-but-unrouted first, then this transaction's own events,
            // unless older unrouted events are still on disk (they must go first: order).
            std::vector<Pending> toRoute(
                unroutedEvents_.begin(),
                unroutedEvents_.begin() +
                    std::min<std::size_t>(unroutedEvents_.size(), RouteChunk));
            if (!backlog_)
                for (const auto& p : accepted)
                    if (toRoute.size() < static_cast<std::size_t>(RouteChunk)) toRoute.push_back(p);
            routedCount = toRoute.size();
            newRows = routeEvents(toRoute);
            for (const auto& u : updates) {
                switch (u.kind) {
                case Update::Kind::Delivered:
                    journal_.deleteOutbox(u.id);
                    break;
                case Update::Kind::Retry:
                    journal_.updateRetry(u.id, u.attempts, u.nextAtMs, u.error);
                    break;
                case Update::Kind::Dead:
                    journal_.markDead(u.id, u.attempts, u.error, now);
                    ++deadDelta;
                    break;
                }
            }
            std::vector<OutboxRow> replayed;
            if (now - lastReplayPollMs_ >= ReplayPollMs) {
                lastReplayPollMs_ = now;
                replayed = journal_.takeReplayRequests(now);
                deadDelta -= static_cast<std::int64_t>(replayed.size());
                deadDelta -= journal_.takeDiscardRequests();
                if (!replayed.empty())
                    Log::info("dlq", "replaying dead letters", {{"rows", replayed.size()}});
            }
            if (now - lastPruneMs_ >= PruneEveryMs) {
                // A small chunk per transaction; while a chunk comes back full, pruning stays
                // due and continues in the next one, so catching up never stalls a commit.
                int removed = journal_.prune(now - eventRetentionMs, now - idempotencyRetentionMs,
                                             PruneChunk);
                // The audit trail has a retention of its own (months, not days).
                const int audited = audit_ ? audit_->prune(now - auditRetentionMs_, PruneChunk) : 0;
                if (removed < PruneChunk && audited < PruneChunk) lastPruneMs_ = now;
                journal_.pruneSigned(now / 1000);
                if (removed || audited)
                    Log::debug("journal", "pruned",
                               {{"rows", removed}, {"audit_records", audited}});
            }
            if (audit_) audit_->checkpointIfDue(now, finalAudit);
            journal_.commit();
            for (auto& r : replayed)
                newRows.push_back(std::move(r));
        } catch (const std::exception& e) {
            journal_.rollback();
            ok = false;
            error = e.what();
            const auto* store = dynamic_cast<const store::StoreError*>(&e);
            errorCode = store ? store->code() : 0;
        }
        AfterCommit after;
        after.ok = ok;
        after.error = error;
        after.completions = settleProcessed(std::move(processed), outcomes, ok, error);
        after.syncs = std::move(syncs);

        commitSeconds_.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        if (!ok) {
            commitFailures_.inc();
            lastFailureMs_ = clock_.nowMs();
            // A full disk fails every commit: one line when it starts, a count when it ends.
            if (failedCommits_++ == 0)
                Log::error(
                    "journal", "commit failed; requests answered 503 until it works again",
                    {{"error", error},
                     {"what_to_do", store::storageAdvice(errorCode, journal_.database().path())}});
            refusedRequests_ += batch.size();
            // Answered in order with the transactions before it. Delivery results are lost
            // with the transaction: those rows are delivered again after a restart
            // (at-least-once), never lost.
            after.requests = std::move(batch);
            after.needSynced = commitTicket_;
            deferred_.push_back(std::move(after));
            runReady();
            continue;
        }
        if (failedCommits_ > 0) {
            Log::warn(
                "journal", "commits work again",
                {{"failed_commits", failedCommits_}, {"requests_answered_503", refusedRequests_}});
            failedCommits_ = refusedRequests_ = 0;
        }
        if (afterCommit) {
            try {
                afterCommit(journal_.walPages());
            } catch (const std::exception& e) {
                Log::warn("journal", "after-commit hook failed", {{"error", e.what()}});
            }
        }
        after.requests = std::move(batch);
        deadCount_.fetch_add(deadDelta);

        // Bookkeeping of what is now routed.
        std::size_t fromQueue = std::min(routedCount, unroutedEvents_.size());
        unroutedEvents_.erase(unroutedEvents_.begin(),
                              unroutedEvents_.begin() + static_cast<std::ptrdiff_t>(fromQueue));
        std::size_t fromAccepted = routedCount - fromQueue;
        if (!backlog_) {
            for (std::size_t i = fromAccepted; i < accepted.size(); ++i)
                unroutedEvents_.push_back(accepted[i]);
            if (!accepted.empty()) loadedSeq_ = accepted.back().stored.seq;
        } else {
            backlog_ = true; // this transaction's events stay on disk until the backlog is read
        }
        unrouted_ = static_cast<std::int64_t>(unroutedEvents_.size()) + (backlog_ ? 1 : 0);
        // Rows go out only once their events are durable: a delivery must never be made of
        // an event a power cut could still take back.
        after.rows = std::move(newRows);
        for (const auto& p : accepted)
            committedSeq_ = std::max(committedSeq_, p.stored.seq);
        if (deferredSync_ && !relaxed) {
            ++commitTicket_;
            {
                std::lock_guard lock(syncMu_);
                syncWanted_ = commitTicket_;
                syncWantedSeq_ = committedSeq_;
            }
            syncCv_.notify_one();
        } else if (!relaxed) {
            // `synchronous: normal`: answered now, so recorded now (see Journal::recordAcked).
            journal_.recordAcked(committedSeq_);
        }
        after.needSynced = commitTicket_;
        deferred_.push_back(std::move(after));
        runReady();
        if (!deferredSync_ && !relaxed) journal_.syncAckedRecordIfDue();
    }
}

void JournalWriter::runReady() {
    if (deferred_.empty()) return;
    const std::uint64_t synced = syncedUpTo_.load();
    if (deferred_.front().needSynced > synced) return;
    std::string syncError;
    if (syncFailed_.load()) { // the lock only once a sync has failed, not per transaction
        std::lock_guard lock(syncMu_);
        syncError = syncError_;
    }
    while (!deferred_.empty() && deferred_.front().needSynced <= synced) {
        AfterCommit a = std::move(deferred_.front());
        deferred_.pop_front();
        apply(a, a.needSynced > 0 ? syncError : std::string());
    }
}

void JournalWriter::awaitDeferred() {
    if (deferred_.empty()) return;
    const std::uint64_t need = deferred_.back().needSynced;
    {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return syncedUpTo_.load() >= need; });
    }
    runReady();
}

void JournalWriter::apply(AfterCommit& a, const std::string& syncError) {
    const bool ok = a.ok && syncError.empty();
    const std::string why =
        !a.ok ? a.error
              : "the journal could not be made durable (" + syncError + "); restart the hub";
    std::size_t events = 0;
    for (auto& req : a.requests) {
        if (ok) {
            events += req->items.size();
            answer(*req,
                   AcceptResult{true, {}, std::move(req->outcomes), std::move(req->previous)});
        } else {
            answer(*req, AcceptResult{false, why, {}, {}});
        }
    }
    if (events) batchEvents_.observe(static_cast<double>(events));
    if (!ok)
        for (auto& c : a.completions)
            if (c.outcome != CommitOutcome::Failed) {
                c.outcome = CommitOutcome::Failed;
                c.why = "journal commit failed: " + why;
            }
    handOff(std::move(a.completions));
    if (ok && !a.rows.empty()) {
        // A seam: the writer thread must survive whatever the receiving side throws, or
        // every HTTP thread waiting for a commit would wait forever. The rows are
        // committed, so a restart delivers them.
        try {
            onRows_(std::move(a.rows));
        } catch (const std::exception& e) {
            Log::error("journal", "handing committed deliveries to the dispatcher failed",
                       {{"error", e.what()}});
        }
    }
    for (auto& s : a.syncs)
        s.set_value();
}

void JournalWriter::runSync() {
    std::unique_lock lock(syncMu_);
    for (;;) {
        syncCv_.wait(lock, [this] { return syncStopping_ || syncWanted_ > syncedUpTo_.load(); });
        if (syncWanted_ <= syncedUpTo_.load()) return; // stopping, and nothing left to sync
        // Every transaction up to this ticket has committed (written its WAL frames) before
        // the ticket was wanted, so one fdatasync started now covers them all.
        const std::uint64_t target = syncWanted_;
        const std::int64_t seq = syncWantedSeq_;
        lock.unlock();
        std::string error;
        try {
            walSync_();
            // Before the answers: after a crash, the record covers every acknowledged event.
            journal_.recordAcked(seq);
        } catch (const std::exception& e) {
            error = e.what();
        }
        lock.lock();
        if (!error.empty() && syncError_.empty()) {
            // What the disk did with the unsynced pages is unknown (Linux may drop them after
            // a failed fsync): no later commit is answered as accepted either.
            syncError_ = error;
            syncFailed_ = true;
            Log::error("journal",
                       "the journal could not be synced to disk; every request is answered 503 "
                       "from now on: restart the hub once the disk is fixed",
                       {{"error", error}});
        }
        syncedUpTo_.store(target);
        lock.unlock();
        {
            std::lock_guard writer(mu_); // the writer is waiting, or will see syncedUpTo_
        }
        cv_.notify_all();
        if (error.empty()) journal_.syncAckedRecordIfDue();
        lock.lock();
    }
}

} // namespace ow::pipeline
