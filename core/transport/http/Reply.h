// The answer channel of one request whose handler finishes later, on another thread (an event
// accepted once the journal has committed it), so the thread that read the request can go on
// serving other connections meanwhile.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "core/transport/http/HttpMessage.h"

namespace ow::transport::http {

/// Answers one request, from any thread, once: later calls are ignored. Copies share the
/// answer. If every copy is destroyed unanswered (a handler bug, an exception), the request is
/// answered 500, so that no client waits for an answer that will never come.
class Reply {
public:
    using Sink = std::function<void(Response)>;

    Reply() = default;
    explicit Reply(Sink sink);

    void operator()(Response response) const;
    [[nodiscard]] bool answered() const;

private:
    struct Slot {
        Sink sink;
        std::atomic<bool> done{false};
        ~Slot();
    };
    std::shared_ptr<Slot> slot_;
};

} // namespace ow::transport::http
