import CNats
import Foundation

/// A lease on one name, kept in a JetStream key-value bucket: at most one holder at a time, and a
/// holder that stops renewing (it died, or lost NATS) loses it `ttl` after its last renewal, when
/// the bucket expires the key. What makes one `amibridge deliver` process the active one for an
/// endpoint while the others wait to take over.
///
/// Every call blocks its thread for a round trip to the server.
public final class JetStreamLease: @unchecked Sendable {
    // @unchecked: the bucket handle is made once and freed in deinit; `revision` is only touched
    // by the one thread that holds the lease (the deliverer's fetcher).

    public let key: String
    /// Who holds it: written as the key's value, for operators (`nats kv get`).
    public let holder: String
    private let store: OpaquePointer
    private var revision: UInt64 = 0

    /// Binds the bucket, creating it (`ttl`, `replicas`, file storage) if it is missing.
    public init(connection: JetStreamConnection, bucket: String, key: String, holder: String, ttl: Duration, replicas: Int) throws(JetStreamError) {
        self.key = key
        self.holder = holder
        var store: OpaquePointer?
        var status = js_KeyValue(&store, connection.jetStream, bucket)
        if status == NATS_NOT_FOUND {
            var config = kvConfig()
            kvConfig_Init(&config)
            status = bucket.withCString { name in
                config.Bucket = name
                config.History = 1
                config.TTL = JetStreamConnection.nanoseconds(ttl)
                config.Replicas = Int32(replicas)
                config.StorageType = js_FileStorage
                return js_CreateKeyValue(&store, connection.jetStream, &config)
            }
        }
        guard status == NATS_OK, let store else { throw JetStreamError(.consume, "open key-value bucket \(bucket)", status: status) }
        self.store = store
    }

    deinit {
        kvStore_Destroy(store)
    }

    /// Takes the lease if nobody holds it; false if somebody does.
    public func acquireBlocking() throws(JetStreamError) -> Bool {
        var revision: UInt64 = 0
        let status = kvStore_CreateString(&revision, store, key, holder)
        if status == NATS_OK {
            self.revision = revision
            return true
        }
        // The key exists (a live holder): the server answers with a wrong-last-sequence error.
        if status == NATS_ERR { return false }
        throw JetStreamError(.consume, "acquire lease \(key)", status: status)
    }

    /// Keeps it for another `ttl`; false if it was lost (expired, and maybe taken by another).
    public func renewBlocking() throws(JetStreamError) -> Bool {
        var revision: UInt64 = 0
        let status = kvStore_UpdateString(&revision, store, key, holder, self.revision)
        if status == NATS_OK {
            self.revision = revision
            return true
        }
        if status == NATS_ERR { return false }
        throw JetStreamError(.consume, "renew lease \(key)", status: status)
    }

    /// Gives it up at once (graceful shutdown), so another holder need not wait for the expiry.
    public func releaseBlocking() {
        _ = kvStore_Delete(store, key)
    }

    /// Who holds it now, if anyone (status, tests).
    public func currentHolderBlocking() -> String? {
        var entry: OpaquePointer?
        guard kvStore_Get(&entry, store, key) == NATS_OK, let entry else { return nil }
        defer { kvEntry_Destroy(entry) }
        return kvEntry_ValueString(entry).map { String(cString: $0) }
    }
}
