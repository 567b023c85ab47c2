#include "core/util/ThreadName.h"

#include <pthread.h>

namespace ow::util {

void nameThisThread(const std::string& name) {
    // Best effort: a name is for people reading thread lists, never worth an error.
    (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

} // namespace ow::util
