#include "core/transport/http/Reply.h"

#include "core/transport/http/ResponseFormat.h"

namespace ow::transport::http {

Reply::Reply(Sink sink) : slot_(std::make_shared<Slot>()) {
    slot_->sink = std::move(sink);
}

void Reply::operator()(Response response) const {
    if (!slot_ || slot_->done.exchange(true)) return;
    slot_->sink(std::move(response));
}

bool Reply::answered() const {
    return slot_ && slot_->done.load();
}

Reply::Slot::~Slot() {
    if (done.exchange(true) || !sink) return;
    try {
        sink(internalError());
    } catch (...) {
        // A destructor: the connection is closed by its deadline instead.
    }
}

} // namespace ow::transport::http
