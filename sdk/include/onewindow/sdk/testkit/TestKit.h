// The OneWindow SDK test kit: unit-test a plugin's components without a running hub.
// Standard library and POSIX only, header-only; link OneWindow::testkit (it needs threads).
//
// - TestRegistry:       the plugin's own registration, components created by its factories
// - TestServices:       sdk::Services in memory (logger, metrics, secrets, FakeClock, HTTP)
// - configFor:          a Config checked against a ConfigSpec, defaults filled as the hub does
// - TestProcessContext: a processor's state, emitted events and timers, with the hub's
//                       commit/rollback rule and timers that fire as the fake clock advances
// - TestSourceContext:  what a source emits and says of its system (unavailable, available)
// - deliver, makeEvent: feed events to a sink and read its Result
// - FakeHttpPeer:       a department system on loopback that records requests and answers
//                       as programmed; PlainHttpClient reaches it through services.http
// - catalogProblems:    an event checked against the center's event catalog (its JSON Schema)
//
// See sdk/README.md ("Test it with the test kit") and sdk/examples/department-adapter/test/.
#pragma once

#include "onewindow/sdk/testkit/CatalogCheck.h"
#include "onewindow/sdk/testkit/FakeClock.h"
#include "onewindow/sdk/testkit/FakeHttpPeer.h"
#include "onewindow/sdk/testkit/Harness.h"
#include "onewindow/sdk/testkit/PlainHttpClient.h"
#include "onewindow/sdk/testkit/TestConfig.h"
#include "onewindow/sdk/testkit/TestProcessContext.h"
#include "onewindow/sdk/testkit/TestRegistry.h"
#include "onewindow/sdk/testkit/TestServices.h"
#include "onewindow/sdk/testkit/TestSourceContext.h"
