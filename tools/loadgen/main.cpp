// ow-loadgen: posts structured CloudEvents to the hub from C keep-alive connections and reports
// throughput and latency as one JSON line. With --retry-until-ms it keeps re-posting the same
// event (same id, same body) through connection failures, timeouts and 5xx answers, which is
// how the crash test keeps a steady stream going while the hub is killed and restarted; every
// 2xx answer is appended to --acked-file and flushed at once, so the file is exactly the set of
// events the hub has promised to deliver.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/NullStream.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: ow-loadgen --url URL --events N --concurrency C [--rate R (events/s, 0 = max)]\n"
    "                  [--id-prefix P] [--acked-file FILE] [--timeout-ms T]\n"
    "                  [--retry-until-ms D] [--subjects K] [--type TYPE] [--source SRC]\n"
    "                  [--body-bytes B] [--events-file FILE]\n"
    "  --events-file: post the CloudEvents of FILE, one JSON object per line, instead of\n"
    "  generated ones (--events defaults to the number of lines).\n";

struct Arguments {
    std::string url;
    std::int64_t events = -1;
    int concurrency = 0;
    double rate = 0;
    std::string idPrefix = "lg";
    std::string ackedFile;
    std::int64_t timeoutMs = 5000;
    std::int64_t retryUntilMs = 0;
    std::int64_t subjects = 100;
    std::string type = "gov.case.submitted";
    std::string source = "/ow-loadgen";
    std::int64_t bodyBytes = 512;
    std::string eventsFile;
    std::vector<std::string> lines; ///< the events of --events-file
};

[[noreturn]] void usageError(const std::string& message) {
    std::cerr << "ow-loadgen: " << message << "\n" << kUsage;
    std::exit(2);
}

template <typename Number> Number toNumber(const std::string& text, const std::string& option) {
    try {
        std::size_t used = 0;
        Number value{};
        if constexpr (std::is_floating_point_v<Number>) {
            value = static_cast<Number>(std::stod(text, &used));
        } else {
            value = static_cast<Number>(std::stoll(text, &used));
        }
        if (used == text.size()) {
            return value;
        }
    } catch (const std::exception&) {
    }
    usageError(option + " needs a number, got '" + text + "'");
}

Arguments parse(int argc, char** argv) {
    Arguments args;
    for (int i = 1; i < argc; ++i) {
        const std::string option = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usageError(option + " needs a value");
            }
            return argv[++i];
        };
        if (option == "--url") {
            args.url = value();
        } else if (option == "--events") {
            args.events = toNumber<std::int64_t>(value(), option);
        } else if (option == "--concurrency") {
            args.concurrency = toNumber<int>(value(), option);
        } else if (option == "--rate") {
            args.rate = toNumber<double>(value(), option);
        } else if (option == "--id-prefix") {
            args.idPrefix = value();
        } else if (option == "--acked-file") {
            args.ackedFile = value();
        } else if (option == "--timeout-ms") {
            args.timeoutMs = toNumber<std::int64_t>(value(), option);
        } else if (option == "--retry-until-ms") {
            args.retryUntilMs = toNumber<std::int64_t>(value(), option);
        } else if (option == "--subjects") {
            args.subjects = toNumber<std::int64_t>(value(), option);
        } else if (option == "--type") {
            args.type = value();
        } else if (option == "--source") {
            args.source = value();
        } else if (option == "--body-bytes") {
            args.bodyBytes = toNumber<std::int64_t>(value(), option);
        } else if (option == "--events-file") {
            args.eventsFile = value();
        } else if (option == "--help" || option == "-h") {
            std::cout << kUsage;
            std::exit(0);
        } else {
            usageError("unknown option " + option);
        }
    }
    if (args.url.empty()) {
        usageError("--url is required");
    }
    if (!args.eventsFile.empty()) {
        std::ifstream in(args.eventsFile);
        if (!in) usageError("cannot read " + args.eventsFile);
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) args.lines.push_back(std::move(line));
        if (args.lines.empty()) usageError(args.eventsFile + " holds no events");
        if (args.events < 0) args.events = static_cast<std::int64_t>(args.lines.size());
    }
    if (args.events < 0) {
        usageError("--events N (>= 0) is required");
    }
    if (args.concurrency < 1 || args.concurrency > 4096) {
        usageError("--concurrency C (1..4096) is required");
    }
    if (args.rate < 0 || args.timeoutMs < 1 || args.retryUntilMs < 0 || args.subjects < 1 ||
        args.bodyBytes < 0) {
        usageError("--rate, --retry-until-ms and --body-bytes must be >= 0; "
                   "--timeout-ms and --subjects >= 1");
    }
    return args;
}

/// The event for sequence number n, always byte-for-byte the same, so a retried post is a
/// true duplicate the hub can recognise by source+id.
std::string makeEvent(const Arguments& args, std::int64_t n) {
    if (!args.lines.empty()) return args.lines[static_cast<std::size_t>(n) % args.lines.size()];
    nlohmann::ordered_json event;
    event["specversion"] = "1.0";
    event["id"] = args.idPrefix + "-" + std::to_string(n);
    event["source"] = args.source;
    event["type"] = args.type;
    event["subject"] = "case-" + std::to_string(n % args.subjects);
    event["datacontenttype"] = "application/json";
    event["data"] = {{"seq", n}, {"pad", ""}};
    std::string text = event.dump();
    const auto size = static_cast<std::int64_t>(text.size());
    if (size < args.bodyBytes) {
        event["data"]["pad"] = std::string(static_cast<std::size_t>(args.bodyBytes - size), 'x');
        text = event.dump();
    }
    return text;
}

/// Appends "id status" lines; each line is flushed on its own so that a loadgen killed at any
/// moment has recorded every acknowledgement it received.
class AckLog {
public:
    explicit AckLog(const std::string& path) {
        if (!path.empty()) {
            file_ = std::fopen(path.c_str(), "a");
            if (file_ == nullptr) {
                throw std::runtime_error("cannot open " + path);
            }
        }
    }
    ~AckLog() {
        if (file_ != nullptr) {
            std::fclose(file_);
        }
    }
    AckLog(const AckLog&) = delete;
    AckLog& operator=(const AckLog&) = delete;

    void add(const std::string& id, int status) {
        if (file_ == nullptr) {
            return;
        }
        std::lock_guard lock(mutex_);
        std::fprintf(file_, "%s %d\n", id.c_str(), status);
        std::fflush(file_);
    }

private:
    std::mutex mutex_;
    std::FILE* file_ = nullptr;
};

struct Counters {
    std::int64_t attempted = 0;
    std::int64_t acked2xx = 0;
    std::int64_t accepted202 = 0;
    std::int64_t duplicate200 = 0;
    std::int64_t rejected4xx = 0;
    std::int64_t failed = 0;
    std::int64_t retries = 0;
    std::vector<double> latenciesMs;

    void merge(const Counters& other) {
        attempted += other.attempted;
        acked2xx += other.acked2xx;
        accepted202 += other.accepted202;
        duplicate200 += other.duplicate200;
        rejected4xx += other.rejected4xx;
        failed += other.failed;
        retries += other.retries;
        latenciesMs.insert(latenciesMs.end(), other.latenciesMs.begin(), other.latenciesMs.end());
    }
};

/// 408 and 429 are 4xx but mean "try again later"; the hub's own delivery retries them too.
bool retryable(int status) {
    return status <= 0 || status >= 500 || status == 408 || status == 429;
}

class Worker {
public:
    Worker(const Arguments& args, const Poco::URI& uri, AckLog& acks)
        : args_(args), uri_(uri), acks_(acks), session_(uri.getHost(), uri.getPort()) {
        session_.setKeepAlive(true);
        session_.setTimeout(Poco::Timespan(args.timeoutMs * 1000));
    }

    void run(std::atomic<std::int64_t>& next, Clock::time_point start) {
        const double intervalNs = args_.rate > 0 ? 1e9 / args_.rate : 0;
        while (true) {
            const std::int64_t n = next.fetch_add(1);
            if (n >= args_.events) {
                return;
            }
            Clock::time_point scheduled = Clock::now();
            if (intervalNs > 0) {
                // Open loop: the n-th event is due at a fixed time whatever happened before,
                // and its latency counts from then, so a stalled server shows up as latency
                // instead of silently lowering the offered load.
                scheduled = start + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                        static_cast<double>(n) * intervalNs));
                std::this_thread::sleep_until(scheduled);
            }
            sendOne(n, scheduled);
        }
    }

    Counters counters;

private:
    /// One POST; the status, or -1 when there was no answer (refused, reset, timed out).
    int post(const std::string& body) {
        try {
            Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST,
                                           uri_.getPathAndQuery(),
                                           Poco::Net::HTTPMessage::HTTP_1_1);
            request.setContentType("application/cloudevents+json");
            request.setContentLength(static_cast<std::streamsize>(body.size()));
            request.setKeepAlive(true);
            session_.sendRequest(request).write(body.data(),
                                                static_cast<std::streamsize>(body.size()));
            Poco::Net::HTTPResponse response;
            std::istream& in = session_.receiveResponse(response);
            // The body must be read to the end, or the next request on this connection would
            // read its leftovers as a response.
            Poco::NullOutputStream sink;
            Poco::StreamCopier::copyStream(in, sink);
            ++used_;
            return static_cast<int>(response.getStatus());
        } catch (const Poco::Exception&) {
        } catch (const std::exception&) {
        }
        session_.reset();
        const bool wasReused = used_ > 0;
        used_ = 0;
        return wasReused ? kStaleConnection : -1;
    }

    void sendOne(std::int64_t n, Clock::time_point scheduled) {
        const std::string body = makeEvent(args_, n);
        const auto deadline = Clock::now() + std::chrono::milliseconds(args_.retryUntilMs);
        auto backoff = std::chrono::milliseconds(10);
        bool staleRetried = false;
        ++counters.attempted;
        int status = -1;
        while (true) {
            status = post(body);
            if (status == kStaleConnection) {
                // The server may close an idle keep-alive connection just as we reuse it;
                // one immediate retry on a fresh connection is what every HTTP client does.
                status = -1;
                if (!staleRetried) {
                    staleRetried = true;
                    ++counters.retries;
                    continue;
                }
            }
            if (!retryable(status) || args_.retryUntilMs == 0 || Clock::now() >= deadline) {
                break;
            }
            ++counters.retries;
            std::this_thread::sleep_for(
                std::min<Clock::duration>(backoff, deadline - Clock::now()));
            backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
        }
        const auto finished = Clock::now();
        if (status > 0) {
            counters.latenciesMs.push_back(
                std::chrono::duration<double, std::milli>(finished - scheduled).count());
        }
        if (status >= 200 && status < 300) {
            ++counters.acked2xx;
            if (status == 202) {
                ++counters.accepted202;
            } else if (status == 200) {
                ++counters.duplicate200;
            }
            acks_.add(args_.idPrefix + "-" + std::to_string(n), status);
        } else if (status >= 400 && status < 500 && !retryable(status)) {
            ++counters.rejected4xx;
        } else {
            ++counters.failed;
        }
    }

    static constexpr int kStaleConnection = -2;

    const Arguments& args_;
    const Poco::URI& uri_;
    AckLog& acks_;
    Poco::Net::HTTPClientSession session_;
    std::int64_t used_ = 0; ///< requests answered on the current connection
};

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    // Nearest rank: the smallest value with at least p of the samples at or below it.
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

double round3(double value) {
    return std::round(value * 1000.0) / 1000.0;
}

} // namespace

int main(int argc, char** argv) {
    const Arguments args = parse(argc, argv);
    ::signal(SIGPIPE, SIG_IGN);
    try {
        const Poco::URI uri(args.url);
        if (uri.getScheme() != "http") {
            usageError("only http:// URLs are supported");
        }
        AckLog acks(args.ackedFile);
        std::vector<std::unique_ptr<Worker>> workers;
        for (int i = 0; i < args.concurrency; ++i) {
            workers.push_back(std::make_unique<Worker>(args, uri, acks));
        }
        std::atomic<std::int64_t> next{0};
        const auto start = Clock::now();
        {
            std::vector<std::jthread> threads;
            for (auto& worker : workers) {
                threads.emplace_back([&worker, &next, start] { worker->run(next, start); });
            }
        }
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

        Counters total;
        for (const auto& worker : workers) {
            total.merge(worker->counters);
        }
        std::sort(total.latenciesMs.begin(), total.latenciesMs.end());

        nlohmann::ordered_json summary;
        summary["attempted"] = total.attempted;
        summary["acked_2xx"] = total.acked2xx;
        summary["accepted_202"] = total.accepted202;
        summary["duplicate_200"] = total.duplicate200;
        summary["rejected_4xx"] = total.rejected4xx;
        summary["failed"] = total.failed;
        summary["retries"] = total.retries;
        summary["elapsed_s"] = round3(elapsed);
        summary["rate_per_s"] =
            round3(elapsed > 0 ? static_cast<double>(total.acked2xx) / elapsed : 0.0);
        summary["p50_ms"] = round3(percentile(total.latenciesMs, 0.50));
        summary["p99_ms"] = round3(percentile(total.latenciesMs, 0.99));
        summary["max_ms"] = round3(total.latenciesMs.empty() ? 0.0 : total.latenciesMs.back());
        std::cout << summary.dump() << std::endl;
        return 0;
    } catch (const Poco::Exception& e) {
        std::cerr << "ow-loadgen: " << e.displayText() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "ow-loadgen: " << e.what() << "\n";
        return 1;
    }
}
