#ifndef AMIBRIDGE_CNATS_SHIM_H
#define AMIBRIDGE_CNATS_SHIM_H

#include <stdbool.h>
#include <stdint.h>
#include <nats/nats.h>

// The NATS C client (libnats-dev, Debian 12: 3.4.1). Its API is plain functions and structs, so
// Swift calls it directly; the wrappers below only spare Swift the C idioms it cannot spell.

// natsOptions_SetServers takes `const char **`; Swift's array bridging gives `UnsafeMutablePointer<UnsafePointer<CChar>?>`.
static inline natsStatus amib_nats_set_servers(natsOptions *opts, const char *const *servers, int count) {
    return natsOptions_SetServers(opts, (const char **)servers, count);
}

// The stream config's subject list is `const char **` too.
static inline void amib_js_stream_config_set_subjects(jsStreamConfig *cfg, const char *const *subjects, int count) {
    cfg->Subjects = (const char **)subjects;
    cfg->SubjectsLen = count;
}

// With a connected callback, natsConnection_Connect returns NATS_NOT_YET_CONNECTED at once when no
// server answers and keeps trying in the background (without one it blocks until connected). The
// bridge polls natsConnection_Status instead of being called back, so the callback does nothing.
static void amib_nats_connected_noop(natsConnection *nc, void *closure) {
    (void)nc;
    (void)closure;
}

static inline natsStatus amib_nats_retry_on_failed_connect_in_background(natsOptions *opts) {
    return natsOptions_SetRetryOnFailedConnect(opts, true, amib_nats_connected_noop, NULL);
}

#endif
